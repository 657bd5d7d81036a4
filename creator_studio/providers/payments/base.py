"""The payments interface, shaped like Stripe's API so that a `stripe`-SDK adapter can implement it as is.

Stripe's semantics throughout: ids carry Stripe's prefixes (`prod_`, `price_`, `plink_`, `cus_`, `sub_`,
`coupon_`, `ch_`, `cs_`), amounts are integers in the currency's minor unit (2900 is $29.00, 500 is ¥500),
currencies are lower-case ISO 4217 codes, and every write carries an idempotency key (Stripe's
`Idempotency-Key` header): the same key again returns the object the first request created.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Literal, Protocol

from pydantic import BaseModel, Field, computed_field

from creator_studio.errors import InvalidInput

Interval = Literal["month", "year"]
SubscriptionStatus = Literal["active", "trialing", "past_due", "canceled"]
CouponDuration = Literal["once", "repeating", "forever"]
ChargeStatus = Literal["succeeded", "failed"]
CheckoutStatus = Literal["open", "complete", "expired"]
BillingReason = Literal["subscription_create", "subscription_cycle"]

# Stripe's test payment methods: the declined one makes a charge fail the way a real declined card does.
PAYMENT_METHOD_OK = "pm_card_visa"
PAYMENT_METHOD_DECLINED = "pm_card_chargeDeclined"

# Digits after the decimal point per currency (Stripe's list of zero-decimal currencies; 2 for the rest).
CURRENCY_DECIMALS: dict[str, int] = {
    **dict.fromkeys(
        [
            "usd",
            "eur",
            "gbp",
            "cad",
            "aud",
            "nzd",
            "chf",
            "sek",
            "nok",
            "dkk",
            "pln",
            "czk",
            "huf",
            "ron",
            "bgn",
            "sgd",
            "hkd",
            "inr",
            "brl",
            "mxn",
            "zar",
            "ils",
            "aed",
            "try",
            "thb",
            "myr",
            "php",
            "idr",
            "cny",
            "twd",
        ],
        2,
    ),
    **dict.fromkeys(["jpy", "krw", "vnd", "clp", "pyg", "ugx", "xaf", "xof"], 0),
}
_SYMBOLS = {"usd": "$", "eur": "€", "gbp": "£", "jpy": "¥", "inr": "₹", "krw": "₩"}
# Stripe's ceiling for one amount: 99,999,999 in the minor unit.
MAX_AMOUNT = 99_999_999


def check_currency(currency: str) -> str:
    """A supported currency, lower-cased like Stripe's; anything else is a clear error."""
    code = currency.strip().lower()
    if code not in CURRENCY_DECIMALS:
        raise InvalidInput(f"currency {currency!r} is not a supported ISO 4217 code; use one like usd, eur or gbp.")
    return code


def to_minor_units(amount: Decimal | int | float | str, currency: str) -> int:
    """29 usd -> 2900; 500 jpy -> 500. Rejects non-positive amounts and more decimals than the currency has."""
    code = check_currency(currency)
    try:
        value = Decimal(str(amount))
    except InvalidOperation as exc:
        raise InvalidInput(f"price {amount!r} is not a number; give it in {code.upper()}, e.g. 29 or 29.99.") from exc
    if not value.is_finite() or value <= 0:
        raise InvalidInput(f"price must be greater than 0 (got {amount}); give it in {code.upper()}, e.g. 29.")
    decimals = CURRENCY_DECIMALS[code]
    minor = value.scaleb(decimals)
    if minor != minor.to_integral_value():
        raise InvalidInput(f"price {amount} has more than {decimals} decimals, which {code.upper()} does not allow.")
    if minor > MAX_AMOUNT:
        raise InvalidInput(f"price {amount} {code.upper()} is above the payment provider's limit.")
    return int(minor)


def format_money(amount_minor: int | float, currency: str) -> str:
    """2900 usd -> "$29.00"; 1500 chf -> "15.00 CHF"."""
    decimals = CURRENCY_DECIMALS.get(currency, 2)
    major = Decimal(str(amount_minor)).scaleb(-decimals)
    shown = f"{major:,.{decimals}f}"
    symbol = _SYMBOLS.get(currency)
    if symbol:
        return f"-{symbol}{shown[1:]}" if shown.startswith("-") else f"{symbol}{shown}"
    return f"{shown} {currency.upper()}"


class Money(BaseModel):
    amount: int = Field(description="In the currency's minor unit (cents for USD).")
    currency: str

    @computed_field  # type: ignore[prop-decorator]
    @property
    def formatted(self) -> str:
        return format_money(self.amount, self.currency)


class PriceData(BaseModel):
    """What a new price is: Stripe's `default_price_data`/`price_data` (interval None = one-time)."""

    unit_amount: int
    currency: str
    interval: Interval | None = None


class Product(BaseModel):
    id: str
    name: str
    active: bool
    default_price_id: str | None
    created: datetime


class Price(BaseModel):
    id: str
    product_id: str
    unit_amount: int
    currency: str
    interval: Interval | None = Field(description="month or year for a recurring price; None for one-time.")
    active: bool
    created: datetime

    @property
    def recurring(self) -> bool:
        return self.interval is not None

    def describe(self) -> str:
        """ "$29.00/month (USD)" or "$199.00 one-time (USD)"."""
        cadence = f"/{self.interval}" if self.interval else " one-time"
        return f"{format_money(self.unit_amount, self.currency)}{cadence} ({self.currency.upper()})"


class PaymentLink(BaseModel):
    id: str
    price_id: str
    url: str
    active: bool
    created: datetime


class Customer(BaseModel):
    id: str
    email: str
    name: str
    created: datetime


class Subscription(BaseModel):
    id: str
    customer_id: str
    price_id: str
    status: SubscriptionStatus
    cancel_at_period_end: bool
    created: datetime
    canceled_at: datetime | None
    trial_end: datetime | None


class Coupon(BaseModel):
    id: str
    name: str | None
    percent_off: float
    duration: CouponDuration
    duration_in_months: int | None
    applies_to_products: list[str] = Field(description="Empty: the coupon applies to every product.")
    created: datetime


class Charge(BaseModel):
    id: str
    customer_id: str
    amount: int
    currency: str
    status: ChargeStatus
    failure_message: str | None
    description: str | None
    subscription_id: str | None
    price_id: str | None
    billing_reason: BillingReason | None = Field(
        description="subscription_create for a subscription's first payment, subscription_cycle for renewals, "
        "None for one-time payments."
    )
    created: datetime

    @property
    def is_purchase(self) -> bool:
        """A new purchase (one-time, or a subscription's first payment), not a renewal."""
        return self.status == "succeeded" and self.billing_reason != "subscription_cycle"


class CheckoutSession(BaseModel):
    id: str
    price_id: str
    payment_link_id: str | None
    customer_id: str | None
    status: CheckoutStatus
    amount_total: int
    currency: str
    created: datetime


class PaymentsProvider(Protocol):
    """Every write takes an idempotency key: the same key twice creates one object and returns it both times.

    Reads never return another workspace's objects (a workspace is one Stripe account).
    """

    # Catalogue --------------------------------------------------------------------------------------
    def create_product(
        self, workspace_id: str, name: str, *, default_price: PriceData, idempotency_key: str
    ) -> Product: ...

    def get_product(self, workspace_id: str, product_id: str) -> Product: ...

    def list_products(self, workspace_id: str) -> list[Product]: ...

    def create_price(self, workspace_id: str, product_id: str, price: PriceData, *, idempotency_key: str) -> Price: ...

    def get_price(self, workspace_id: str, price_id: str) -> Price: ...

    def list_prices(self, workspace_id: str, *, product_id: str | None = None) -> list[Price]: ...

    def create_payment_link(self, workspace_id: str, price_id: str, *, idempotency_key: str) -> PaymentLink: ...

    def list_payment_links(self, workspace_id: str) -> list[PaymentLink]: ...

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
    ) -> Coupon: ...

    def list_coupons(self, workspace_id: str) -> list[Coupon]: ...

    # Customers and billing --------------------------------------------------------------------------
    def create_customer(self, workspace_id: str, email: str, name: str, *, idempotency_key: str) -> Customer: ...

    def get_customer(self, workspace_id: str, customer_id: str) -> Customer: ...

    def list_customers(self, workspace_id: str) -> list[Customer]: ...

    def create_subscription(
        self,
        workspace_id: str,
        customer_id: str,
        price_id: str,
        *,
        idempotency_key: str,
        trial_period_days: int | None = None,
    ) -> Subscription: ...

    def update_subscription(
        self, workspace_id: str, subscription_id: str, *, cancel_at_period_end: bool, idempotency_key: str
    ) -> Subscription: ...

    def cancel_subscription(self, workspace_id: str, subscription_id: str, *, idempotency_key: str) -> Subscription: ...

    def list_subscriptions(
        self, workspace_id: str, *, status: SubscriptionStatus | None = None, customer_id: str | None = None
    ) -> list[Subscription]: ...

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
    ) -> Charge: ...

    def list_charges(
        self,
        workspace_id: str,
        *,
        since: datetime | None = None,
        until: datetime | None = None,
        customer_id: str | None = None,
    ) -> list[Charge]: ...

    def create_checkout_session(
        self,
        workspace_id: str,
        price_id: str,
        *,
        idempotency_key: str,
        customer_id: str | None = None,
        payment_link_id: str | None = None,
    ) -> CheckoutSession: ...

    def list_checkout_sessions(
        self, workspace_id: str, *, since: datetime | None = None, until: datetime | None = None
    ) -> list[CheckoutSession]: ...
