"""The Stripe adapter against localstripe: a product, a plan price, a customer, a subscription, a payment,
a coupon, and a signed webhook delivered to a loopback receiver and verified with our verifier."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from creator_studio.errors import ConfigurationError, InvalidInput, NotFound
from creator_studio.providers.payments.base import PAYMENT_METHOD_DECLINED, PriceData
from creator_studio.providers.payments.stripe import StripePaymentsProvider, make_client
from creator_studio.providers.payments.webhooks import StripeEvent, WebhookRejected, WebhookVerifier
from tests.servers_email_payments import LocalStripe, localstripe  # noqa: F401

pytestmark = pytest.mark.integration

SECRET = "whsec_studio_test_secret"


class Receiver:
    """A tiny webhook endpoint on loopback: verifies each delivery with our verifier, like the API would."""

    def __init__(self, verifier: WebhookVerifier) -> None:
        self.events: list[StripeEvent] = []
        self.rejected: list[str] = []
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                try:
                    outer.events.append(verifier.verify(body, self.headers.get("Stripe-Signature")))
                    self.send_response(200)
                except WebhookRejected as exc:
                    outer.rejected.append(exc.message)
                    self.send_response(400)
                self.end_headers()

            def log_message(self, format: str, *args: Any) -> None:
                return

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/stripe/webhook"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def wait_for(self, event_type: str, timeout: float = 15.0) -> StripeEvent:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for event in self.events:
                if event.type == event_type:
                    return event
            time.sleep(0.1)
        raise AssertionError(f"no {event_type} webhook within {timeout} s; got {[e.type for e in self.events]}")

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    r = Receiver(WebhookVerifier(SECRET))
    yield r
    r.close()


@pytest.fixture
def payments(localstripe: LocalStripe) -> StripePaymentsProvider:  # noqa: F811
    client = make_client(localstripe.api_key, api_base=localstripe.url)
    return StripePaymentsProvider(client, legacy_plans=True, honours_idempotency_keys=False, test_mode=True,
                                  backoff_s=0.01, sleep=lambda _s: None)


def test_product_subscription_and_signed_webhook_round_trip(
    payments: StripePaymentsProvider, localstripe: LocalStripe, receiver: Receiver  # noqa: F811
) -> None:
    localstripe.register_webhook("studio", receiver.url, SECRET)

    product = payments.create_product("ws-a", "Pro membership", idempotency_key="prod-1",
                                      default_price=PriceData(unit_amount=2900, currency="usd", interval="month"))
    assert product.id.startswith("prod_") and product.default_price_id is not None
    price = payments.get_price("ws-a", product.default_price_id)
    assert (price.unit_amount, price.currency, price.interval, price.product_id) == (2900, "usd", "month", product.id)
    assert [p.id for p in payments.list_products("ws-a")] == [product.id]
    assert payments.list_products("ws-b") == []  # another workspace sees nothing

    customer = payments.create_customer("ws-a", "Fan@Readers.test", "Fan", idempotency_key="cus-1")
    again = payments.create_customer("ws-a", "Fan@Readers.test", "Fan", idempotency_key="cus-1")
    assert again.id == customer.id  # the same key twice is one customer (read back by metadata)
    assert [c.id for c in payments.list_customers("ws-a")] == [customer.id]

    subscription = payments.create_subscription("ws-a", customer.id, price.id, idempotency_key="sub-1")
    assert subscription.customer_id == customer.id and subscription.price_id == price.id
    assert payments.create_subscription("ws-a", customer.id, price.id, idempotency_key="sub-1").id == subscription.id
    assert [s.id for s in payments.list_subscriptions("ws-a", customer_id=customer.id)] == [subscription.id]

    event = receiver.wait_for("customer.subscription.created")
    assert event.data["object"]["id"] == subscription.id
    assert receiver.wait_for("product.created").data["object"]["id"] == product.id
    assert receiver.rejected == []

    canceled = payments.cancel_subscription("ws-a", subscription.id, idempotency_key="cancel-1")
    assert canceled.status == "canceled"
    assert payments.list_subscriptions("ws-a", status="canceled")[0].id == subscription.id
    with pytest.raises(NotFound):
        payments.get_customer("ws-b", customer.id)


def test_payments_and_coupons(payments: StripePaymentsProvider) -> None:
    customer = payments.create_customer("ws-c", "buyer@readers.test", "Buyer", idempotency_key="cus-c")
    paid = payments.create_charge("ws-c", customer.id, 4900, "usd", idempotency_key="charge-1")
    assert (paid.status, paid.amount, paid.customer_id) == ("succeeded", 4900, customer.id)
    assert payments.create_charge("ws-c", customer.id, 4900, "usd", idempotency_key="charge-1").id == paid.id
    declined = payments.create_charge("ws-c", customer.id, 1500, "usd", idempotency_key="charge-2",
                                      payment_method=PAYMENT_METHOD_DECLINED)
    assert declined.status == "failed" and declined.failure_message
    assert sorted(c.status for c in payments.list_charges("ws-c", customer_id=customer.id)) == ["failed", "succeeded"]

    coupon = payments.create_coupon("ws-c", 20, "repeating", duration_in_months=3, idempotency_key="cp-1")
    assert (coupon.percent_off, coupon.duration, coupon.duration_in_months) == (20.0, "repeating", 3)
    assert [c.id for c in payments.list_coupons("ws-c")] == [coupon.id]

    with pytest.raises(ConfigurationError, match="no Prices API"):
        payments.create_payment_link("ws-c", "plan_x", idempotency_key="pl-1")


def test_live_mode_charges_only_a_saved_card(payments: StripePaymentsProvider, localstripe: LocalStripe) -> None:  # noqa: F811
    live = StripePaymentsProvider(make_client(localstripe.api_key, api_base=localstripe.url), legacy_plans=True,
                                  honours_idempotency_keys=False, test_mode=False, sleep=lambda _s: None)
    customer = live.create_customer("ws-live", "new@readers.test", "New", idempotency_key="cus-live")
    with pytest.raises(InvalidInput, match="no saved card"):
        live.create_charge("ws-live", customer.id, 500, "usd", idempotency_key="live-1")
    product = payments.create_product("ws-live", "Club", idempotency_key="prod-live",
                                      default_price=PriceData(unit_amount=900, currency="usd", interval="month"))
    payments.create_subscription("ws-live", customer.id, product.default_price_id or "", idempotency_key="sub-live")
    # The test-mode subscription saved a card on the customer; live mode charges that card.
    charge = live.create_charge("ws-live", customer.id, 500, "usd", idempotency_key="live-2")
    assert (charge.status, charge.amount) == ("succeeded", 500)
