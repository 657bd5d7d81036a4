"""Outbound webhooks against a local HTTP receiver; inbound Stripe and platform notifications as events."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from creator_studio.errors import InvalidInput
from creator_studio.events import Event, EventService
from creator_studio.events.inbound import InboundEvents
from creator_studio.events.webhooks import SIGNATURE_HEADER, parse_body, sign, verify_signature
from creator_studio.providers.payments.webhooks import WebhookRejected, WebhookVerifier
from creator_studio.providers.payments.webhooks import sign as stripe_sign
from creator_studio.store.db import Base, Database
from tests.servers import free_port

pytestmark = pytest.mark.integration

SECRET = "whsec_test_secret"
FAILED_PAYMENT = {"payment_id": "pi_1", "amount_cents": 2900, "currency": "usd"}


class Receiver:
    """A real HTTP server on loopback that checks signatures and fails the first `failures` requests."""

    def __init__(self) -> None:
        self.failures = 0
        self.requests: list[tuple[dict[str, str], bytes, bool]] = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                valid = verify_signature(body, self.headers.get(SIGNATURE_HEADER, ""), SECRET)
                receiver.requests.append((dict(self.headers), body, valid))
                failing = receiver.failures > 0
                receiver.failures -= 1 if failing else 0
                self.send_response(503 if failing else (200 if valid else 401))
                self.end_headers()

            def log_message(self, format: str, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", free_port()), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    server = Receiver()
    yield server
    server.stop()


@pytest.fixture
def events(tmp_path: Path) -> Iterator[EventService]:
    db = Database(f"sqlite:///{tmp_path / 'events.db'}")
    Base.metadata.create_all(db.engine)
    service = EventService(db)
    service.webhooks.backoff_s = 0.01  # the real schedule is 0.5 s doubling; tests need not wait for it
    service.webhooks.max_backoff_s = 0.05
    yield service
    service.close()
    db.dispose()


def test_the_signature_is_hmac_sha256_over_timestamp_and_body() -> None:
    body = b'{"a":1}'
    header = sign(body, SECRET, 1_700_000_000)
    assert header.startswith("t=1700000000,v1=") and len(header.split("v1=")[1]) == 64
    assert verify_signature(body, header, SECRET, now=1_700_000_010)
    assert not verify_signature(body + b" ", header, SECRET, now=1_700_000_010)
    assert not verify_signature(body, header, "other", now=1_700_000_010)
    assert not verify_signature(body, header, SECRET, now=1_700_000_000 + 3600)  # too old: a replay
    assert not verify_signature(body, "garbage", SECRET)


def test_matching_events_are_posted_signed_and_logged(events: EventService, receiver: Receiver) -> None:
    sub = events.webhooks.add("ws", receiver.url, ["revenue.*"], secret=SECRET)
    events.webhooks.add("other", receiver.url, ["*"], secret=SECRET)  # another workspace: never sent ours
    failed = events.publish("revenue.payment_failed", "ws", FAILED_PAYMENT, source="stripe")
    events.publish("content.published", "ws", {"post_id": "p", "platform": "x"}, source="content")
    assert len(receiver.requests) == 1
    headers, body, valid = receiver.requests[0]
    assert valid
    assert parse_body(body) == failed.to_record()
    assert headers["Studio-Event-Type"] == "revenue.payment_failed"
    [delivery] = events.webhooks.deliveries(subscription_id=sub.id)
    assert (delivery.status, delivery.attempts, delivery.response_status) == ("delivered", 1, 200)


def test_a_failing_receiver_is_retried_with_backoff(events: EventService, receiver: Receiver) -> None:
    sub = events.webhooks.add("ws", receiver.url, ["revenue.payment_failed"], secret=SECRET)
    receiver.failures = 2
    events.publish("revenue.payment_failed", "ws", FAILED_PAYMENT, source="stripe")
    assert len(receiver.requests) == 3
    assert all(valid for _, _, valid in receiver.requests)
    [delivery] = events.webhooks.deliveries(subscription_id=sub.id)
    assert (delivery.status, delivery.attempts, delivery.response_status) == ("delivered", 3, 200)


def test_a_delivery_that_keeps_failing_is_logged_and_can_be_replayed(events: EventService,
                                                                    receiver: Receiver) -> None:
    sub = events.webhooks.add("ws", receiver.url, ["*"], secret=SECRET)
    receiver.failures = 100
    event = events.publish("revenue.payment_failed", "ws", FAILED_PAYMENT, source="stripe")
    [failed] = events.webhooks.deliveries(subscription_id=sub.id)
    assert failed.status == "failed" and failed.attempts == events.webhooks.attempts
    assert failed.response_status == 503 and "503" in (failed.error or "")
    assert events.dead_letters() == []  # a webhook failure is in the delivery log, not a handler crash
    receiver.failures = 0
    receiver.requests.clear()
    replayed = events.webhooks.replay(failed.id)
    assert replayed.status == "delivered" and replayed.id != failed.id
    [(_, body, valid)] = receiver.requests
    assert valid and parse_body(body)["id"] == event.id
    assert [d.status for d in events.webhooks.deliveries(subscription_id=sub.id)] == ["delivered", "failed"]


def test_an_unreachable_receiver_is_a_failed_delivery_not_a_crash(events: EventService) -> None:
    sub = events.webhooks.add("ws", f"http://127.0.0.1:{free_port()}/nobody", ["*"], secret=SECRET)
    events.webhooks.attempts = 2
    started = time.monotonic()
    events.publish("revenue.payment_failed", "ws", FAILED_PAYMENT, source="stripe")
    assert time.monotonic() - started < 10
    [delivery] = events.webhooks.deliveries(subscription_id=sub.id)
    assert delivery.status == "failed" and delivery.attempts == 2 and "ConnectError" in (delivery.error or "")


def test_bad_subscriptions_are_refused_with_the_reason(events: EventService) -> None:
    with pytest.raises(InvalidInput, match="absolute http"):
        events.webhooks.add("ws", "ftp://example.com", ["*"])
    with pytest.raises(InvalidInput, match="matches no event type"):
        events.webhooks.add("ws", "https://example.com/hook", ["revenue.refund*"])
    sub = events.webhooks.add("ws", "https://example.com/hook", ["content.published"])
    assert sub.secret.startswith("whsec_") and len(sub.secret) > 30
    events.webhooks.remove(sub.id)
    assert events.webhooks.subscriptions("ws") == []


# -- inbound ------------------------------------------------------------------------------------------------
STRIPE_SECRET = "whsec_stripe"


def stripe_delivery(event_id: str, event_type: str, obj: dict[str, object],
                    previous: dict[str, object] | None = None) -> tuple[bytes, str]:
    data: dict[str, object] = {"object": obj}
    if previous is not None:
        data["previous_attributes"] = previous
    body = json.dumps({"id": event_id, "type": event_type, "created": 1_764_079_200, "data": data}).encode()
    return body, stripe_sign(body, STRIPE_SECRET, int(time.time()))


def test_verified_stripe_webhooks_become_revenue_events(events: EventService) -> None:
    got: list[Event] = []
    events.subscribe("automation", got.append)
    inbound = InboundEvents(events, stripe_verifier=WebhookVerifier(STRIPE_SECRET))
    body, header = stripe_delivery("evt_1", "checkout.session.completed", {
        "id": "cs_1", "amount_total": 2900, "currency": "usd", "customer_details": {"email": "fan@example.com"},
        "metadata": {"workspace_id": "maya", "product_id": "prod_1"}})
    purchase = inbound.from_stripe(body, header, workspace_id="default")
    assert purchase is not None and purchase.type == "revenue.purchase_completed"
    assert purchase.workspace_id == "maya" and purchase.source == "stripe" and purchase.correlation_id == "evt_1"
    assert purchase.data["amount_cents"] == 2900 and purchase.data["customer_email"] == "fan@example.com"

    body, header = stripe_delivery("evt_2", "invoice.payment_failed", {
        "id": "in_1", "amount_due": 900, "currency": "eur", "customer_email": "x@example.com", "attempt_count": 2})
    failed = inbound.from_stripe(body, header, workspace_id="default")
    assert failed is not None and failed.type == "revenue.payment_failed" and failed.workspace_id == "default"
    assert failed.data["reason"] == "invoice payment failed (attempt 2)"

    body, header = stripe_delivery("evt_3", "customer.subscription.updated", {
        "id": "sub_1", "customer": "cus_1", "items": {"data": [{"price": {"id": "price_pro", "unit_amount": 4900}}]}},
        previous={"items": {"data": [{"price": {"id": "price_basic", "unit_amount": 1900}}]}})
    upgraded = inbound.from_stripe(body, header, workspace_id="default")
    assert upgraded is not None and upgraded.type == "revenue.subscription_upgraded"
    assert upgraded.data["mrr_delta_cents"] == 3000 and upgraded.data["from_plan"] == "price_basic"

    body, header = stripe_delivery("evt_4", "customer.created", {"id": "cus_2"})
    assert inbound.from_stripe(body, header, workspace_id="default") is None  # not an event we map
    assert [e.type for e in got] == ["revenue.purchase_completed", "revenue.payment_failed",
                                     "revenue.subscription_upgraded"]


def test_a_forged_or_broken_stripe_webhook_is_refused_or_dead_lettered(events: EventService) -> None:
    inbound = InboundEvents(events, stripe_verifier=WebhookVerifier(STRIPE_SECRET))
    body, header = stripe_delivery("evt_9", "checkout.session.completed", {"id": "cs_9", "amount_total": 100,
                                                                          "currency": "usd"})
    with pytest.raises(WebhookRejected):
        inbound.from_stripe(body.replace(b"100", b"1"), header, workspace_id="ws")
    assert events.query("ws") == []
    # Genuine but missing what our schema needs (no amount): dead-lettered with the reason, not lost.
    body, header = stripe_delivery("evt_10", "checkout.session.completed", {"id": "cs_10", "currency": "usd"})
    assert inbound.from_stripe(body, header, workspace_id="ws") is None
    [letter] = events.dead_letters()
    assert letter.stage == "validate" and "amount_cents" in letter.reason and letter.module == "stripe"


def test_platform_notifications_become_audience_and_content_events(events: EventService) -> None:
    inbound = InboundEvents(events)
    follow = inbound.from_platform("ws", "bluesky", {"kind": "follow", "id": "n1", "author": "@fan.bsky.social"})
    reply = inbound.from_platform("ws", "bluesky", {"kind": "reply", "id": "n2", "author": "@fan.bsky.social",
                                                    "text": "love this", "post_id": "p1"})
    like = inbound.from_platform("ws", "mastodon", {"kind": "favourite", "id": "n3", "post_id": "p1"})
    assert follow is not None and follow.type == "audience.follower_gained"
    assert reply is not None and reply.type == "audience.comment_received" and reply.data["text"] == "love this"
    assert like is not None and like.type == "content.engagement_received" and like.data["likes"] == 1
    # The same notification delivered twice is one event.
    inbound.from_platform("ws", "bluesky", {"kind": "follow", "id": "n1", "author": "@fan.bsky.social"})
    assert len(events.query("ws")) == 3
    assert inbound.from_platform("ws", "bluesky", {"kind": "starred", "id": "n4"}) is None
    [letter] = events.dead_letters()
    assert "unknown bluesky notification kind 'starred'" in letter.reason
