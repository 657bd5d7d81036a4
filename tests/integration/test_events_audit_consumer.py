"""On Redis the audit log is a consumer group of its own: every event stored exactly once, also after a crash."""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator

import pytest
from sqlalchemy import func, select

from creator_studio.events import Event, EventService
from creator_studio.events.models import EventLogRow
from creator_studio.events.redis_bus import AUDIT_GROUP, RedisBus
from creator_studio.store.db import Database

pytestmark = pytest.mark.integration


@pytest.fixture
def events(db: Database, redis_server: str) -> Iterator[EventService]:
    service = EventService(db, redis_url=redis_server, retry_delay_s=0.001)
    bus = service.bus
    assert isinstance(bus, RedisBus)
    bus.stream = f"test:audit:{uuid.uuid4().hex[:8]}"
    bus.audit_min_idle_ms = 200
    yield service
    service.close()


def bus_of(service: EventService) -> RedisBus:
    assert isinstance(service.bus, RedisBus)
    return service.bus


def followers(count: int) -> list[Event]:
    return [Event(type="audience.follower_gained", workspace_id=f"ws{i % 2}", source="t", data={"platform": "x"})
            for i in range(count)]


def stored_ids(db: Database) -> list[str]:
    with db.transaction() as session:
        return list(session.scalars(select(EventLogRow.event_id)))


def test_the_worker_stores_each_event_once_even_when_it_is_on_the_stream_twice(
        events: EventService, db: Database) -> None:
    got: list[Event] = []
    events.subscribe("crm", got.append)
    published = events.publish_many(followers(30))
    assert stored_ids(db) == []  # the publisher only XADDs; the audit consumer stores
    bus_of(events).send(published[:10])  # a publisher retry: the same events on the stream again
    events.run_consumers(consumer="w", block_ms=50, max_batches=3)
    assert sorted(stored_ids(db)) == sorted(e.id for e in published)
    assert sorted(e.id for e in got) == sorted(e.id for e in published)
    assert all(report.ok and report.checked == 15 for report in events.verify_audit())
    bus = bus_of(events)
    assert bus.client.xpending(bus.stream, AUDIT_GROUP)["pending"] == 0


def test_an_audit_consumer_that_crashed_after_its_commit_is_taken_over_without_duplicates(
        events: EventService, db: Database) -> None:
    bus = bus_of(events)
    bus.ensure_group(AUDIT_GROUP)
    published = events.publish_many(followers(20))
    # A consumer read the batch and committed it, then died before XACK: the entries stay pending.
    bus.client.xreadgroup(AUDIT_GROUP, "crashed", {bus.stream: ">"}, count=100)
    events.audit.append(published)
    assert bus.client.xpending(bus.stream, AUDIT_GROUP)["pending"] == 1  # one entry: a pack of the 20
    time.sleep(0.3)  # longer than audit_min_idle_ms: the survivor takes them over
    events.run_consumers(consumer="survivor", block_ms=50, max_batches=2)
    assert bus.client.xpending(bus.stream, AUDIT_GROUP)["pending"] == 0
    with db.transaction() as session:
        assert session.scalar(select(func.count()).select_from(EventLogRow)) == 20
    assert sorted(stored_ids(db)) == sorted(e.id for e in published)
    assert all(report.ok for report in events.verify_audit())


def test_a_worker_that_stops_stores_what_is_on_the_stream_first(events: EventService, db: Database) -> None:
    import threading

    stop = threading.Event()
    stop.set()  # already asked to stop: the loop does not run, the shutdown flush still stores everything
    published = events.publish_many(followers(5))
    assert events.run_consumers(consumer="w", stop=stop) == 5
    assert sorted(stored_ids(db)) == sorted(e.id for e in published)


def test_a_publisher_reads_its_own_events_without_waiting_for_a_worker(events: EventService, db: Database) -> None:
    published = events.publish("audience.follower_gained", "ws0", {"platform": "x"}, source="t")
    assert stored_ids(db) == []  # not stored yet: no worker has run
    assert [e.id for e in events.query("ws0")] == [published.id]  # the read stores the backlog first
    assert events.get(published.id) == published
    assert stored_ids(db) == [published.id]
