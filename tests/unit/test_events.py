"""The event backbone on the in-process bus: validation, routing, dead letters, the hash-chained audit log."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import ValidationError
from sqlalchemy import delete, update

from creator_studio.automation.definitions import KNOWN_EVENTS, EventTrigger
from creator_studio.events import EVENT_TYPES, Event, EventService, InvalidEvent
from creator_studio.events.audit import canonical_json, record_json
from creator_studio.events.models import EventLogRow
from creator_studio.events.schemas import EVENT_SCHEMAS, RevenuePaymentFailed
from creator_studio.store.db import Database
from tests.conftest import FIXED_NOW

pytestmark = pytest.mark.unit

SEED_EVENTS = {
    "content.published", "content.engagement_received", "content.milestone_reached", "content.optimized",
    "audience.follower_gained", "audience.engagement_threshold_crossed", "audience.member_joined",
    "audience.lead_qualified", "revenue.purchase_completed", "revenue.subscription_upgraded",
    "revenue.payment_failed", "revenue.churn_risk_detected", "system.workflow_completed",
    "system.integration_error", "system.performance_alert", "system.recommendation_generated",
}
FAILED_PAYMENT = {"payment_id": "pi_1", "amount_cents": 2900, "currency": "usd", "customer_email": "a@example.com"}


@pytest.fixture
def events(db: Database) -> Iterator[EventService]:
    service = EventService(db, clock=lambda: FIXED_NOW, retry_delay_s=0.001)
    yield service
    service.close()


def test_every_seed_event_has_a_versioned_schema_and_automation_uses_the_same_list() -> None:
    assert set(EVENT_TYPES) >= SEED_EVENTS
    assert all((name, 1) in EVENT_SCHEMAS for name in SEED_EVENTS)
    assert frozenset(EVENT_TYPES) == KNOWN_EVENTS
    assert EventTrigger(event="revenue.product_created").event == "revenue.product_created"


def test_an_event_validates_its_payload_and_envelope() -> None:
    event = Event(type="revenue.payment_failed", workspace_id="ws", source="revenue", data=FAILED_PAYMENT)
    assert isinstance(event.payload(), RevenuePaymentFailed)
    assert event.occurred_at.tzinfo is not None
    with pytest.raises(ValueError, match="amount_cents"):
        Event(type="revenue.payment_failed", workspace_id="ws", source="revenue", data={"payment_id": "x"})
    with pytest.raises(ValueError, match=r"unknown event type 'revenue\.refunded'"):
        Event(type="revenue.refunded", workspace_id="ws", source="revenue", data={})
    with pytest.raises(ValueError, match="has no version 2"):
        Event(type="content.published", version=2, workspace_id="ws", source="content", data={})
    with pytest.raises(ValueError, match="time zone"):
        Event(type="content.published", workspace_id="ws", source="content", occurred_at=datetime(2026, 1, 1),
              data={"post_id": "p", "platform": "bluesky"})


def test_publish_routes_to_the_modules_that_subscribed_and_stores_the_event(events: EventService) -> None:
    revenue: list[Event] = []
    everything: list[Event] = []
    events.subscribe("analytics", revenue.append, types=["revenue.*"])
    events.subscribe("dashboard", everything.append)
    published = events.publish("content.published", "ws", {"post_id": "p1", "platform": "bluesky"},
                               source="content", correlation_id="run_1")
    failed = events.publish("revenue.payment_failed", "ws", FAILED_PAYMENT, source="stripe")
    assert [e.id for e in revenue] == [failed.id]
    assert [e.id for e in everything] == [published.id, failed.id]
    assert published.occurred_at == FIXED_NOW
    assert [e.id for e in events.query("ws")] == [published.id, failed.id]
    assert [e.id for e in events.query("ws", types=["revenue.*"])] == [failed.id]
    assert [e.id for e in events.query("ws", correlation_id="run_1")] == [published.id]
    assert events.query("other") == []
    assert events.query("ws", since=FIXED_NOW + timedelta(seconds=1)) == []


def test_an_invalid_event_is_dead_lettered_with_its_reason_and_the_next_one_still_flows(
        events: EventService) -> None:
    got: list[Event] = []
    events.subscribe("automation", got.append)
    with pytest.raises(InvalidEvent, match="amount_cents: Field required"):
        events.publish("revenue.payment_failed", "ws", {"payment_id": "pi_9"}, source="revenue")
    # Untrusted input (e.g. from an integration) is never raised at the caller: it is dead-lettered.
    assert events.collect("{not json", source="bluesky") is None
    assert events.collect({"type": "content.exploded", "workspace_id": "ws", "source": "x", "data": {}}) is None
    ok = events.publish("revenue.payment_failed", "ws", FAILED_PAYMENT, source="revenue")
    assert [e.id for e in got] == [ok.id]
    letters = {letter.reason: letter for letter in events.dead_letters()}
    assert len(letters) == 3
    reasons = " | ".join(letters)
    assert "amount_cents: Field required" in reasons
    assert "unknown event type 'content.exploded'" in reasons
    assert "Invalid JSON" in reasons
    assert all(letter.stage == "validate" for letter in letters.values())
    # Nothing invalid reached the audit log.
    assert [e.id for e in events.query("ws")] == [ok.id]


def test_a_failing_handler_is_retried_then_dead_lettered_and_others_keep_going(events: EventService) -> None:
    calls: list[str] = []

    def flaky_then_fine(event: Event) -> None:
        calls.append(event.id)
        if len(calls) < 2:
            raise ConnectionError("temporarily down")

    def always_broken(event: Event) -> None:
        raise KeyError("customer_id")

    healthy: list[Event] = []
    events.subscribe("crm", flaky_then_fine, types=["revenue.payment_failed"])
    events.subscribe("broken", always_broken, types=["revenue.*"])
    events.subscribe("analytics", healthy.append)
    first = events.publish("revenue.payment_failed", "ws", FAILED_PAYMENT, source="revenue")
    second = events.publish("revenue.payment_failed", "ws", {**FAILED_PAYMENT, "payment_id": "pi_2"},
                            source="revenue")
    assert calls == [first.id, first.id, second.id]  # the first try failed, the retry succeeded
    assert [e.id for e in healthy] == [first.id, second.id]
    letters = events.dead_letters("ws")
    assert len(letters) == 2
    assert {letter.event_id for letter in letters} == {first.id, second.id}
    for letter in letters:
        assert letter.stage == "handler" and letter.module == "broken"
        assert letter.handler is not None and letter.handler.endswith("always_broken")
        assert letter.reason == "KeyError: 'customer_id'"
        assert letter.attempts == events.max_attempts


def test_a_dead_letter_is_replayed_to_the_module_that_failed(events: EventService) -> None:
    broken = True
    got: list[Event] = []

    def handler(event: Event) -> None:
        if broken:
            raise RuntimeError("bug")
        got.append(event)

    other: list[Event] = []
    events.subscribe("crm", handler)
    events.subscribe("analytics", other.append)
    event = events.publish("audience.member_joined", "ws", {"member_id": "m1"}, source="engagement")
    [letter] = events.dead_letters()
    broken = False
    assert events.replay_dead_letter(letter.id) == event
    assert got == [event]
    assert len(other) == 1  # only the module that failed gets it again
    assert events.dead.get(letter.id).replayed_at is not None


def test_events_published_by_a_handler_are_delivered_after_the_current_one(events: EventService) -> None:
    order: list[str] = []

    def follow_up(event: Event) -> None:
        order.append(event.type)
        if event.type == "revenue.payment_failed":
            events.publish("revenue.churn_risk_detected", event.workspace_id, {"customer_id": "c1", "risk": 0.7},
                           source="revenue", correlation_id=event.id)

    events.subscribe("automation", follow_up)
    events.subscribe("dashboard", lambda event: order.append("dashboard:" + event.type))
    events.publish("revenue.payment_failed", "ws", FAILED_PAYMENT, source="revenue")
    assert order == ["revenue.payment_failed", "dashboard:revenue.payment_failed",
                     "revenue.churn_risk_detected", "dashboard:revenue.churn_risk_detected"]


def test_publishing_the_same_event_twice_stores_and_routes_it_once(events: EventService) -> None:
    got: list[Event] = []
    events.subscribe("analytics", got.append)
    event = Event(type="audience.follower_gained", workspace_id="ws", source="bluesky", data={"platform": "bluesky"})
    events.publish_event(event)
    events.publish_event(event)
    events.publish_many([event, event])
    assert got == [event]
    assert len(events.query("ws")) == 1


def test_subscribing_to_a_pattern_that_matches_nothing_is_refused(events: EventService) -> None:
    with pytest.raises(ValueError, match="matches no event type"):
        events.subscribe("analytics", lambda event: None, types=["revenu.*"])


def _fill(events: EventService, count: int) -> list[Event]:
    return [events.publish("audience.follower_gained", ws, {"platform": "bluesky", "count": i + 1}, source="test")
            for i in range(count) for ws in ("ws", "other")]


def test_audit_verify_passes_on_an_untouched_log(events: EventService) -> None:
    _fill(events, 5)
    reports = events.verify_audit()
    assert [(r.workspace_id, r.checked, r.ok) for r in reports] == [("other", 5, True), ("ws", 5, True)]


def test_audit_verify_detects_an_edited_row(events: EventService, db: Database) -> None:
    published = _fill(events, 5)
    target = [e for e in published if e.workspace_id == "ws"][2]
    with db.transaction() as session:
        session.execute(update(EventLogRow).where(EventLogRow.event_id == target.id)
                        .values(data={"platform": "bluesky", "count": 999}))
    report = {r.workspace_id: r for r in events.verify_audit()}
    assert report["other"].ok
    assert not report["ws"].ok
    assert report["ws"].problems == [f"position 3 (event {target.id}): content does not match its hash "
                                     f"(the row was edited)"]


def test_audit_verify_detects_a_removed_row_and_a_removed_tail(events: EventService, db: Database) -> None:
    published = [e for e in _fill(events, 5) if e.workspace_id == "ws"]
    with db.transaction() as session:
        session.execute(delete(EventLogRow).where(EventLogRow.event_id == published[1].id))
        session.execute(delete(EventLogRow).where(EventLogRow.event_id == published[4].id))
    [report] = events.verify_audit("ws")
    assert not report.ok and "position 2: missing" in report.problems[0]

    with db.transaction() as session:  # rebuild a chain, then drop only its newest row
        session.execute(delete(EventLogRow).where(EventLogRow.workspace_id == "other",
                                                  EventLogRow.position == 5))
    [other] = events.verify_audit("other")
    assert not other.ok and "rows were removed at the end" in other.problems[0]


def test_a_rewritten_row_with_a_recomputed_hash_still_breaks_the_chain(events: EventService, db: Database) -> None:
    """Re-hashing an edited row is not enough: the next row's prev_hash no longer matches."""
    from creator_studio.events.audit import chain_hash, row_record

    published = [e for e in _fill(events, 3) if e.workspace_id == "ws"]
    with db.transaction() as session:
        row = session.query(EventLogRow).filter_by(event_id=published[0].id).one()
        row.data = {"platform": "x", "count": 1, "total": None, "handle": None}
        row.hash = chain_hash(row_record(row), row.prev_hash)
    [report] = events.verify_audit("ws")
    assert not report.ok and "position 2" in report.problems[0] and "prev_hash" in report.problems[0]


def test_a_keyed_publish_is_stored_and_routed_once(events: EventService) -> None:
    got: list[Event] = []
    events.subscribe("analytics", got.append)
    data = {"post_id": "p1", "platform": "bluesky"}
    first = events.publish("content.published", "ws", data, source="content", key="tool-call-1")
    again = events.publish("content.published", "ws", data, source="content", key="tool-call-1")
    other = events.publish("content.published", "ws", data, source="content", key="tool-call-2")
    assert first.id == again.id != other.id
    assert [e.id for e in got] == [first.id, other.id]
    assert len(events.query("ws")) == 2


_JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers(min_value=-(2**63), max_value=2**63)
    | st.floats(allow_nan=False, allow_infinity=False) | st.text(),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3),
    max_leaves=12)


@settings(max_examples=300, deadline=None)
@given(extra=st.dictionaries(st.text(max_size=10).filter(lambda k: k not in RevenuePaymentFailed.model_fields),
                             _JSON_VALUES, max_size=4),
       workspace=st.text(min_size=1, max_size=20), source=st.text(min_size=1, max_size=20),
       correlation=st.none() | st.text(max_size=30))
def test_the_audit_record_json_is_byte_for_byte_the_canonical_json(
        extra: dict[str, object], workspace: str, source: str, correlation: str | None) -> None:
    """The audit append builds the hashed text from its parts; `verify` hashes `canonical_json` of the row."""
    try:
        event = Event(type="revenue.payment_failed", workspace_id=workspace, source=source,
                      correlation_id=correlation, data={**FAILED_PAYMENT, **extra})
    except ValidationError:
        return  # e.g. a blank workspace after stripping: not an event at all
    text, data = record_json(event)
    assert text == canonical_json(event.to_record())
    assert data == canonical_json(event.data)


def test_a_handler_that_fails_once_in_a_batch_is_retried_and_one_that_keeps_failing_is_dead_lettered(
        db: Database) -> None:
    service = EventService(db, clock=lambda: FIXED_NOW, retry_delay_s=0.001, max_attempts=2)
    flaky_calls: list[str] = []

    def flaky(event: Event) -> None:
        flaky_calls.append(event.id)
        if len(flaky_calls) == 1:
            raise RuntimeError("first call fails")

    def broken(event: Event) -> None:
        raise ValueError(f"cannot handle {event.data['payment_id']}")

    service.subscribe("crm", flaky)
    service.subscribe("crm", broken)
    batch = [Event(type="revenue.payment_failed", workspace_id="ws", source="t",
                   data={**FAILED_PAYMENT, "payment_id": f"pi_{i}"}) for i in range(3)]
    service.process_many("crm", batch)
    assert flaky_calls == [batch[0].id, batch[0].id, batch[1].id, batch[2].id]
    letters = service.dead_letters("ws")
    assert sorted(letter.reason for letter in letters) == [f"ValueError: cannot handle pi_{i}" for i in range(3)]
    assert all(letter.attempts == 2 and letter.stage == "handler" for letter in letters)
    service.close()

    once = EventService(db, clock=lambda: FIXED_NOW, retry_delay_s=0.001, max_attempts=1)
    once.subscribe("crm", broken)
    once.process_many("crm", batch[:1])
    assert sorted(letter.attempts for letter in once.dead_letters("ws") if letter.reason.endswith("pi_0")) == [1, 2]
    once.close()


def test_the_worker_gc_policy_freezes_start_up_objects_and_raises_the_thresholds() -> None:
    import gc

    from creator_studio import gc_policy

    before = gc.get_threshold()
    try:
        gc_policy.tune_for_worker()
        assert gc.get_threshold() == gc_policy.WORKER_THRESHOLDS
        assert gc.get_freeze_count() > 0
    finally:
        gc.unfreeze()
        gc.set_threshold(*before)
