"""Database-backed replay protection for inbound webhooks (SeenEventStore) and how the Stripe handler uses it."""

from __future__ import annotations

import json
import time
from datetime import timedelta

import pytest
from pydantic import SecretStr
from sqlalchemy import func, select

from creator_studio.events.models import EventLogRow
from creator_studio.providers.payments.seen_events import SeenEventStore
from creator_studio.providers.payments.webhooks import SeenEvents, WebhookRejected, handle_stripe_webhook, sign
from creator_studio.store.db import Database
from creator_studio.studio import Studio
from tests.conftest import Clock

pytestmark = pytest.mark.unit



def test_an_id_is_claimed_once_per_source_across_store_instances(db: Database) -> None:
    first, second = SeenEventStore(db, clock=Clock()), SeenEventStore(db, clock=Clock())
    assert first.claim("evt_1") is True
    assert second.claim("evt_1") is False  # another process on the same database
    assert SeenEventStore(db, "github", clock=Clock()).claim("evt_1") is True  # another source is another space
    assert first.count() == 1


def test_a_completed_claim_is_final_and_a_released_one_is_claimable_again(db: Database) -> None:
    clock = Clock()
    store = SeenEventStore(db, clock=clock)
    assert store.claim("evt_done") and store.claim("evt_failed")
    store.complete("evt_done")
    store.release("evt_failed")  # processing failed on our side: the sender's retry must get through
    clock.now += timedelta(days=1)
    assert store.claim("evt_done") is False
    assert store.claim("evt_failed") is True


def test_an_unfinished_claim_is_taken_over_only_once_it_is_stale(db: Database) -> None:
    clock = Clock()
    store = SeenEventStore(db, clock=clock, stale_after=timedelta(minutes=2))
    assert store.claim("evt_crash")  # the process that claimed it dies before completing
    clock.now += timedelta(seconds=60)
    assert store.claim("evt_crash") is False  # maybe still being processed
    clock.now += timedelta(seconds=61)
    assert store.claim("evt_crash") is True  # the retry is processed, not lost
    assert store.claim("evt_crash") is False  # and only one retry wins the takeover


def test_ids_older_than_the_retention_are_pruned(db: Database) -> None:
    clock = Clock()
    store = SeenEventStore(db, clock=clock, retention=timedelta(days=7))
    store.claim("evt_old")
    store.complete("evt_old")
    clock.now += timedelta(days=8)
    store.claim("evt_new")  # pruning runs with each new claim
    assert store.count() == 1
    with pytest.raises(ValueError, match="retention"):
        SeenEventStore(db, retention=timedelta(minutes=1))


def test_the_in_memory_log_supports_release_too() -> None:
    seen = SeenEvents(capacity=2)
    assert seen.claim("a") and not seen.claim("a")
    seen.release("a")
    assert seen.claim("a")
    seen.claim("b")
    seen.claim("c")  # over capacity: the oldest is forgotten
    assert seen.claim("a")


def _events(studio: Studio) -> int:
    with studio.db.transaction() as session:
        return int(session.scalar(select(func.count()).select_from(EventLogRow)) or 0)


def test_the_handler_releases_the_claim_when_publishing_fails(studio: Studio, monkeypatch: pytest.MonkeyPatch
                                                              ) -> None:
    studio.settings.stripe_webhook_secret = SecretStr("whsec_release_test")
    now = int(time.time())
    body = json.dumps({"id": "evt_release_1", "type": "checkout.session.completed", "created": now,
                       "data": {"object": {"id": "cs_1", "amount_total": 4900, "currency": "usd"}}}).encode()
    header = sign(body, "whsec_release_test", now)
    before = _events(studio)

    def broken(*_args: object, **_kwargs: object) -> None:
        raise RuntimeError("database went away")

    monkeypatch.setattr(studio.events, "collect", broken)
    with pytest.raises(RuntimeError, match="went away"):
        handle_stripe_webhook(studio, "default", body, header)
    monkeypatch.undo()
    assert _events(studio) == before

    event = handle_stripe_webhook(studio, "default", body, header)  # Stripe's retry: processed, not a "replay"
    assert event is not None and event.correlation_id == "evt_release_1"
    assert _events(studio) == before + 1
    with pytest.raises(WebhookRejected, match="already received"):
        handle_stripe_webhook(studio, "default", body, header)
    assert SeenEventStore(studio.db).count() == 1
