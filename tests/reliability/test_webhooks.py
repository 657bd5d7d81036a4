"""R4 webhooks: an inbound Stripe webhook with a wrong signature, a stale (> 300 s) or future timestamp, no
signature, or a replayed event id is rejected by the API with a problem detail and publishes nothing; a good
one is accepted once. The signatures Studio puts on its own outbound deliveries are checked the same way.

Run: .venv/bin/pytest -q -p no:cacheprovider tests/reliability/test_webhooks.py
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from pydantic import SecretStr
from sqlalchemy import func, select

from creator_studio.api.app import create_app
from creator_studio.events.models import EventLogRow
from creator_studio.events.webhooks import sign as sign_delivery
from creator_studio.events.webhooks import verify_signature
from creator_studio.providers.payments.webhooks import sign
from creator_studio.runs.runner import Runner
from creator_studio.studio import Studio
from tests.reliability.figures import report

pytestmark = pytest.mark.integration
URL = "/api/webhooks/stripe/default"


@pytest.fixture
def secret(studio: Studio) -> str:
    # A fresh secret per test: the verifier (and its replay memory) is shared per secret in the process.
    value = f"whsec_{uuid.uuid4().hex}"
    studio.settings.stripe_webhook_secret = SecretStr(value)
    return value


@pytest.fixture
def client(studio: Studio, runner: Runner, secret: str) -> Iterator[TestClient]:
    with TestClient(create_app(studio, runner=runner), raise_server_exceptions=False) as test_client:
        yield test_client


def checkout_event(event_id: str) -> bytes:
    return json.dumps({"id": event_id, "type": "checkout.session.completed", "created": int(time.time()),
                       "data": {"object": {"id": f"cs_{event_id}", "amount_total": 4900, "currency": "usd",
                                           "customer_details": {"email": "ana@example.com"},
                                           "metadata": {"workspace_id": "default"}}}}).encode()


def events_logged(studio: Studio) -> int:
    with studio.db.transaction() as session:
        return int(session.scalar(select(func.count()).select_from(EventLogRow)) or 0)


def post(client: TestClient, body: bytes, header: str | None) -> tuple[int, dict[str, object], str]:
    headers = {"content-type": "application/json"} | ({"stripe-signature": header} if header else {})
    response = client.post(URL, content=body, headers=headers)
    return response.status_code, response.json(), response.headers.get("content-type", "")


def test_bad_stale_and_replayed_stripe_webhooks_are_rejected(studio: Studio, client: TestClient,
                                                            secret: str) -> None:
    now = int(time.time())
    good = checkout_event("evt_reliability_1")
    status, body, _ = post(client, good, sign(good, secret, now))
    assert status == 200 and body["received"] is True
    baseline = events_logged(studio)
    assert baseline >= 1

    attacks = {
        "wrong_signature": (checkout_event("evt_r2"), sign(checkout_event("evt_r2"), "whsec_not_the_secret", now)),
        "tampered_body": (checkout_event("evt_r3").replace(b"4900", b"1"), sign(checkout_event("evt_r3"), secret,
                                                                                 now)),
        "stale_301s": (checkout_event("evt_r4"), sign(checkout_event("evt_r4"), secret, now - 301)),
        "stale_1h": (checkout_event("evt_r5"), sign(checkout_event("evt_r5"), secret, now - 3600)),
        "future_400s": (checkout_event("evt_r6"), sign(checkout_event("evt_r6"), secret, now + 400)),
        "replayed_id": (good, sign(good, secret, now + 1)),  # freshly and correctly signed, same event id
        "replayed_exact": (good, sign(good, secret, now)),
        "no_signature": (checkout_event("evt_r7"), None),
        "garbage_header": (checkout_event("evt_r8"), "t=abc,v1=zz"),
    }
    rejected: dict[str, str] = {}
    for name, (payload, header) in attacks.items():
        status, problem, content_type = post(client, payload, header)
        assert status == 400, (name, status, problem)
        assert content_type.startswith("application/problem+json") and "rejected" in str(problem["detail"])
        rejected[name] = str(problem["detail"])
    assert "does not match" in rejected["wrong_signature"] and "does not match" in rejected["tampered_body"]
    assert "301 s old" in rejected["stale_301s"] and "in the future" in rejected["future_400s"]
    assert "already received" in rejected["replayed_id"] and "already received" in rejected["replayed_exact"]
    assert events_logged(studio) == baseline  # nothing rejected became an event
    report("r4_webhooks_stripe", {"attacks": len(attacks), "rejected": len(rejected), "accepted_good": 1,
                                  "events_from_rejected": events_logged(studio) - baseline})


def test_outbound_delivery_signatures_fail_on_wrong_secret_or_stale_timestamp() -> None:
    body, now = b'{"id": "e1"}', time.time()
    header = sign_delivery(body, "s3cret", int(now))
    assert verify_signature(body, header, "s3cret", now=now)
    assert not verify_signature(body, header, "other", now=now)
    assert not verify_signature(body + b" ", header, "s3cret", now=now)
    assert not verify_signature(body, sign_delivery(body, "s3cret", int(now) - 301), "s3cret", now=now)
    assert not verify_signature(body, "t=x,v1=y", "s3cret", now=now)
