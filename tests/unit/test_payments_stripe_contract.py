"""The Stripe adapter's Prices, PaymentLinks and Checkout (absent from localstripe) by contract: respx answers
with the request and response shapes of Stripe's published OpenAPI description, including its error body."""

from __future__ import annotations

import itertools
import time
from collections.abc import Iterator
from typing import Any
from urllib.parse import parse_qsl

import httpx
import pytest
import respx
import stripe

from creator_studio.providers.payments.base import PriceData
from creator_studio.providers.payments.stripe import StripePaymentsProvider, make_client
from creator_studio.providers.reliability.errors import BadRequest, ReauthorizeRequired

pytestmark = pytest.mark.unit

API = "https://api.stripe.com"
_ids = itertools.count(1)


def form(request: httpx.Request) -> dict[str, str]:
    return dict(parse_qsl(request.content.decode()))


def metadata(fields: dict[str, str]) -> dict[str, str]:
    return {k[len("metadata["):-1]: v for k, v in fields.items() if k.startswith("metadata[")}


def price_object(fields: dict[str, str], product: str) -> dict[str, Any]:
    interval = fields.get("recurring[interval]") or fields.get("default_price_data[recurring][interval]")
    amount = fields.get("unit_amount") or fields.get("default_price_data[unit_amount]")
    currency = fields.get("currency") or fields.get("default_price_data[currency]")
    return {
        "id": f"price_1Q{next(_ids):08d}", "object": "price", "active": True, "billing_scheme": "per_unit",
        "created": int(time.time()), "currency": currency, "livemode": False, "lookup_key": None,
        "metadata": metadata(fields) if "unit_amount" in fields else {}, "nickname": None, "product": product,
        "recurring": None if not interval else {"aggregate_usage": None, "interval": interval, "interval_count": 1,
                                                "meter": None, "trial_period_days": None, "usage_type": "licensed"},
        "tax_behavior": "unspecified", "tiers_mode": None, "transform_quantity": None,
        "type": "recurring" if interval else "one_time", "unit_amount": int(str(amount)),
        "unit_amount_decimal": str(amount),
    }


class FakeStripe:
    """The state a Stripe account would hold, driven by respx routes; counts creations per idempotency key."""

    def __init__(self, router: respx.MockRouter) -> None:
        self.prices: dict[str, dict[str, Any]] = {}
        self.links: dict[str, dict[str, Any]] = {}
        self.sessions: dict[str, dict[str, Any]] = {}
        self.products: dict[str, dict[str, Any]] = {}
        self.keys: list[str] = []
        router.post(f"{API}/v1/products").mock(side_effect=self.create_product)
        router.get(url__regex=rf"{API}/v1/products/(?P<pid>prod_\w+)$").mock(
            side_effect=lambda r, pid: httpx.Response(200, json=self.products[pid]))
        router.get(f"{API}/v1/products").mock(side_effect=lambda r: self.listing(r, self.products))
        router.post(f"{API}/v1/prices").mock(side_effect=self.create_price)
        router.get(url__regex=rf"{API}/v1/prices/(?P<pid>price_\w+)$").mock(side_effect=self.get_price)
        router.post(f"{API}/v1/payment_links").mock(side_effect=self.create_link)
        router.get(f"{API}/v1/payment_links").mock(side_effect=lambda r: self.listing(r, self.links))
        router.get(url__regex=rf"{API}/v1/payment_links/(?P<lid>plink_\w+)/line_items").mock(
            side_effect=self.line_items)
        router.post(f"{API}/v1/checkout/sessions").mock(side_effect=self.create_session)

    def record_key(self, request: httpx.Request) -> None:
        self.keys.append(request.headers["Idempotency-Key"])

    def create_product(self, request: httpx.Request) -> httpx.Response:
        self.record_key(request)
        fields = form(request)
        product_id = f"prod_Q{next(_ids):08d}"
        price = price_object(fields, product_id)
        self.prices[price["id"]] = price
        self.products[product_id] = {
            "id": product_id, "object": "product", "active": True, "created": int(time.time()),
            "default_price": price["id"], "description": None, "images": [], "livemode": False,
            "marketing_features": [], "metadata": metadata(fields), "name": fields["name"],
            "package_dimensions": None, "shippable": None, "statement_descriptor": None, "tax_code": None,
            "unit_label": None, "updated": int(time.time()), "url": None,
        }
        return httpx.Response(200, json=self.products[product_id])

    def create_price(self, request: httpx.Request) -> httpx.Response:
        self.record_key(request)
        fields = form(request)
        price = price_object(fields, fields["product"])
        self.prices[price["id"]] = price
        return httpx.Response(200, json=price)

    def get_price(self, request: httpx.Request, pid: str) -> httpx.Response:
        if pid not in self.prices:
            return error(404, "resource_missing", f"No such price: '{pid}'", "id")
        return httpx.Response(200, json=self.prices[pid])

    def create_link(self, request: httpx.Request) -> httpx.Response:
        self.record_key(request)
        fields = form(request)
        price_id = fields["line_items[0][price]"]
        if price_id not in self.prices:
            return error(400, "resource_missing", f"No such price: '{price_id}'", "line_items[0][price]")
        link_id = f"plink_1Q{next(_ids):08d}"
        self.links[link_id] = {
            "id": link_id, "object": "payment_link", "active": True, "after_completion": {"type":
            "hosted_confirmation", "hosted_confirmation": {"custom_message": None}}, "allow_promotion_codes": False,
            "currency": self.prices[price_id]["currency"], "livemode": False, "metadata": metadata(fields),
            "url": f"https://buy.stripe.com/test_{link_id[-8:]}", "_price": price_id,
        }
        return httpx.Response(200, json={k: v for k, v in self.links[link_id].items() if k != "_price"})

    def line_items(self, request: httpx.Request, lid: str) -> httpx.Response:
        price = self.prices[self.links[lid]["_price"]]
        return httpx.Response(200, json={"object": "list", "url": f"/v1/payment_links/{lid}/line_items",
                                         "has_more": False, "data": [{
                                             "id": "li_1", "object": "item", "amount_discount": 0,
                                             "amount_subtotal": price["unit_amount"],
                                             "amount_tax": 0, "amount_total": price["unit_amount"],
                                             "currency": price["currency"], "description": "Pro", "price": price,
                                             "quantity": 1}]})

    def listing(self, request: httpx.Request, objects: dict[str, dict[str, Any]]) -> httpx.Response:
        data = [{k: v for k, v in o.items() if not k.startswith("_")} for o in objects.values()]
        return httpx.Response(200, json={"object": "list", "url": request.url.path, "has_more": False, "data": data})

    def create_session(self, request: httpx.Request) -> httpx.Response:
        self.record_key(request)
        fields = form(request)
        price = self.prices[fields["line_items[0][price]"]]
        session_id = f"cs_test_a1{next(_ids):08d}"
        self.sessions[session_id] = {
            "id": session_id, "object": "checkout.session", "amount_subtotal": price["unit_amount"],
            "amount_total": price["unit_amount"], "cancel_url": None, "created": int(time.time()),
            "currency": price["currency"], "customer": fields.get("customer"), "expires_at": int(time.time()) + 86400,
            "livemode": False, "metadata": metadata(fields), "mode": fields["mode"], "payment_link": None,
            "payment_status": "unpaid", "status": "open", "success_url": fields["success_url"],
            "url": f"https://checkout.stripe.com/c/pay/{session_id}",
        }
        return httpx.Response(200, json=self.sessions[session_id])


def error(status: int, code: str, message: str, param: str | None) -> httpx.Response:
    """Stripe's error body: {"error": {"type", "code", "message", "param", "doc_url", "request_log_url"}}."""
    return httpx.Response(status, headers={"request-id": "req_test"}, json={"error": {
        "type": "invalid_request_error", "code": code,
        "message": message, "param": param, "doc_url": f"https://stripe.com/docs/error-codes/{code}",
        "request_log_url": "https://dashboard.stripe.com/test/logs/req_test"}})


@pytest.fixture
def fake() -> Iterator[FakeStripe]:
    with respx.mock(assert_all_called=False) as router:
        yield FakeStripe(router)


@pytest.fixture
def payments() -> StripePaymentsProvider:
    client = make_client("sk_test_contract", http_client=stripe.HTTPXClient(allow_sync_methods=True))
    return StripePaymentsProvider(client, sleep=lambda _s: None)


def test_product_with_default_price_link_and_checkout(fake: FakeStripe, payments: StripePaymentsProvider) -> None:
    product = payments.create_product("ws", "Course", idempotency_key="ledger-1",
                                      default_price=PriceData(unit_amount=19900, currency="usd"))
    assert product.default_price_id in fake.prices
    price = payments.get_price("ws", product.default_price_id or "")
    assert (price.unit_amount, price.interval, price.product_id) == (19900, None, product.id)

    monthly = payments.create_price("ws", product.id, PriceData(unit_amount=900, currency="eur", interval="month"),
                                    idempotency_key="ledger-2")
    assert (monthly.interval, monthly.currency) == ("month", "eur")

    link = payments.create_payment_link("ws", monthly.id, idempotency_key="ledger-3")
    assert link.url.startswith("https://buy.stripe.com/test_") and link.price_id == monthly.id
    assert [(lk.id, lk.price_id) for lk in payments.list_payment_links("ws")] == [(link.id, monthly.id)]
    assert payments.list_payment_links("other-ws") == []

    session = payments.create_checkout_session("ws", monthly.id, idempotency_key="ledger-4")
    assert (session.status, session.amount_total, session.currency) == ("open", 900, "eur")
    assert fake.sessions[session.id]["mode"] == "subscription"
    # Every write carried the ledger's key as Stripe's Idempotency-Key.
    assert fake.keys == ["ledger-1", "ledger-2", "ledger-3", "ledger-4"]


def test_stripe_errors_become_typed_errors(fake: FakeStripe, payments: StripePaymentsProvider) -> None:
    with pytest.raises(BadRequest) as caught:
        payments.create_payment_link("ws", "price_missing", idempotency_key="k")
    assert caught.value.field == "line_items[0][price]" and "No such price" in caught.value.message


def test_a_revoked_key_asks_to_reconnect(payments: StripePaymentsProvider) -> None:
    with respx.mock() as router:
        router.post(f"{API}/v1/prices").mock(return_value=httpx.Response(401, json={"error": {
            "type": "invalid_request_error", "message": "Invalid API Key provided: sk_test_****ract"}}))
        with pytest.raises(ReauthorizeRequired, match="studio connect stripe"):
            payments.create_price("ws", "prod_1", PriceData(unit_amount=100, currency="usd"), idempotency_key="k")


def test_a_5xx_is_retried_with_the_same_key_after_a_read_back(payments: StripePaymentsProvider) -> None:
    with respx.mock() as router:
        created = {"id": "price_after", "object": "price", "active": True, "created": 1, "currency": "usd",
                   "product": "prod_1", "recurring": None, "type": "one_time", "unit_amount": 100,
                   "metadata": {"studio_workspace": "ws", "studio_idempotency_key": "k"}}
        post = router.post(f"{API}/v1/prices").mock(side_effect=[
            httpx.Response(500, json={"error": {"type": "api_error", "message": "Something went wrong"}}),
            httpx.Response(200, json=created)])
        listing = router.get(f"{API}/v1/prices").mock(return_value=httpx.Response(
            200, json={"object": "list", "url": "/v1/prices", "has_more": False, "data": []}))
        price = payments.create_price("ws", "prod_1", PriceData(unit_amount=100, currency="usd"), idempotency_key="k")
    assert price.id == "price_after"
    assert [c.request.headers["Idempotency-Key"] for c in post.calls] == ["k", "k"]
    assert listing.call_count == 1  # it looked before writing again
