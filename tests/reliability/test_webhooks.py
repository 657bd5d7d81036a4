"""R4 webhooks: an inbound Stripe webhook with a wrong signature, a stale (> 300 s) or future timestamp, no
signature, or a replayed event id is rejected by the API with a problem detail and publishes nothing; a good
one is accepted once. Seen event ids are kept in the database: a replay sent to a second Studio instance (another
API process) on the same database, concurrent deliveries of one event to both, and a replay after a restart are
all refused and publish nothing. The signatures Studio puts on its own outbound deliveries are checked the same
way.

Run: .venv/bin/pytest -q -p no:cacheprovider tests/reliability/test_webhooks.py
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import pytest
from fastapi.testclient import TestClient
from pydantic import SecretStr
from sqlalchemy import func, select

from creator_studio.api.app import create_app
from creator_studio.events.models import EventLogRow
from creator_studio.events.schemas import Event
from creator_studio.events.webhooks import sign as sign_delivery
from creator_studio.events.webhooks import verify_signature
from creator_studio.providers.payments.seen_events import SeenEventStore
from creator_studio.providers.payments.webhooks import WebhookRejected, handle_stripe_webhook, sign
from creator_studio.runs.runner import Runner
from creator_studio.store.db import Base, Database
from creator_studio.studio import Studio
from tests.conftest import FIXED_NOW, make_settings
from tests.reliability.figures import report

pytestmark = pytest.mark.integration
URL = "/api/webhooks/stripe/default"


@pytest.fixture
def secret(studio: Studio) -> str:
    # A fresh secret per test (each test has its own database, so its own memory of seen event ids).
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
    # 301 s when signed, plus however long the (shared, slow) machine took to get the request there.
    age = re.search(r"timestamp is (\d+) s old; the limit is 300 s", rejected["stale_301s"])
    assert age is not None and 301 <= int(age.group(1)) < 400, rejected["stale_301s"]
    assert "in the future" in rejected["future_400s"]
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


# Run in a fresh interpreter: open the studio on the same home and deliver each body (freshly signed).
RESTARTED_PROCESS = """
import json, sys, time
from datetime import datetime
from creator_studio.providers.payments.webhooks import WebhookRejected, handle_stripe_webhook, sign
from creator_studio.settings import Settings
from creator_studio.studio import Studio

settings = Settings()
studio = Studio.open(settings, migrate_schema=False)
studio.clock = lambda: datetime.fromisoformat(sys.argv[1])
answers = []
for body in sys.argv[2:]:
    payload = body.encode()
    header = sign(payload, settings.stripe_webhook_secret.get_secret_value(), int(time.time()))
    try:
        handle_stripe_webhook(studio, "default", payload, header)
        answers.append("accepted")
    except WebhookRejected as exc:
        answers.append(exc.message)
studio.close()
print(json.dumps(answers))
"""


def second_instance(studio: Studio) -> Studio:
    """Another Studio on the same database and settings: what a second API process (or a restart) is."""
    settings = make_settings(studio.settings.home, stripe_webhook_secret=studio.settings.stripe_webhook_secret)
    other = Studio.open(settings, migrate_schema=False)
    other.clock = lambda: FIXED_NOW
    return other


def test_a_replayed_event_id_is_refused_by_another_instance_concurrently_and_after_a_restart(
        studio: Studio, client: TestClient, secret: str) -> None:
    now = int(time.time())
    good = checkout_event("evt_multi_1")
    routed: list[Event] = []  # what subscribers (analytics, triggers, webhooks) would act on
    status, body, _ = post(client, good, sign(good, secret, now))
    assert status == 200 and body["received"] is True
    baseline = events_logged(studio)

    other = second_instance(studio)
    for instance in (studio, other):
        instance.events.subscribe("replaycheck", routed.append, types=["revenue.*"])
    try:
        with TestClient(create_app(other), raise_server_exceptions=False) as other_client:
            status, problem, _ = post(other_client, good, sign(good, secret, now + 2))  # freshly signed replay
            other_client.app.state.api.runner.close()  # type: ignore[attr-defined]
        assert status == 400 and "already received" in str(problem["detail"]), problem

        # One new event delivered to both instances at once, 8 times: exactly one delivery is processed.
        fresh = checkout_event("evt_multi_2")
        header = sign(fresh, secret, now)

        def deliver(instance: Studio) -> str:
            try:
                handle_stripe_webhook(instance, "default", fresh, header)
                return "accepted"
            except WebhookRejected as exc:
                return exc.message

        with ThreadPoolExecutor(max_workers=8) as pool:
            outcomes = list(pool.map(deliver, [studio, other] * 4))
        assert outcomes.count("accepted") == 1, outcomes
        assert all("already received" in outcome for outcome in outcomes if outcome != "accepted"), outcomes
    finally:
        other.close()
    assert events_logged(studio) == baseline + 1  # evt_multi_2 once; the replays of evt_multi_1 nothing

    # A separate process started afterwards (a restarted API) shares nothing in memory with this one.
    replays = [checkout_event(event_id).decode() for event_id in ("evt_multi_1", "evt_multi_2")]
    env = {**os.environ, "STUDIO_HOME": str(studio.settings.home), "STUDIO_MODEL": "offline",
           "STUDIO_STRIPE_WEBHOOK_SECRET": secret}
    env.pop("STUDIO_REDIS_URL", None)
    child = subprocess.run([sys.executable, "-c", RESTARTED_PROCESS, FIXED_NOW.isoformat(), *replays], env=env,
                           capture_output=True, text=True, timeout=180)
    assert child.returncode == 0, child.stderr[-2000:]
    answers = json.loads(child.stdout.strip().splitlines()[-1])
    assert len(answers) == 2 and all("already received" in answer for answer in answers), answers
    remembered = SeenEventStore(studio.db).count()
    assert events_logged(studio) == baseline + 1
    # Subscribers (where side effects happen) saw the concurrent event once and the replays never.
    assert [e.correlation_id for e in routed] == ["evt_multi_2"]
    assert remembered == 2
    report("r4_webhooks_replay_across_instances", {
        "instances": 2, "concurrent_deliveries": 8, "accepted": outcomes.count("accepted"),
        "replays_after_restart_refused": sum("already received" in answer for answer in answers),
        "events_from_replays": events_logged(studio) - baseline - 1})


def test_seen_event_ids_on_postgresql_one_claim_wins_across_processes(postgres_server: str) -> None:
    """The at-scale profile: API processes share PostgreSQL (insert ... on conflict do nothing there)."""
    first = Database(postgres_server)
    Base.metadata.create_all(first.engine)
    engines = [first, *(Database(postgres_server) for _ in range(3))]  # one engine (pool) per API process
    stores = [SeenEventStore(db) for db in engines]
    event_id = f"evt_pg_{uuid.uuid4().hex}"
    try:
        with ThreadPoolExecutor(max_workers=8) as pool:
            won = list(pool.map(lambda n: stores[n % len(stores)].claim(event_id), range(16)))
        assert won.count(True) == 1, won
        stores[won.index(True) % len(stores)].complete(event_id)
        assert not any(store.claim(event_id) for store in stores)  # a replay to any process, any time later
        restarted = SeenEventStore(Database(postgres_server))
        assert restarted.claim(event_id) is False and restarted.claim(f"{event_id}_next") is True
    finally:
        for db in engines:
            db.dispose()
    report("r4_webhooks_replay_postgresql", {"processes": len(stores), "concurrent_claims": 16,
                                             "won": won.count(True)})
