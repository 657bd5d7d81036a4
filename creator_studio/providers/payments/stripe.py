"""The real payments provider: Stripe through the official `stripe` SDK (StripeClient).

Exactly-once writes: every create carries the ledger's idempotency key as Stripe's `Idempotency-Key` (Stripe
replays the first response for 24 h), and its key and workspace in the object's metadata. The SDK's own
retries are off; this adapter retries itself so that, before repeating a write whose outcome is unknown (a
timeout, a dropped connection, a 5xx), it reads back by metadata whether the object already exists. That
second guard also covers servers that ignore idempotency keys (localstripe does) and keys older than 24 h.

A workspace is scoped by the `studio_workspace` metadata on everything it creates; lists filter on it.

`honours_idempotency_keys=False` reads back before every write, for servers that ignore the header.
`legacy_plans=True` speaks the older API subset of servers without Prices (localstripe): recurring
prices are created as Plans (Stripe accepts a plan id wherever a price id goes) and a product's default price
is remembered in its metadata. PaymentLinks, Checkout and one-time prices need the Prices API.
"""

from __future__ import annotations

import hashlib
import random
import time
from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from typing import Any, TypeVar

import stripe as stripe_sdk

from creator_studio.errors import ConfigurationError, InvalidInput, NotFound
from creator_studio.providers.payments.base import (
    PAYMENT_METHOD_DECLINED,
    PAYMENT_METHOD_OK,
    Charge,
    CheckoutSession,
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
from creator_studio.providers.reliability.errors import (
    BadRequest,
    Disconnected,
    OutcomeUnknown,
    ProviderError,
    ReauthorizeRequired,
    RetryLater,
)

T = TypeVar("T")
WORKSPACE = "studio_workspace"
KEY = "studio_idempotency_key"
# Stripe's test payment method for a declined card.
_DECLINED = {PAYMENT_METHOD_DECLINED: "pm_card_chargeCustomerFail"}  # attaches, then every charge fails
_STATUS: dict[str, SubscriptionStatus] = {
    "active": "active", "trialing": "trialing", "past_due": "past_due", "canceled": "canceled",
    "incomplete": "past_due", "unpaid": "past_due", "paused": "past_due", "incomplete_expired": "canceled",
}


class WriteStats:
    """Counters for the figures: HTTP attempts, retries, and writes found by read-back."""

    def __init__(self) -> None:
        self.attempts = 0
        self.retries = 0
        self.read_back_hits = 0


def make_client(
    api_key: str, *, api_base: str | None = None, http_client: stripe_sdk.HTTPClient | None = None
) -> stripe_sdk.StripeClient:
    """A StripeClient with the SDK's own retries off (the adapter retries, reading back first)."""
    if not api_key.startswith(("sk_", "rk_")):
        raise ConfigurationError("STUDIO_STRIPE_API_KEY must be a secret key (sk_test_... or sk_live_...).")
    bases: Any = {"api": api_base} if api_base else None
    return stripe_sdk.StripeClient(api_key, base_addresses=bases, max_network_retries=0, http_client=http_client)


class StripePaymentsProvider:
    def __init__(
        self,
        client: stripe_sdk.StripeClient,
        *,
        legacy_plans: bool = False,
        honours_idempotency_keys: bool = True,
        test_mode: bool = False,
        max_attempts: int = 5,
        backoff_s: float = 0.5,
        max_backoff_s: float = 20.0,
        sleep: Callable[[float], None] = time.sleep,
        seed: int | None = None,
    ) -> None:
        self._v1: Any = client.v1  # the SDK's TypedDict params are checked by Stripe; Any keeps this readable
        self.legacy_plans = legacy_plans
        # A server that ignores Idempotency-Key (localstripe) gets a read-back before every write instead.
        self._look_first = not honours_idempotency_keys
        # Test mode may use Stripe's test payment methods (pm_card_visa...); live mode only the customer's own.
        self.test_mode = test_mode
        self._max_attempts = max_attempts
        self._backoff_s = backoff_s
        self._max_backoff_s = max_backoff_s
        self._sleep = sleep
        self._random = random.Random(seed)
        self.stats = WriteStats()

    # The exactly-once write -------------------------------------------------------------------------
    def _write(self, what: str, create: Callable[[dict[str, str]], T], find: Callable[[], T | None],
               idempotency_key: str) -> T:
        options = {"idempotency_key": idempotency_key}
        unknown = self._look_first

        def look() -> T | None:
            try:
                return find()
            except ProviderError as exc:  # can't tell whether the earlier try happened: say so, don't guess
                raise OutcomeUnknown("stripe", what) from exc

        for attempt in range(1, self._max_attempts + 1):
            if unknown:  # the last try may have happened: look before trying again
                found = look()
                if found is not None:
                    self.stats.read_back_hits += 1
                    return found
            self.stats.attempts += 1
            try:
                return _plain(create(options))
            except (stripe_sdk.APIConnectionError, stripe_sdk.APIError, stripe_sdk.RateLimitError) as exc:
                status = exc.http_status
                unknown = unknown or isinstance(exc, stripe_sdk.APIConnectionError) or (status or 0) >= 500
                if attempt == self._max_attempts:
                    break
                self.stats.retries += 1
                self._sleep(self._delay(attempt, exc))
            except stripe_sdk.StripeError as exc:
                raise _classify(exc) from exc
        if unknown:
            found = look()
            if found is not None:
                self.stats.read_back_hits += 1
                return found
            raise RetryLater("stripe", f"{what} failed {self._max_attempts} times and was not created")
        raise RetryLater("stripe", f"{what} was rate limited {self._max_attempts} times; nothing was created")

    def _read(self, call: Callable[[], T]) -> T:
        for attempt in range(1, self._max_attempts + 1):
            try:
                return _plain(call())
            except (stripe_sdk.APIConnectionError, stripe_sdk.APIError, stripe_sdk.RateLimitError) as exc:
                if attempt == self._max_attempts:
                    raise RetryLater("stripe", str(exc.user_message or exc)[:200], status=exc.http_status) from exc
                self.stats.retries += 1
                self._sleep(self._delay(attempt, exc))
            except stripe_sdk.StripeError as exc:
                raise _classify(exc) from exc
        raise AssertionError("unreachable")

    def _delay(self, attempt: int, exc: stripe_sdk.StripeError) -> float:
        retry_after = (exc.headers or {}).get("Retry-After") or (exc.headers or {}).get("retry-after")
        if retry_after:
            try:
                return min(self._max_backoff_s, float(retry_after))
            except ValueError:
                pass
        base = min(self._max_backoff_s, self._backoff_s * 2 ** (attempt - 1))
        return base * (0.5 + self._random.random() / 2)  # jitter: many workers don't retry in lockstep

    def _meta(self, workspace_id: str, idempotency_key: str) -> dict[str, str]:
        return {WORKSPACE: workspace_id, KEY: idempotency_key}

    def _find(self, items: Callable[[], Iterable[Any]], workspace_id: str, idempotency_key: str) -> Any | None:
        for obj in self._read(lambda: list(items())):
            metadata = obj.get("metadata") or {}
            if metadata.get(WORKSPACE) == workspace_id and metadata.get(KEY) == idempotency_key:
                return obj
        return None

    def _mine(self, objects: Iterable[Any], workspace_id: str) -> list[Any]:
        return [o for o in objects if (o.get("metadata") or {}).get(WORKSPACE) == workspace_id]

    def _all(self, service: Any, **params: Any) -> list[Any]:
        return self._read(lambda: list(service.list(params={"limit": 100, **params}).auto_paging_iter()))

    def _get(self, service: Any, object_id: str, workspace_id: str, noun: str) -> Any:
        try:
            obj = self._read(lambda: service.retrieve(object_id))
        except BadRequest as exc:
            if exc.status == 404:
                raise NotFound(f"No {noun} {object_id!r} in this workspace's payments account.") from exc
            raise
        if (obj.get("metadata") or {}).get(WORKSPACE) != workspace_id:
            raise NotFound(f"No {noun} {object_id!r} in this workspace's payments account.")
        return obj

    # Catalogue --------------------------------------------------------------------------------------
    def create_product(self, workspace_id: str, name: str, *, default_price: PriceData,
                       idempotency_key: str) -> Product:
        if not name.strip():
            raise InvalidInput("A product needs a name.")
        meta = self._meta(workspace_id, idempotency_key)
        if not self.legacy_plans:
            price_data: dict[str, Any] = {"unit_amount": default_price.unit_amount,
                                          "currency": check_currency(default_price.currency)}
            if default_price.interval:
                price_data["recurring"] = {"interval": default_price.interval}
            obj = self._write(
                "creating the product",
                lambda o: self._v1.products.create(
                    params={"name": name.strip(), "default_price_data": price_data, "metadata": meta}, options=o),
                lambda: self._find(lambda: self._all(self._v1.products), workspace_id, idempotency_key),
                idempotency_key,
            )
            return _product(obj, obj.get("default_price"))
        product = self._write(
            "creating the product",
            lambda o: self._v1.products.create(params={"name": name.strip(), "metadata": meta}, options=o),
            lambda: self._find(lambda: self._all(self._v1.products), workspace_id, idempotency_key),
            idempotency_key,
        )
        price = self.create_price(workspace_id, product["id"], default_price,
                                  idempotency_key=f"{idempotency_key}:price")
        product = self._read(lambda: self._v1.products.update(
            product["id"], params={"metadata": {"studio_default_price": price.id}}))
        return _product(product, price.id)

    def get_product(self, workspace_id: str, product_id: str) -> Product:
        obj = self._get(self._v1.products, product_id, workspace_id, "product")
        return _product(obj, self._default_price(obj))

    def list_products(self, workspace_id: str) -> list[Product]:
        return [_product(o, self._default_price(o)) for o in self._mine(self._all(self._v1.products), workspace_id)]

    def _default_price(self, product: Any) -> str | None:
        if self.legacy_plans:
            return (product.get("metadata") or {}).get("studio_default_price")
        value = product.get("default_price")
        return value if isinstance(value, str) or value is None else value.get("id")

    def create_price(self, workspace_id: str, product_id: str, price: PriceData, *, idempotency_key: str) -> Price:
        currency = check_currency(price.currency)
        meta = self._meta(workspace_id, idempotency_key)
        if self.legacy_plans:
            if price.interval is None:
                raise ConfigurationError("This Stripe server has no Prices API, so one-time prices are not possible.")
            obj = self._write(
                "creating the price",
                lambda o: self._v1.plans.create(params={
                    "product": product_id, "amount": price.unit_amount, "currency": currency,
                    "interval": price.interval, "metadata": meta}, options=o),
                lambda: self._find(lambda: self._all(self._v1.plans), workspace_id, idempotency_key),
                idempotency_key,
            )
            return _plan(obj)
        params: dict[str, Any] = {"product": product_id, "unit_amount": price.unit_amount, "currency": currency,
                                  "metadata": meta}
        if price.interval:
            params["recurring"] = {"interval": price.interval}
        obj = self._write(
            "creating the price",
            lambda o: self._v1.prices.create(params=params, options=o),
            lambda: self._find(lambda: self._all(self._v1.prices, product=product_id), workspace_id, idempotency_key),
            idempotency_key,
        )
        return _price(obj)

    def get_price(self, workspace_id: str, price_id: str) -> Price:
        if self.legacy_plans:
            return _plan(self._get(self._v1.plans, price_id, workspace_id, "price"))
        try:
            return _price(self._get(self._v1.prices, price_id, workspace_id, "price"))
        except NotFound:
            # A product's default price (default_price_data) carries no metadata: it is ours if its product is.
            price = self._read(lambda: self._v1.prices.retrieve(price_id))
            self.get_product(workspace_id, str(_id(price["product"])))
            return _price(price)

    def list_prices(self, workspace_id: str, *, product_id: str | None = None) -> list[Price]:
        if self.legacy_plans:
            plans = self._mine(self._all(self._v1.plans), workspace_id)
            return [_plan(p) for p in plans if product_id is None or p.get("product") == product_id]
        params = {"product": product_id} if product_id else {}
        products = {p.id for p in self.list_products(workspace_id)}
        return [_price(p) for p in self._all(self._v1.prices, **params)
                if (p.get("metadata") or {}).get(WORKSPACE) == workspace_id or _id(p.get("product")) in products]

    def create_payment_link(self, workspace_id: str, price_id: str, *, idempotency_key: str) -> PaymentLink:
        self._needs_prices("payment links")
        meta = self._meta(workspace_id, idempotency_key)
        obj = self._write(
            "creating the payment link",
            lambda o: self._v1.payment_links.create(
                params={"line_items": [{"price": price_id, "quantity": 1}], "metadata": meta}, options=o),
            lambda: self._find(lambda: self._all(self._v1.payment_links), workspace_id, idempotency_key),
            idempotency_key,
        )
        return _payment_link(obj, price_id)

    def list_payment_links(self, workspace_id: str) -> list[PaymentLink]:
        self._needs_prices("payment links")
        links = self._mine(self._all(self._v1.payment_links), workspace_id)
        return [_payment_link(link, self._link_price(link["id"])) for link in links]

    def _link_price(self, link_id: str) -> str:
        items = self._read(lambda: self._v1.payment_links.line_items.list(link_id, params={"limit": 1}))
        return str(items["data"][0]["price"]["id"]) if items["data"] else ""

    def create_coupon(
        self, workspace_id: str, percent_off: float, duration: CouponDuration, *, idempotency_key: str,
        duration_in_months: int | None = None, applies_to_products: list[str] | None = None, name: str | None = None,
    ) -> Coupon:
        if not 0 < percent_off <= 100:
            raise InvalidInput(f"percent_off must be between 0 and 100 (got {percent_off}).")
        params: dict[str, Any] = {"percent_off": percent_off, "duration": duration,
                                  "metadata": self._meta(workspace_id, idempotency_key)}
        if duration == "repeating":
            if not duration_in_months:
                raise InvalidInput("A repeating coupon needs duration_in_months.")
            params["duration_in_months"] = duration_in_months
        if self.legacy_plans:  # localstripe wants an id, like Stripe's API before 2018
            digest = hashlib.sha256(f"{workspace_id}:{idempotency_key}".encode()).hexdigest()[:16]
            params["id"] = f"coupon_{digest}"  # the same request always asks for the same id
        else:
            if name:
                params["name"] = name
            if applies_to_products:
                params["applies_to"] = {"products": applies_to_products}
        obj = self._write(
            "creating the coupon",
            lambda o: self._v1.coupons.create(params=params, options=o),
            lambda: self._find(lambda: self._all(self._v1.coupons), workspace_id, idempotency_key),
            idempotency_key,
        )
        return _coupon(obj)

    def list_coupons(self, workspace_id: str) -> list[Coupon]:
        return [_coupon(c) for c in self._mine(self._all(self._v1.coupons), workspace_id)]

    # Customers and billing --------------------------------------------------------------------------
    def create_customer(self, workspace_id: str, email: str, name: str, *, idempotency_key: str) -> Customer:
        if "@" not in email:
            raise InvalidInput(f"{email!r} is not an email address.")
        params = {"email": email.strip().lower(), "name": name.strip(),
                  "metadata": self._meta(workspace_id, idempotency_key)}
        obj = self._write(
            "creating the customer",
            lambda o: self._v1.customers.create(params=params, options=o),
            lambda: self._find(lambda: self._all(self._v1.customers, email=params["email"]), workspace_id,
                               idempotency_key),
            idempotency_key,
        )
        return _customer(obj)

    def get_customer(self, workspace_id: str, customer_id: str) -> Customer:
        return _customer(self._get(self._v1.customers, customer_id, workspace_id, "customer"))

    def list_customers(self, workspace_id: str) -> list[Customer]:
        return [_customer(c) for c in self._mine(self._all(self._v1.customers), workspace_id)]

    def create_subscription(
        self, workspace_id: str, customer_id: str, price_id: str, *, idempotency_key: str,
        trial_period_days: int | None = None, payment_method: str = PAYMENT_METHOD_OK,
    ) -> Subscription:
        customer = self._get(self._v1.customers, customer_id, workspace_id, "customer")
        self._ensure_payment_method(customer, payment_method)
        item = {"plan": price_id} if self.legacy_plans else {"price": price_id}
        params: dict[str, Any] = {"customer": customer_id, "items": [item],
                                  "metadata": self._meta(workspace_id, idempotency_key)}
        if trial_period_days:
            params["trial_period_days"] = trial_period_days
        obj = self._write(
            "creating the subscription",
            lambda o: self._v1.subscriptions.create(params=params, options=o),
            lambda: self._find(lambda: self._all(self._v1.subscriptions, customer=customer_id), workspace_id,
                               idempotency_key),
            idempotency_key,
        )
        return _subscription(obj, price_id)

    def _ensure_payment_method(self, customer: Any, payment_method: str) -> None:
        """A customer without a default card gets the given (test) payment method, so invoices can be paid.
        In production the card comes from Checkout; this is for test mode and servers like localstripe."""
        if (customer.get("invoice_settings") or {}).get("default_payment_method"):
            return
        if not self.test_mode:
            raise InvalidInput("This customer has no saved card yet: send them a payment link or a checkout "
                               "session, which saves one, instead of charging directly.")
        method = self._read(lambda: self._v1.payment_methods.attach(
            _DECLINED.get(payment_method, payment_method), params={"customer": customer["id"]}))
        self._read(lambda: self._v1.customers.update(
            customer["id"], params={"invoice_settings": {"default_payment_method": method["id"]}}))

    def update_subscription(self, workspace_id: str, subscription_id: str, *, cancel_at_period_end: bool,
                            idempotency_key: str) -> Subscription:
        current = self._get(self._v1.subscriptions, subscription_id, workspace_id, "subscription")
        obj = self._write(  # setting a state: repeating it changes nothing, so no read-back is needed
            "updating the subscription",
            lambda o: self._v1.subscriptions.update(
                subscription_id, params={"cancel_at_period_end": cancel_at_period_end}, options=o),
            lambda: None, idempotency_key,
        )
        return _subscription(obj, _item_price(current))

    def cancel_subscription(self, workspace_id: str, subscription_id: str, *, idempotency_key: str) -> Subscription:
        current = self._get(self._v1.subscriptions, subscription_id, workspace_id, "subscription")
        if current.get("status") == "canceled":  # canceling twice is one cancellation
            return _subscription(current, _item_price(current))

        def canceled_already() -> Any | None:
            obj = self._read(lambda: self._v1.subscriptions.retrieve(subscription_id))
            return obj if obj.get("status") == "canceled" else None

        obj = self._write("canceling the subscription",
                          lambda o: self._v1.subscriptions.cancel(subscription_id, options=o),
                          canceled_already, idempotency_key)
        return _subscription(obj, _item_price(current))

    def list_subscriptions(self, workspace_id: str, *, status: SubscriptionStatus | None = None,
                           customer_id: str | None = None) -> list[Subscription]:
        params: dict[str, Any] = {"status": "all"}
        if customer_id:
            params["customer"] = customer_id
        subscriptions = [_subscription(s, _item_price(s))
                         for s in self._mine(self._all(self._v1.subscriptions, **params), workspace_id)]
        return [s for s in subscriptions if status is None or s.status == status]

    def create_charge(
        self, workspace_id: str, customer_id: str, amount: int, currency: str, *, idempotency_key: str,
        payment_method: str = PAYMENT_METHOD_OK, description: str | None = None,
        subscription_id: str | None = None, price_id: str | None = None,
    ) -> Charge:
        """A one-off payment: a PaymentIntent confirmed at once (a declined card gives a failed Charge)."""
        currency = check_currency(currency)
        if amount <= 0:
            raise InvalidInput(f"amount must be a positive number of minor units (got {amount}).")
        meta = self._meta(workspace_id, idempotency_key)
        if price_id:
            meta["studio_price"] = price_id
        if not self.test_mode:  # live: charge the card the customer saved, never a test token
            customer = self._get(self._v1.customers, customer_id, workspace_id, "customer")
            saved = (customer.get("invoice_settings") or {}).get("default_payment_method")
            if not saved:
                raise InvalidInput("This customer has no saved card yet: send them a payment link or a checkout "
                                   "session, which saves one, instead of charging directly.")
            payment_method = str(_id(saved))
        params: dict[str, Any] = {"amount": amount, "currency": currency, "customer": customer_id,
                                  "payment_method": _DECLINED.get(payment_method, payment_method),
                                  "confirm": True, "metadata": meta}
        if not self.legacy_plans:
            params["payment_method_types"] = ["card"]
        if description and not self.legacy_plans:
            params["description"] = description

        def create(options: dict[str, str]) -> Any:
            try:
                return self._v1.payment_intents.create(params=params, options=options)
            except stripe_sdk.CardError as exc:  # declined: Stripe created a failed payment; report it
                intent = _plain(exc.error.payment_intent if exc.error else None) or self._find(
                    lambda: self._intents(customer_id), workspace_id, idempotency_key)
                if intent is None:
                    raise _classify(exc) from exc
                return intent

        intent = self._write(
            "charging the customer", create,
            lambda: self._find(lambda: self._intents(customer_id), workspace_id,
                               idempotency_key),
            idempotency_key,
        )
        return _charge(intent, description, subscription_id)

    def list_charges(self, workspace_id: str, *, since: datetime | None = None, until: datetime | None = None,
                     customer_id: str | None = None) -> list[Charge]:
        charges = [_charge(i, None, None) for i in self._mine(self._intents(customer_id), workspace_id)]
        return [c for c in charges if (since is None or c.created >= since) and (until is None or c.created <= until)]

    def _intents(self, customer_id: str | None) -> list[Any]:
        if customer_id is None or self.legacy_plans:  # localstripe cannot filter PaymentIntents by customer
            intents = self._all(self._v1.payment_intents)
            return [i for i in intents if customer_id is None or _id(i.get("customer")) == customer_id]
        return self._all(self._v1.payment_intents, customer=customer_id)

    def create_checkout_session(self, workspace_id: str, price_id: str, *, idempotency_key: str,
                                customer_id: str | None = None, payment_link_id: str | None = None,
                                success_url: str = "https://example.com/thanks") -> CheckoutSession:
        self._needs_prices("Checkout")
        price = self.get_price(workspace_id, price_id)
        params: dict[str, Any] = {
            "mode": "subscription" if price.recurring else "payment",
            "line_items": [{"price": price_id, "quantity": 1}], "success_url": success_url,
            "metadata": self._meta(workspace_id, idempotency_key),
        }
        if customer_id:
            params["customer"] = customer_id
        obj = self._write(
            "creating the checkout session",
            lambda o: self._v1.checkout.sessions.create(params=params, options=o),
            lambda: self._find(lambda: self._all(self._v1.checkout.sessions), workspace_id, idempotency_key),
            idempotency_key,
        )
        return _checkout(obj, price_id, payment_link_id)

    def list_checkout_sessions(self, workspace_id: str, *, since: datetime | None = None,
                               until: datetime | None = None) -> list[CheckoutSession]:
        self._needs_prices("Checkout")
        sessions = [_checkout(s, (s.get("metadata") or {}).get("studio_price", ""), None)
                    for s in self._mine(self._all(self._v1.checkout.sessions), workspace_id)]
        return [s for s in sessions if (since is None or s.created >= since) and (until is None or s.created <= until)]

    def _needs_prices(self, what: str) -> None:
        if self.legacy_plans:
            raise ConfigurationError(f"This Stripe server has no Prices API, so {what} are not available.")


# Conversions ------------------------------------------------------------------------------------------
def _plain(value: Any) -> Any:
    """Stripe objects as plain dicts (StripeObject is not a dict in SDK 16)."""
    if isinstance(value, list):
        return [_plain(v) for v in value]
    if isinstance(value, stripe_sdk.StripeObject):
        return value.to_dict()
    return value


def _when(timestamp: Any) -> datetime:
    return datetime.fromtimestamp(int(timestamp), UTC)


def _id(value: Any) -> str | None:
    if value is None or isinstance(value, str):
        return value
    return str(value.get("id"))


def _product(obj: Any, default_price: Any) -> Product:
    return Product(id=obj["id"], name=obj["name"], active=bool(obj.get("active", True)),
                   default_price_id=_id(default_price), created=_when(obj["created"]))


def _price(obj: Any) -> Price:
    recurring = obj.get("recurring")
    return Price(id=obj["id"], product_id=str(_id(obj["product"])), unit_amount=int(obj["unit_amount"]),
                 currency=obj["currency"], interval=recurring.get("interval") if recurring else None,
                 active=bool(obj.get("active", True)), created=_when(obj["created"]))


def _plan(obj: Any) -> Price:
    return Price(id=obj["id"], product_id=str(_id(obj["product"])), unit_amount=int(obj["amount"]),
                 currency=obj["currency"], interval=obj["interval"], active=bool(obj.get("active", True)),
                 created=_when(obj["created"]))


def _payment_link(obj: Any, price_id: str) -> PaymentLink:
    return PaymentLink(id=obj["id"], price_id=price_id, url=obj["url"], active=bool(obj.get("active", True)),
                       created=_when(obj.get("created") or time.time()))


def _customer(obj: Any) -> Customer:
    return Customer(id=obj["id"], email=obj.get("email") or "", name=obj.get("name") or "",
                    created=_when(obj["created"]))


def _item_price(subscription: Any) -> str:
    items = (subscription.get("items") or {}).get("data") or []
    if not items:
        return ""
    item = items[0]
    return str(_id(item.get("price") or item.get("plan")))


def _subscription(obj: Any, price_id: str) -> Subscription:
    canceled_at, trial_end = obj.get("canceled_at"), obj.get("trial_end")
    return Subscription(
        id=obj["id"], customer_id=str(_id(obj["customer"])), price_id=price_id or _item_price(obj),
        status=_STATUS.get(str(obj.get("status")), "past_due"),
        cancel_at_period_end=bool(obj.get("cancel_at_period_end")), created=_when(obj["created"]),
        canceled_at=_when(canceled_at) if canceled_at else None, trial_end=_when(trial_end) if trial_end else None,
    )


def _coupon(obj: Any) -> Coupon:
    applies = obj.get("applies_to") or {}
    return Coupon(id=obj["id"], name=obj.get("name"), percent_off=float(obj.get("percent_off") or 0),
                  duration=obj["duration"], duration_in_months=obj.get("duration_in_months"),
                  applies_to_products=list(applies.get("products") or []), created=_when(obj["created"]))


def _charge(intent: Any, description: str | None, subscription_id: str | None) -> Charge:
    succeeded = intent.get("status") == "succeeded"
    error = intent.get("last_payment_error") or {}
    metadata = intent.get("metadata") or {}
    return Charge(
        id=str(_id(intent.get("latest_charge")) or intent["id"]), customer_id=str(_id(intent.get("customer"))),
        amount=int(intent["amount"]), currency=intent["currency"], status="succeeded" if succeeded else "failed",
        failure_message=None if succeeded else str(error.get("message") or "The payment did not succeed."),
        description=description or intent.get("description"), subscription_id=subscription_id,
        price_id=metadata.get("studio_price"), billing_reason=None, created=_when(intent["created"]),
    )


def _checkout(obj: Any, price_id: str, payment_link_id: str | None) -> CheckoutSession:
    status = obj.get("status") or "open"
    return CheckoutSession(
        id=obj["id"], price_id=price_id, payment_link_id=payment_link_id or _id(obj.get("payment_link")),
        customer_id=_id(obj.get("customer")), status=status if status in ("open", "complete", "expired") else "open",
        amount_total=int(obj.get("amount_total") or 0), currency=obj.get("currency") or "usd",
        created=_when(obj["created"]),
    )


def _classify(exc: stripe_sdk.StripeError) -> ProviderError:
    message = str(exc.user_message or exc)[:300]
    status = exc.http_status
    if isinstance(exc, stripe_sdk.AuthenticationError):
        return ReauthorizeRequired("stripe", message, status=status)
    if isinstance(exc, stripe_sdk.IdempotencyError):
        return BadRequest("stripe", f"the same idempotency key was used with different parameters ({message})",
                          status=status)
    if isinstance(exc, stripe_sdk.CardError):
        return BadRequest("stripe", f"the card was declined ({message})", status=status)
    if isinstance(exc, stripe_sdk.InvalidRequestError):
        return BadRequest("stripe", message, field=exc.param if hasattr(exc, "param") else None, status=status)
    if isinstance(exc, stripe_sdk.PermissionError):
        return Disconnected("stripe", message, status=status)
    return OutcomeUnknown("stripe", "the request") if status is None else BadRequest("stripe", message, status=status)
