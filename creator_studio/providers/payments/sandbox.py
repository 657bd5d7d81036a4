"""The sandbox payments account: Stripe's objects kept in the workspace database, so every tool has real effects.

It behaves like Stripe where it matters to the studio: idempotency keys (the same key returns the first
object), test payment methods (`pm_card_chargeDeclined` fails), a failed subscription payment makes the
subscription `past_due` and a later successful one makes it `active` again. Methods take a few extra
keyword arguments Stripe does not have (`created`, `status`, ...) so the sandbox world can be seeded with history.
"""

from __future__ import annotations

from contextlib import AbstractContextManager
from datetime import datetime, timedelta
from typing import TypeVar

from sqlalchemy import JSON, Boolean, Float, Integer, String, Text, UniqueConstraint, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from creator_studio.errors import Conflict, InvalidInput, NotFound
from creator_studio.providers.payments.base import (
    MAX_AMOUNT,
    PAYMENT_METHOD_DECLINED,
    PAYMENT_METHOD_OK,
    Charge,
    CheckoutSession,
    CheckoutStatus,
    Coupon,
    CouponDuration,
    Customer,
    PaymentLink,
    Price,
    PriceData,
    Product,
    Subscription,
    SubscriptionStatus,
    check_currency,
)
from creator_studio.store.batching import BatchableSessions
from creator_studio.store.db import Base, Database, UTCDateTime, new_id, utcnow

_LINK_URL = "https://buy.stripe.com/test_{id}"


class _Keyed:
    """Columns every sandbox object has: its workspace (Stripe account) and the key of the request that made it."""

    workspace_id: Mapped[str] = mapped_column(String(64), index=True)
    idempotency_key: Mapped[str] = mapped_column(String(128))


class SandboxProductRow(_Keyed, Base):
    __tablename__ = "sandbox_payments_products"
    __table_args__ = (UniqueConstraint("workspace_id", "idempotency_key"),)

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str] = mapped_column(String(250))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    default_price_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    created: Mapped[datetime] = mapped_column(UTCDateTime())


class SandboxPriceRow(_Keyed, Base):
    __tablename__ = "sandbox_payments_prices"
    __table_args__ = (UniqueConstraint("workspace_id", "idempotency_key"),)

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    product_id: Mapped[str] = mapped_column(String(64), index=True)
    unit_amount: Mapped[int] = mapped_column(Integer)
    currency: Mapped[str] = mapped_column(String(3))
    interval: Mapped[str | None] = mapped_column(String(8), nullable=True)  # month | year | None (one-time)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created: Mapped[datetime] = mapped_column(UTCDateTime())


class SandboxPaymentLinkRow(_Keyed, Base):
    __tablename__ = "sandbox_payments_links"
    __table_args__ = (UniqueConstraint("workspace_id", "idempotency_key"),)

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    price_id: Mapped[str] = mapped_column(String(64))
    url: Mapped[str] = mapped_column(String(300))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created: Mapped[datetime] = mapped_column(UTCDateTime())


class SandboxCustomerRow(_Keyed, Base):
    __tablename__ = "sandbox_payments_customers"
    __table_args__ = (UniqueConstraint("workspace_id", "idempotency_key"),)

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    email: Mapped[str] = mapped_column(String(320), index=True)
    name: Mapped[str] = mapped_column(String(200))
    created: Mapped[datetime] = mapped_column(UTCDateTime())


class SandboxSubscriptionRow(_Keyed, Base):
    __tablename__ = "sandbox_payments_subscriptions"
    __table_args__ = (UniqueConstraint("workspace_id", "idempotency_key"),)

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    customer_id: Mapped[str] = mapped_column(String(64), index=True)
    price_id: Mapped[str] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(16))  # active | trialing | past_due | canceled
    cancel_at_period_end: Mapped[bool] = mapped_column(Boolean, default=False)
    created: Mapped[datetime] = mapped_column(UTCDateTime())
    canceled_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    trial_end: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)


class SandboxCouponRow(_Keyed, Base):
    __tablename__ = "sandbox_payments_coupons"
    __table_args__ = (UniqueConstraint("workspace_id", "idempotency_key"),)

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str | None] = mapped_column(String(100), nullable=True)
    percent_off: Mapped[float] = mapped_column(Float)
    duration: Mapped[str] = mapped_column(String(16))  # once | repeating | forever
    duration_in_months: Mapped[int | None] = mapped_column(Integer, nullable=True)
    applies_to_products: Mapped[list[str]] = mapped_column(JSON, default=list)
    created: Mapped[datetime] = mapped_column(UTCDateTime())


class SandboxChargeRow(_Keyed, Base):
    __tablename__ = "sandbox_payments_charges"
    __table_args__ = (UniqueConstraint("workspace_id", "idempotency_key"),)

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    customer_id: Mapped[str] = mapped_column(String(64), index=True)
    amount: Mapped[int] = mapped_column(Integer)
    currency: Mapped[str] = mapped_column(String(3))
    status: Mapped[str] = mapped_column(String(16))  # succeeded | failed
    failure_message: Mapped[str | None] = mapped_column(Text, nullable=True)
    description: Mapped[str | None] = mapped_column(Text, nullable=True)
    subscription_id: Mapped[str | None] = mapped_column(String(64), nullable=True, index=True)
    price_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    billing_reason: Mapped[str | None] = mapped_column(String(32), nullable=True)
    created: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)


class SandboxCheckoutSessionRow(_Keyed, Base):
    __tablename__ = "sandbox_payments_checkout_sessions"
    __table_args__ = (UniqueConstraint("workspace_id", "idempotency_key"),)

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    price_id: Mapped[str] = mapped_column(String(64))
    payment_link_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    customer_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    status: Mapped[str] = mapped_column(String(16))  # open | complete | expired
    amount_total: Mapped[int] = mapped_column(Integer)
    currency: Mapped[str] = mapped_column(String(3))
    created: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)


K = TypeVar("K", bound=_Keyed)


class SandboxPaymentsProvider:
    def __init__(self, db: Database) -> None:
        self._db = db
        self._sessions = BatchableSessions(db, "payments")

    def batch(self) -> AbstractContextManager[None]:
        """Run many writes as one transaction (seeding a world): all or nothing, and much faster."""
        return self._sessions.batch()

    def _session(self) -> AbstractContextManager[Session]:
        return self._sessions.session()

    # Catalogue --------------------------------------------------------------------------------------
    def create_product(
        self,
        workspace_id: str,
        name: str,
        *,
        default_price: PriceData,
        idempotency_key: str,
        created: datetime | None = None,
    ) -> Product:
        """A product and its default price in one request (Stripe's `default_price_data`)."""
        if not name.strip():
            raise InvalidInput("A product needs a name.")
        _check_price_data(default_price)
        with self._session() as session:
            existing = _replay(session, SandboxProductRow, workspace_id, idempotency_key)
            if existing is not None:
                return _product(existing)
            when = created or utcnow()
            product = SandboxProductRow(
                id=new_id("prod"),
                workspace_id=workspace_id,
                name=name.strip(),
                active=True,
                created=when,
                idempotency_key=idempotency_key,
            )
            price = SandboxPriceRow(
                id=new_id("price"),
                workspace_id=workspace_id,
                product_id=product.id,
                unit_amount=default_price.unit_amount,
                currency=default_price.currency,
                interval=default_price.interval,
                active=True,
                created=when,
                idempotency_key=f"{idempotency_key}:default_price",
            )
            product.default_price_id = price.id
            _add(session, product, price)
            return _product(product)

    def get_product(self, workspace_id: str, product_id: str) -> Product:
        with self._session() as session:
            return _product(_get(session, SandboxProductRow, workspace_id, product_id, "product"))

    def list_products(self, workspace_id: str) -> list[Product]:
        with self._session() as session:
            query = select(SandboxProductRow).where(SandboxProductRow.workspace_id == workspace_id)
            return [_product(r) for r in session.scalars(query.order_by(SandboxProductRow.created))]

    def create_price(
        self,
        workspace_id: str,
        product_id: str,
        price: PriceData,
        *,
        idempotency_key: str,
        created: datetime | None = None,
    ) -> Price:
        _check_price_data(price)
        with self._session() as session:
            existing = _replay(session, SandboxPriceRow, workspace_id, idempotency_key)
            if existing is not None:
                return _price(existing)
            _get(session, SandboxProductRow, workspace_id, product_id, "product")
            row = SandboxPriceRow(
                id=new_id("price"),
                workspace_id=workspace_id,
                product_id=product_id,
                unit_amount=price.unit_amount,
                currency=price.currency,
                interval=price.interval,
                active=True,
                created=created or utcnow(),
                idempotency_key=idempotency_key,
            )
            _add(session, row)
            return _price(row)

    def get_price(self, workspace_id: str, price_id: str) -> Price:
        with self._session() as session:
            return _price(_get(session, SandboxPriceRow, workspace_id, price_id, "price"))

    def list_prices(self, workspace_id: str, *, product_id: str | None = None) -> list[Price]:
        with self._session() as session:
            query = select(SandboxPriceRow).where(SandboxPriceRow.workspace_id == workspace_id)
            if product_id is not None:
                query = query.where(SandboxPriceRow.product_id == product_id)
            return [_price(r) for r in session.scalars(query.order_by(SandboxPriceRow.created))]

    def create_payment_link(
        self, workspace_id: str, price_id: str, *, idempotency_key: str, created: datetime | None = None
    ) -> PaymentLink:
        with self._session() as session:
            existing = _replay(session, SandboxPaymentLinkRow, workspace_id, idempotency_key)
            if existing is not None:
                return _link(existing)
            price = _get(session, SandboxPriceRow, workspace_id, price_id, "price")
            if not price.active:
                raise Conflict(f"Price {price_id} is archived; create a new price first.")
            link_id = new_id("plink")
            row = SandboxPaymentLinkRow(
                id=link_id,
                workspace_id=workspace_id,
                price_id=price_id,
                url=_LINK_URL.format(id=link_id),
                active=True,
                created=created or utcnow(),
                idempotency_key=idempotency_key,
            )
            _add(session, row)
            return _link(row)

    def list_payment_links(self, workspace_id: str) -> list[PaymentLink]:
        with self._session() as session:
            query = select(SandboxPaymentLinkRow).where(SandboxPaymentLinkRow.workspace_id == workspace_id)
            return [_link(r) for r in session.scalars(query.order_by(SandboxPaymentLinkRow.created))]

    def create_coupon(
        self,
        workspace_id: str,
        percent_off: float,
        duration: CouponDuration,
        *,
        idempotency_key: str,
        duration_in_months: int | None = None,
        applies_to_products: list[str] | None = None,
        name: str | None = None,
        created: datetime | None = None,
    ) -> Coupon:
        # Stripe's own rules for coupons, so the sandbox rejects what the real API would.
        if not 0 < percent_off <= 100:
            raise InvalidInput(f"percent_off must be above 0 and at most 100 (got {percent_off}).")
        if duration not in ("once", "repeating", "forever"):
            raise InvalidInput(f"duration {duration!r} is not one of once, repeating, forever.")
        if (duration == "repeating") != (duration_in_months is not None):
            raise InvalidInput("duration_in_months is required with duration 'repeating' and only allowed with it.")
        if duration_in_months is not None and duration_in_months < 1:
            raise InvalidInput(f"duration_in_months must be at least 1 (got {duration_in_months}).")
        with self._session() as session:
            existing = _replay(session, SandboxCouponRow, workspace_id, idempotency_key)
            if existing is not None:
                return _coupon(existing)
            for product_id in applies_to_products or []:
                _get(session, SandboxProductRow, workspace_id, product_id, "product")
            row = SandboxCouponRow(
                id=new_id("coupon"),
                workspace_id=workspace_id,
                name=name,
                percent_off=float(percent_off),
                duration=duration,
                duration_in_months=duration_in_months,
                applies_to_products=list(applies_to_products or []),
                created=created or utcnow(),
                idempotency_key=idempotency_key,
            )
            _add(session, row)
            return _coupon(row)

    def list_coupons(self, workspace_id: str) -> list[Coupon]:
        with self._session() as session:
            query = select(SandboxCouponRow).where(SandboxCouponRow.workspace_id == workspace_id)
            return [_coupon(r) for r in session.scalars(query.order_by(SandboxCouponRow.created))]

    # Customers and billing --------------------------------------------------------------------------
    def create_customer(
        self, workspace_id: str, email: str, name: str, *, idempotency_key: str, created: datetime | None = None
    ) -> Customer:
        if "@" not in email:
            raise InvalidInput(f"{email!r} is not an email address.")
        with self._session() as session:
            existing = _replay(session, SandboxCustomerRow, workspace_id, idempotency_key)
            if existing is not None:
                return _customer(existing)
            row = SandboxCustomerRow(
                id=new_id("cus"),
                workspace_id=workspace_id,
                email=email.strip().lower(),
                name=name.strip(),
                created=created or utcnow(),
                idempotency_key=idempotency_key,
            )
            _add(session, row)
            return _customer(row)

    def get_customer(self, workspace_id: str, customer_id: str) -> Customer:
        with self._session() as session:
            return _customer(_get(session, SandboxCustomerRow, workspace_id, customer_id, "customer"))

    def list_customers(self, workspace_id: str) -> list[Customer]:
        with self._session() as session:
            query = select(SandboxCustomerRow).where(SandboxCustomerRow.workspace_id == workspace_id)
            return [_customer(r) for r in session.scalars(query.order_by(SandboxCustomerRow.created))]

    def create_subscription(
        self,
        workspace_id: str,
        customer_id: str,
        price_id: str,
        *,
        idempotency_key: str,
        trial_period_days: int | None = None,
        created: datetime | None = None,
    ) -> Subscription:
        with self._session() as session:
            existing = _replay(session, SandboxSubscriptionRow, workspace_id, idempotency_key)
            if existing is not None:
                return _subscription(existing)
            _get(session, SandboxCustomerRow, workspace_id, customer_id, "customer")
            price = _get(session, SandboxPriceRow, workspace_id, price_id, "price")
            if price.interval is None:
                raise InvalidInput(f"Price {price_id} is one-time; a subscription needs a recurring price.")
            when = created or utcnow()
            trial_end = when + timedelta(days=trial_period_days) if trial_period_days else None
            row = SandboxSubscriptionRow(
                id=new_id("sub"),
                workspace_id=workspace_id,
                customer_id=customer_id,
                price_id=price_id,
                status="trialing" if trial_end else "active",
                cancel_at_period_end=False,
                created=when,
                trial_end=trial_end,
                idempotency_key=idempotency_key,
            )
            _add(session, row)
            return _subscription(row)

    def update_subscription(
        self, workspace_id: str, subscription_id: str, *, cancel_at_period_end: bool, idempotency_key: str
    ) -> Subscription:
        # Setting a state is idempotent by nature: the same update twice leaves one change.
        with self._session() as session:
            row = _get(session, SandboxSubscriptionRow, workspace_id, subscription_id, "subscription")
            if row.status == "canceled":
                raise Conflict(f"Subscription {subscription_id} is canceled and cannot be updated.")
            row.cancel_at_period_end = cancel_at_period_end
            return _subscription(row)

    def cancel_subscription(
        self, workspace_id: str, subscription_id: str, *, idempotency_key: str, canceled_at: datetime | None = None
    ) -> Subscription:
        with self._session() as session:
            row = _get(session, SandboxSubscriptionRow, workspace_id, subscription_id, "subscription")
            if row.status != "canceled":  # canceling twice is one cancellation
                row.status, row.canceled_at = "canceled", canceled_at or utcnow()
            return _subscription(row)

    def list_subscriptions(
        self, workspace_id: str, *, status: SubscriptionStatus | None = None, customer_id: str | None = None
    ) -> list[Subscription]:
        with self._session() as session:
            query = select(SandboxSubscriptionRow).where(SandboxSubscriptionRow.workspace_id == workspace_id)
            if status is not None:
                query = query.where(SandboxSubscriptionRow.status == status)
            if customer_id is not None:
                query = query.where(SandboxSubscriptionRow.customer_id == customer_id)
            return [_subscription(r) for r in session.scalars(query.order_by(SandboxSubscriptionRow.created))]

    def create_charge(
        self,
        workspace_id: str,
        customer_id: str,
        amount: int,
        currency: str,
        *,
        idempotency_key: str,
        payment_method: str = PAYMENT_METHOD_OK,
        description: str | None = None,
        subscription_id: str | None = None,
        price_id: str | None = None,
        created: datetime | None = None,
    ) -> Charge:
        currency = check_currency(currency)
        if not 0 < amount <= MAX_AMOUNT:
            raise InvalidInput(f"amount must be a positive number of minor units (got {amount}).")
        if payment_method not in (PAYMENT_METHOD_OK, PAYMENT_METHOD_DECLINED):
            raise InvalidInput(f"Unknown test payment method {payment_method!r}.")
        with self._session() as session:
            existing = _replay(session, SandboxChargeRow, workspace_id, idempotency_key)
            if existing is not None:
                return _charge(existing)
            _get(session, SandboxCustomerRow, workspace_id, customer_id, "customer")
            succeeded = payment_method == PAYMENT_METHOD_OK
            billing_reason = None
            if subscription_id is not None:
                subscription = _get(session, SandboxSubscriptionRow, workspace_id, subscription_id, "subscription")
                if subscription.customer_id != customer_id:
                    raise InvalidInput(f"Subscription {subscription_id} belongs to another customer.")
                billing_reason = (
                    "subscription_cycle" if self._has_paid(session, subscription_id) else "subscription_create"
                )
                # Stripe's dunning in one line: a failed renewal makes the subscription past_due, a paid one
                # brings it back.
                if subscription.status != "canceled":
                    subscription.status = "active" if succeeded else "past_due"
            row = SandboxChargeRow(
                id=new_id("ch"),
                workspace_id=workspace_id,
                customer_id=customer_id,
                amount=amount,
                currency=currency,
                status="succeeded" if succeeded else "failed",
                failure_message=None if succeeded else "Your card was declined.",
                description=description,
                subscription_id=subscription_id,
                price_id=price_id,
                billing_reason=billing_reason,
                created=created or utcnow(),
                idempotency_key=idempotency_key,
            )
            _add(session, row)
            return _charge(row)

    def list_charges(
        self,
        workspace_id: str,
        *,
        since: datetime | None = None,
        until: datetime | None = None,
        customer_id: str | None = None,
    ) -> list[Charge]:
        with self._session() as session:
            query = select(SandboxChargeRow).where(SandboxChargeRow.workspace_id == workspace_id)
            if since is not None:
                query = query.where(SandboxChargeRow.created >= since)
            if until is not None:
                query = query.where(SandboxChargeRow.created <= until)
            if customer_id is not None:
                query = query.where(SandboxChargeRow.customer_id == customer_id)
            return [_charge(r) for r in session.scalars(query.order_by(SandboxChargeRow.created))]

    def create_checkout_session(
        self,
        workspace_id: str,
        price_id: str,
        *,
        idempotency_key: str,
        customer_id: str | None = None,
        payment_link_id: str | None = None,
        status: CheckoutStatus = "open",
        created: datetime | None = None,
    ) -> CheckoutSession:
        with self._session() as session:
            existing = _replay(session, SandboxCheckoutSessionRow, workspace_id, idempotency_key)
            if existing is not None:
                return _checkout(existing)
            price = _get(session, SandboxPriceRow, workspace_id, price_id, "price")
            if customer_id is not None:
                _get(session, SandboxCustomerRow, workspace_id, customer_id, "customer")
            if payment_link_id is not None:
                _get(session, SandboxPaymentLinkRow, workspace_id, payment_link_id, "payment link")
            row = SandboxCheckoutSessionRow(
                id=new_id("cs"),
                workspace_id=workspace_id,
                price_id=price_id,
                payment_link_id=payment_link_id,
                customer_id=customer_id,
                status=status,
                amount_total=price.unit_amount,
                currency=price.currency,
                created=created or utcnow(),
                idempotency_key=idempotency_key,
            )
            _add(session, row)
            return _checkout(row)

    def list_checkout_sessions(
        self, workspace_id: str, *, since: datetime | None = None, until: datetime | None = None
    ) -> list[CheckoutSession]:
        with self._session() as session:
            query = select(SandboxCheckoutSessionRow).where(SandboxCheckoutSessionRow.workspace_id == workspace_id)
            if since is not None:
                query = query.where(SandboxCheckoutSessionRow.created >= since)
            if until is not None:
                query = query.where(SandboxCheckoutSessionRow.created <= until)
            return [_checkout(r) for r in session.scalars(query.order_by(SandboxCheckoutSessionRow.created))]

    @staticmethod
    def _has_paid(session: Session, subscription_id: str) -> bool:
        if ("paid", subscription_id) in _added(session):
            return True
        if "pinned" in session.info and subscription_id in _added_in_batch(session):
            return False  # created in this batch: only its own charges, all indexed above, can be paid
        with session.no_autoflush:  # paid charges this session added are in the index
            return (
                session.scalar(
                    select(SandboxChargeRow.id)
                    .where(SandboxChargeRow.subscription_id == subscription_id, SandboxChargeRow.status == "succeeded")
                    .limit(1)
                )
                is not None
            )


def _check_price_data(price: PriceData) -> None:
    check_currency(price.currency)
    if price.currency != price.currency.lower():
        raise InvalidInput(f"currency {price.currency!r} must be lower case, like Stripe's ({price.currency.lower()}).")
    if not 0 < price.unit_amount <= MAX_AMOUNT:
        raise InvalidInput(f"unit_amount must be a positive number of minor units (got {price.unit_amount}).")
    if price.interval not in (None, "month", "year"):
        raise InvalidInput(f"interval {price.interval!r} is not month, year or none.")


def _replay(session: Session, row_type: type[K], workspace_id: str, idempotency_key: str) -> K | None:
    """The object an earlier request with this key created, if any (Stripe's idempotent replay)."""
    added = _added(session).get((row_type.__name__, workspace_id, idempotency_key))
    if isinstance(added, row_type):
        return added
    if "pinned" in session.info:
        # In a batch, one query per table tells which keys exist before it; most lookups end here.
        stored = session.info.setdefault("stored_keys", {})
        if (row_type.__name__, workspace_id) not in stored:
            with session.no_autoflush:
                stored[(row_type.__name__, workspace_id)] = set(
                    session.scalars(select(row_type.idempotency_key).where(row_type.workspace_id == workspace_id))
                )
        if idempotency_key not in stored[(row_type.__name__, workspace_id)]:
            return None
    # Every row this session added is in the index above, so the database need not be flushed to answer.
    with session.no_autoflush:
        return session.scalar(
            select(row_type).where(row_type.workspace_id == workspace_id, row_type.idempotency_key == idempotency_key)
        )


def _get(session: Session, row_type: type[K], workspace_id: str, object_id: str, noun: str) -> K:
    row = session.get(row_type, object_id)
    if row is None or row.workspace_id != workspace_id:
        raise NotFound(f"No {noun} {object_id!r} in this workspace's payments account.")
    return row


def _product(row: SandboxProductRow) -> Product:
    return Product.model_validate(row, from_attributes=True)


def _price(row: SandboxPriceRow) -> Price:
    return Price.model_validate(row, from_attributes=True)


def _link(row: SandboxPaymentLinkRow) -> PaymentLink:
    return PaymentLink.model_validate(row, from_attributes=True)


def _customer(row: SandboxCustomerRow) -> Customer:
    return Customer.model_validate(row, from_attributes=True)


def _subscription(row: SandboxSubscriptionRow) -> Subscription:
    return Subscription.model_validate(row, from_attributes=True)


def _coupon(row: SandboxCouponRow) -> Coupon:
    return Coupon.model_validate(row, from_attributes=True)


def _charge(row: SandboxChargeRow) -> Charge:
    return Charge.model_validate(row, from_attributes=True)


def _checkout(row: SandboxCheckoutSessionRow) -> CheckoutSession:
    return CheckoutSession.model_validate(row, from_attributes=True)


def _add(session: Session, *rows: _Keyed) -> None:
    """Add rows and index them by idempotency key, so lookups in this session need no flush."""
    session.add_all(rows)
    index = _added(session)
    for row in rows:
        index[(type(row).__name__, row.workspace_id, row.idempotency_key)] = row
        if isinstance(row, SandboxSubscriptionRow):
            _added_in_batch(session).add(row.id)
        if isinstance(row, SandboxChargeRow) and row.subscription_id and row.status == "succeeded":
            index[("paid", row.subscription_id)] = row
    pinned = session.info.get("pinned")
    if pinned is not None:
        pinned.extend(rows)


def _added_in_batch(session: Session) -> set[str]:
    ids: set[str] = session.info.setdefault("subscriptions_added", set())
    return ids


def _added(session: Session) -> dict[tuple[str, ...], _Keyed]:
    index: dict[tuple[str, ...], _Keyed] = session.info.setdefault("payments_added", {})
    return index
