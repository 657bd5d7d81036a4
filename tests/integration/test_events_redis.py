"""The event bus on a real redis-server: consumer groups, ack, XAUTOCLAIM, dead letters, idempotency."""

from __future__ import annotations

import json
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis

from creator_studio.events import Event, EventService
from creator_studio.events.redis_bus import RedisBus
from creator_studio.store.db import Base, Database

pytestmark = pytest.mark.integration

FAILED_PAYMENT = {"payment_id": "pi_1", "amount_cents": 2900, "currency": "usd"}


def make_service(db: Database, redis_url: str, stream: str) -> EventService:
    service = EventService(db, redis_url=redis_url, retry_delay_s=0.001)
    bus = service.bus
    assert isinstance(bus, RedisBus)
    bus.stream = stream
    bus.min_idle_ms = 200
    bus.max_deliveries = 3
    return service


@pytest.fixture
def stream() -> str:
    return f"test:events:{uuid.uuid4().hex[:8]}"


@pytest.fixture
def events(db: Database, redis_server: str, stream: str) -> Iterator[EventService]:
    service = make_service(db, redis_server, stream)
    yield service
    service.close()


def bus_of(service: EventService) -> RedisBus:
    assert isinstance(service.bus, RedisBus)
    return service.bus


def drain(service: EventService, consumer: str = "c1") -> int:
    return service.run_consumers(consumer=consumer, block_ms=50, max_batches=3)


def publish_failed(service: EventService, payment_id: str) -> Event:
    return service.publish("revenue.payment_failed", "ws", {**FAILED_PAYMENT, "payment_id": payment_id},
                           source="revenue")


def test_publish_goes_to_the_stream_and_each_module_group_gets_every_event(events: EventService) -> None:
    crm: list[Event] = []
    analytics: list[Event] = []
    events.subscribe("crm", crm.append, types=["revenue.*"])
    events.subscribe("analytics", analytics.append)
    published = [publish_failed(events, f"pi_{i}") for i in range(5)]
    published.append(events.publish("content.published", "ws", {"post_id": "p", "platform": "x"}, source="content"))
    assert crm == [] and analytics == []  # nothing runs until a consumer reads the stream
    assert bus_of(events).client.xlen(bus_of(events).stream) == 6
    drain(events)
    assert [e.id for e in crm] == [e.id for e in published[:5]]
    assert [e.id for e in analytics] == [e.id for e in published]
    client, name = bus_of(events).client, bus_of(events).stream
    for group in ("crm", "analytics", "webhooks"):
        assert client.xpending(name, group)["pending"] == 0  # all acknowledged


def test_consumers_of_one_group_share_the_work_and_each_event_runs_once(
        db: Database, redis_server: str, stream: str) -> None:
    first, second = make_service(db, redis_server, stream), make_service(db, redis_server, stream)
    seen: list[tuple[str, str]] = []
    first.subscribe("crm", lambda e: seen.append(("a", e.id)))
    second.subscribe("crm", lambda e: seen.append(("b", e.id)))
    for service in (first, second):
        bus_of(service).batch = 3
        bus_of(service).ensure_group("crm")
    published = [publish_failed(first, f"pi_{i}") for i in range(10)]
    for _ in range(3):
        bus_of(first).consume_once("crm", "a")
        bus_of(second).consume_once("crm", "b")
    assert sorted(event_id for _, event_id in seen) == sorted(e.id for e in published)
    assert {who for who, _ in seen} == {"a", "b"}
    first.close()
    second.close()


def test_an_invalid_entry_is_dead_lettered_and_the_consumer_keeps_going(events: EventService) -> None:
    got: list[Event] = []
    events.subscribe("crm", got.append)
    bus = bus_of(events)
    bus.ensure_group("crm")
    before = publish_failed(events, "pi_before")
    bad_payload = {"id": str(uuid.uuid4()), "type": "revenue.payment_failed", "workspace_id": "ws",
                   "occurred_at": "2026-11-25T14:00:00+00:00", "source": "someone", "data": {"payment_id": "x"}}
    bus.send_raw(["{this is not json", json.dumps(bad_payload)])
    bus.client.xadd(bus.stream, {"other": "field"})
    after = publish_failed(events, "pi_after")
    drain(events)
    assert [e.id for e in got] == [before.id, after.id]
    letters = [letter for letter in events.dead_letters() if letter.module == "crm"]
    reasons = sorted(letter.reason for letter in letters)
    assert len(letters) == 3
    assert any("Invalid JSON" in reason for reason in reasons)
    assert any("amount_cents: Field required" in reason for reason in reasons)
    assert any("neither an 'event' nor an 'events' field" in reason for reason in reasons)
    assert bus.client.xpending(bus.stream, "crm")["pending"] == 0


def failed_payment(payment_id: str, **extra: object) -> Event:
    return Event(type="revenue.payment_failed", workspace_id="ws", source="test",
                 data={**FAILED_PAYMENT, "payment_id": payment_id}, **extra)


def test_a_batch_travels_as_packs_and_every_event_arrives_once_in_order(events: EventService) -> None:
    got: list[Event] = []
    events.subscribe("crm", got.append)
    bus = bus_of(events)
    bus.pack_size = 4
    bus.ensure_group("crm")
    batch = [failed_payment(f"pi_{i}") for i in range(10)]
    events.publish_many(batch)
    entries: list[tuple[bytes, dict[bytes, bytes]]] = bus.client.xrange(bus.stream)  # type: ignore[assignment]
    assert [len(json.loads(fields[b"events"])) for _, fields in entries] == [4, 4, 2]
    assert all(fields[b"validated"] == b"v1" for _, fields in entries)
    drain(events)
    assert [e.id for e in got] == [e.id for e in batch]
    assert [e.data for e in got] == [e.data for e in batch]
    assert [e.id for e in events.query("ws", limit=20)] == [e.id for e in batch]
    assert all(report.ok for report in events.verify_audit())


def test_the_parsed_entry_cache_is_bounded_in_events_not_entries(events: EventService) -> None:
    got: list[Event] = []
    events.subscribe("crm", got.append)
    bus = bus_of(events)
    bus.pack_size = 4
    bus._parsed_capacity = 6  # events; a pack holds 4
    bus.ensure_group("crm")
    batch = [failed_payment(f"pi_{i}") for i in range(12)]
    events.publish_many(batch)
    drain(events)
    assert [e.id for e in got] == [e.id for e in batch]  # evicted packs are parsed again, nothing is lost
    assert bus._parsed_events == sum(len(p.events) for p in bus._parsed.values()) <= 6
    assert [e.id for e in events.query("ws", limit=20)] == [e.id for e in batch]


def test_an_invalid_event_in_a_pack_is_dead_lettered_alone(events: EventService) -> None:
    got: list[Event] = []
    events.subscribe("crm", got.append)
    bus = bus_of(events)
    bus.ensure_group("crm")
    good = [failed_payment("pi_1").to_record(), failed_payment("pi_2").to_record()]
    bad = {**failed_payment("pi_bad").to_record(), "data": {"payment_id": "pi_bad", "currency": "usd"}}
    # Not written by `send` (no `validated` mark): every element is validated in full.
    bus.send_raw([json.dumps([good[0], bad, good[1]]), json.dumps({"not": "a list"})], field="events")
    drain(events)
    assert [e.id for e in got] == [good[0]["id"], good[1]["id"]]
    letters = [letter for letter in events.dead_letters() if letter.module == "crm"]
    assert sorted(letter.reason.split(":")[0] for letter in letters) == [
        "a pack ('events' field) must be a JSON array of events", "revenue.payment_failed v1 payload is invalid"]
    bad_letter = next(letter for letter in letters if "payload is invalid" in letter.reason)
    assert bad_letter.payload["id"] == bad["id"] and "amount_cents" in bad_letter.reason
    assert {e.id for e in events.query("ws", limit=10)} == {good[0]["id"], good[1]["id"]}


def test_the_same_event_in_two_packs_is_handled_once(events: EventService) -> None:
    got: list[Event] = []
    events.subscribe("crm", got.append)
    bus = bus_of(events)
    bus.ensure_group("crm")
    twice = failed_payment("pi_twice")
    events.publish_many([twice, failed_payment("pi_a")])
    drain(events)
    events.publish_many([failed_payment("pi_b"), twice])  # a retried publish: same event id again
    drain(events)
    assert [e.data["payment_id"] for e in got] == ["pi_twice", "pi_a", "pi_b"]
    assert len(events.query("ws", limit=10)) == 3


def test_a_module_without_a_handler_for_a_type_marks_nothing(events: EventService) -> None:
    got: list[Event] = []
    events.subscribe("crm", got.append, types=["content.published"])
    bus = bus_of(events)
    bus.ensure_group("crm")
    events.publish_many([failed_payment("pi_1"), failed_payment("pi_2")])
    drain(events)
    assert got == []
    assert bus.client.zcard(bus._done_key("crm")) == 0
    assert bus.client.xpending(bus.stream, "crm")["pending"] == 0


def test_a_killed_consumers_messages_are_claimed_by_another(events: EventService) -> None:
    got: list[Event] = []
    events.subscribe("crm", got.append)
    bus = bus_of(events)
    bus.ensure_group("crm")
    published = [publish_failed(events, f"pi_{i}") for i in range(4)]
    # "dead" reads everything and dies before acknowledging (exactly what a SIGKILL leaves behind).
    bus.client.xreadgroup("crm", "dead", {bus.stream: ">"}, count=10)
    assert bus.client.xpending(bus.stream, "crm")["pending"] == 4
    assert bus.consume_once("crm", "alive") == 0  # not idle long enough yet: the owner may still be working
    time.sleep(0.3)
    assert bus.consume_once("crm", "alive") == 4
    assert [e.id for e in got] == [e.id for e in published]
    assert bus.client.xpending(bus.stream, "crm")["pending"] == 0


def test_a_real_consumer_process_killed_mid_batch_loses_nothing(
        events: EventService, redis_server: str, stream: str, tmp_path: Path) -> None:
    """A worker process that hangs in its handler is SIGKILLed; its pending entries are reclaimed here."""
    bus = bus_of(events)
    bus.ensure_group("crm")
    published = [publish_failed(events, f"pi_{i}") for i in range(3)]
    started = tmp_path / "started"
    script = f"""
import sys, time
from pathlib import Path
from creator_studio.events import EventService
from creator_studio.store.db import Base, Database
db = Database("sqlite:///{tmp_path / 'worker.db'}")
Base.metadata.create_all(db.engine)
service = EventService(db, redis_url={redis_server!r})
service.bus.stream = {stream!r}
def hang(event):
    Path({str(started)!r}).write_text(event.id)
    time.sleep(600)
service.subscribe("crm", hang)
service.run_consumers(modules=["crm"], consumer="doomed", block_ms=100)
"""
    worker = subprocess.Popen([sys.executable, "-c", script])
    try:
        deadline = time.monotonic() + 60
        while not started.exists() and time.monotonic() < deadline:
            time.sleep(0.05)
        assert started.exists(), "the worker never started processing"
    finally:
        worker.kill()
        worker.wait(timeout=10)
    assert bus.client.xpending(bus.stream, "crm")["pending"] == 3
    got: list[Event] = []
    events.subscribe("crm", got.append)
    time.sleep(0.3)
    drain(events, "survivor")
    assert sorted(e.id for e in got) == sorted(e.id for e in published)


def test_an_entry_delivered_too_often_is_dead_lettered(events: EventService) -> None:
    got: list[Event] = []
    events.subscribe("crm", got.append)
    bus = bus_of(events)
    bus.ensure_group("crm")
    poison = publish_failed(events, "pi_poison")
    bus.client.xreadgroup("crm", "crash-1", {bus.stream: ">"}, count=10)  # delivery 1, never acked
    for crasher in ("crash-2", "crash-3"):  # two more consumers take it over and crash too
        time.sleep(0.25)
        bus.client.xautoclaim(bus.stream, "crm", crasher, min_idle_time=200, start_id="0-0")
    time.sleep(0.25)
    healthy = publish_failed(events, "pi_healthy")
    assert bus.consume_once("crm", "alive") == 2  # the 4th delivery of the poison is over the limit of 3
    assert [e.id for e in got] == [healthy.id]
    [letter] = [letter for letter in events.dead_letters() if letter.stage == "delivery"]
    assert letter.event_id == poison.id and letter.module == "crm"
    assert "not acknowledged after 3 deliveries" in letter.reason
    assert bus.client.xpending(bus.stream, "crm")["pending"] == 0


def test_a_pack_delivered_too_often_is_dead_lettered_event_by_event_and_each_replays(
        events: EventService) -> None:
    got: list[Event] = []
    events.subscribe("crm", got.append)
    bus = bus_of(events)
    bus.ensure_group("crm")
    poison = events.publish_many([failed_payment("pi_1"), failed_payment("pi_2"), failed_payment("pi_3")])
    bus.client.xreadgroup("crm", "crash-1", {bus.stream: ">"}, count=10)  # delivery 1, never acked
    for crasher in ("crash-2", "crash-3"):
        time.sleep(0.25)
        bus.client.xautoclaim(bus.stream, "crm", crasher, min_idle_time=200, start_id="0-0")
    time.sleep(0.25)
    assert bus.consume_once("crm", "alive") == 1  # the pack's entry, over the limit: not handled
    assert got == []
    letters = [letter for letter in events.dead_letters() if letter.stage == "delivery"]
    assert sorted(letter.event_id or "" for letter in letters) == sorted(e.id for e in poison)
    for letter in letters:
        events.replay_dead_letter(letter.id)
    drain(events)
    assert sorted(e.id for e in got) == sorted(e.id for e in poison)


def test_consumers_are_idempotent_by_event_id_and_replay_redelivers_on_purpose(events: EventService) -> None:
    got: list[Event] = []
    events.subscribe("crm", got.append)
    bus = bus_of(events)
    event = publish_failed(events, "pi_once")
    drain(events)
    bus.send([event, event])  # the same event on the stream again (a publisher retry, a restored backup)
    drain(events)
    assert [e.id for e in got] == [event.id]
    assert events.replay([event.id], modules=["crm"]) == 1
    drain(events)
    assert [e.id for e in got] == [event.id, event.id]


def test_a_failing_handler_on_redis_is_dead_lettered_and_acknowledged(events: EventService) -> None:
    def broken(event: Event) -> None:
        raise ValueError("cannot parse customer")

    events.subscribe("crm", broken)
    event = publish_failed(events, "pi_1")
    drain(events)
    [letter] = events.dead_letters("ws")
    assert (letter.stage, letter.module, letter.event_id) == ("handler", "crm", event.id)
    assert letter.reason == "ValueError: cannot parse customer"
    bus = bus_of(events)
    assert bus.client.xpending(bus.stream, "crm")["pending"] == 0


def test_the_stream_is_bounded_but_never_loses_an_entry_the_audit_log_has_not_stored(events: EventService) -> None:
    bus = bus_of(events)
    bus.maxlen = 50
    bus.pack_size = 1  # one entry per event, so the trimming has entries to count
    published = events.publish_many([Event(type="audience.follower_gained", workspace_id="ws", source="t",
                                           data={"platform": "x"}) for _ in range(500)])
    assert bus.client.xlen(bus.stream) == 500  # nothing stored yet, so nothing may be trimmed
    drain(events)
    assert bus.client.xlen(bus.stream) < 200  # stored: trimmed to about maxlen (approximate trimming)
    stored = events.query("ws", limit=1000)
    assert sorted(e.id for e in stored) == sorted(e.id for e in published)
    assert all(report.ok for report in events.verify_audit())


def test_redis_url_setting_selects_the_redis_bus(redis_server: str, tmp_path: Path) -> None:
    from creator_studio.settings import Settings
    from creator_studio.studio import Studio

    studio = Studio.open(Settings(home=tmp_path, model="offline", redis_url=redis_server), migrate_schema=False)
    try:
        assert isinstance(studio.events.bus, RedisBus)
        assert redis.Redis.from_url(redis_server).ping()
    finally:
        studio.close()


def _start_redis(port: int, directory: Path) -> subprocess.Popen[bytes]:
    from tests.servers import REDIS_SERVER, wait_for_port

    process = subprocess.Popen([REDIS_SERVER, "--port", str(port), "--bind", "127.0.0.1", "--save", "",
                                "--appendonly", "no", "--dir", str(directory)],
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    wait_for_port(port, process, "redis-server")
    return process


def test_a_worker_survives_a_redis_restart(db: Database, tmp_path: Path) -> None:
    """Redis goes away (without persistence: the stream and groups are gone too) and comes back."""
    import threading

    from tests.servers import free_port

    port = free_port()
    server = _start_redis(port, tmp_path)
    url = f"redis://127.0.0.1:{port}/0"
    service = make_service(db, url, "test:restart")
    got: list[Event] = []
    service.subscribe("crm", got.append)
    stop = threading.Event()
    worker = threading.Thread(target=lambda: service.run_consumers(consumer="w", stop=stop, block_ms=50))
    worker.start()
    try:
        first = publish_failed(service, "pi_before")
        deadline = time.monotonic() + 20
        while not got and time.monotonic() < deadline:
            time.sleep(0.05)
        assert [e.id for e in got] == [first.id]
        server.kill()
        server.wait(timeout=10)
        time.sleep(0.5)  # the worker now fails to reach Redis and keeps retrying
        assert worker.is_alive()
        # Publishing meanwhile stores the event and dead-letters its routing instead of failing the caller.
        during = publish_failed(service, "pi_during")
        [letter] = [d for d in service.dead_letters("ws") if d.stage == "delivery"]
        assert letter.event_id == during.id and "bus failed" in letter.reason
        server = _start_redis(port, tmp_path)
        publisher = make_service(db, url, "test:restart")
        second = publish_failed(publisher, "pi_after")
        publisher.close()
        deadline = time.monotonic() + 30
        while len(got) < 2 and time.monotonic() < deadline:
            time.sleep(0.05)
        assert [e.id for e in got] == [first.id, second.id]
        assert service.replay_dead_letter(letter.id) == during
        deadline = time.monotonic() + 30
        while len(got) < 3 and time.monotonic() < deadline:
            time.sleep(0.05)
        assert [e.id for e in got] == [first.id, second.id, during.id]
    finally:
        stop.set()
        worker.join(timeout=30)
        service.close()
        server.kill()
        server.wait(timeout=10)
    assert not worker.is_alive()


def test_two_deployments_on_one_redis_keep_their_events_apart(redis_server: str, tmp_path: Path) -> None:
    from creator_studio.settings import Settings
    from creator_studio.studio import Studio

    shop_a = Studio.open(Settings(home=tmp_path / "a", model="offline", redis_url=redis_server,
                                  events_stream="studio:shop-a:events"), migrate_schema=False)
    shop_b = Studio.open(Settings(home=tmp_path / "b", model="offline", redis_url=redis_server,
                                  events_stream="studio:shop-b:events"), migrate_schema=False)
    try:
        for studio in (shop_a, shop_b):
            Base.metadata.create_all(studio.db.engine)
        seen: dict[str, list[str]] = {"a": [], "b": []}
        shop_a.events.subscribe("crm", lambda e: seen["a"].append(e.data["payment_id"]))
        shop_b.events.subscribe("crm", lambda e: seen["b"].append(e.data["payment_id"]))
        assert bus_of(shop_a.events).stream == "studio:shop-a:events"
        shop_a.events.publish("revenue.payment_failed", "ws", {**FAILED_PAYMENT, "payment_id": "pi_a"}, source="t")
        shop_b.events.publish("revenue.payment_failed", "ws", {**FAILED_PAYMENT, "payment_id": "pi_b"}, source="t")
        for studio in (shop_a, shop_b):
            studio.events.run_consumers(consumer="w", block_ms=50, max_batches=2)
        assert seen == {"a": ["pi_a"], "b": ["pi_b"]}
        assert [e.data["payment_id"] for e in shop_a.events.query("ws")] == ["pi_a"]
        assert [e.data["payment_id"] for e in shop_b.events.query("ws")] == ["pi_b"]
    finally:
        shop_a.close()
        shop_b.close()


def test_an_events_stream_name_that_redis_keys_should_not_carry_is_refused(tmp_path: Path) -> None:
    from pydantic import ValidationError

    from creator_studio.settings import Settings

    with pytest.raises(ValidationError) as refused:
        Settings(home=tmp_path, events_stream="shop a events")
    assert "events_stream" in str(refused.value)
