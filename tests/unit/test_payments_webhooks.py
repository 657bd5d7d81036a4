"""Stripe webhook verification: signature over the raw body, 300 s tolerance, replay refusal."""

from __future__ import annotations

import json
import time

import pytest

from creator_studio.providers.payments.webhooks import (
    WebhookRejected,
    WebhookVerifier,
    handle_stripe_webhook,
    sign,
)
from creator_studio.studio import Studio

pytestmark = pytest.mark.unit

SECRET = "whsec_test_123"
NOW = 1_790_000_000
BODY = json.dumps({"id": "evt_1", "type": "invoice.paid", "created": NOW, "data": {"object": {"id": "in_1"}}},
                  indent=2).encode()


def verifier(now: float = NOW) -> WebhookVerifier:
    return WebhookVerifier(SECRET, clock=lambda: now)


def test_a_genuine_event_is_accepted_once() -> None:
    check = verifier()
    event = check.verify(BODY, sign(BODY, SECRET, NOW))
    assert (event.id, event.type, event.data["object"]["id"]) == ("evt_1", "invoice.paid", "in_1")
    with pytest.raises(WebhookRejected, match="already received"):
        check.verify(BODY, sign(BODY, SECRET, NOW + 5))  # the same event id delivered again


def test_any_of_several_v1_signatures_may_match() -> None:  # a secret being rolled sends two
    genuine = sign(BODY, SECRET, NOW).split("v1=")[1]
    assert verifier().verify(BODY, f"t={NOW},v1={'f' * 64},v1={genuine}").id == "evt_1"


@pytest.mark.parametrize(
    ("body", "header", "message"),
    [
        (BODY, sign(BODY, "whsec_other", NOW), "does not match"),
        (BODY.replace(b"in_1", b"in_2"), sign(BODY, SECRET, NOW), "does not match"),  # body changed
        (json.dumps(json.loads(BODY)).encode(), sign(BODY, SECRET, NOW), "does not match"),  # re-serialised
        (BODY, None, "no Stripe-Signature"),
        (BODY, "v1=abc", "no t= timestamp"),
        (BODY, f"t={NOW}", "no v1= signature"),
        (BODY, "t=soon,v1=abc", "not a number"),
        (b"not json", sign(b"not json", SECRET, NOW), "not a Stripe event"),
    ],
)
def test_wrong_requests_are_rejected(body: bytes, header: str | None, message: str) -> None:
    with pytest.raises(WebhookRejected, match=message):
        verifier().verify(body, header)


def test_the_timestamp_must_be_within_300_seconds() -> None:
    header = sign(BODY, SECRET, NOW)
    assert verifier(NOW + 300).verify(BODY, header).id == "evt_1"
    with pytest.raises(WebhookRejected, match="301 s old"):
        verifier(NOW + 301).verify(BODY, header)
    with pytest.raises(WebhookRejected, match="in the future"):
        verifier(NOW - 400).verify(BODY, header)


def test_a_missing_secret_is_a_clear_error() -> None:
    with pytest.raises(WebhookRejected, match="STUDIO_STRIPE_WEBHOOK_SECRET"):
        WebhookVerifier("")


def test_the_api_handler_verifies_then_publishes_once(studio: Studio) -> None:
    from pydantic import SecretStr

    studio.settings.stripe_webhook_secret = SecretStr("whsec_handler_test")
    now = int(time.time())
    body = json.dumps({"id": "evt_handler_1", "type": "payment_intent.payment_failed", "created": now,
                       "data": {"object": {"id": "pi_1", "amount": 2900, "currency": "usd",
                                           "last_payment_error": {"message": "Your card was declined."}}}}).encode()
    header = sign(body, "whsec_handler_test", now)

    event = handle_stripe_webhook(studio, "default", body, header)

    assert event is not None and event.type == "revenue.payment_failed"
    with pytest.raises(ValueError, match="already received"):  # the API turns ValueError into a 400
        handle_stripe_webhook(studio, "default", body, header)
    with pytest.raises(WebhookRejected, match="does not match"):
        handle_stripe_webhook(studio, "default", body, sign(body, "whsec_wrong", now))
