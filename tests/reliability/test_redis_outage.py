"""R5 outage: Redis stopped for 10 s while events keep being published and a worker keeps consuming, then
restarted. Counted by event id: every published event is stored (audit log) and, after Redis returns, reaches
the consuming module.

What the event backbone does (creator_studio/events/service.py `publish_many`): the event is stored in the
database first, then XADDed to Redis. While Redis is down the XADD fails, so the event is stored and
dead-lettered (stage "delivery", module "bus") instead of routed. `studio worker` calls
EventService.redeliver_after_outage on every heartbeat, which re-sends those, oldest first, once Redis answers
again; this test runs that same call on the same cadence beside the consumer, with no manual replay, and counts
by id that 0 events are lost. The consumer survives the restart on its own (it retries the connection).
Redis runs with an append-only file (fsync always), as it should in production: without persistence the
stream's unconsumed entries would be gone after the restart.

Run: .venv/bin/pytest -q -p no:cacheprovider tests/reliability/test_redis_outage.py
"""

from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest
from sqlalchemy import select

from creator_studio.events.models import EventLogRow
from creator_studio.events.schemas import Event
from creator_studio.settings import Settings
from creator_studio.studio import Studio
from tests.reliability.figures import report
from tests.servers import PersistentRedis

pytestmark = [pytest.mark.integration, pytest.mark.timeout(180)]
OUTAGE_S = 10.0
RATE_HZ = 20


def test_redis_down_for_10_s_loses_no_event(tmp_path: Path, redis: PersistentRedis) -> None:
    studio = Studio.open(Settings(home=tmp_path / "home", model="offline", redis_url=redis.url),
                         migrate_schema=False)
    events = studio.events
    received: set[str] = set()
    deliveries = 0
    lock = threading.Lock()

    def handle(event: Event) -> None:
        nonlocal deliveries
        with lock:
            received.add(event.id)
            deliveries += 1

    events.subscribe("r5", handle, types=["audience.*"])
    events.bus.ensure_group("r5")  # type: ignore[attr-defined]  # the Redis bus
    stop = threading.Event()
    worker = threading.Thread(target=events.run_consumers, kwargs={"modules": ["r5"], "stop": stop,
                                                                   "block_ms": 200}, daemon=True)
    worker.start()

    def redeliver_on_heartbeat() -> None:  # what `studio worker` does on every lease heartbeat
        while not stop.wait(0.5):
            events.redeliver_after_outage()

    redeliverer = threading.Thread(target=redeliver_on_heartbeat, daemon=True)
    redeliverer.start()
    published: list[str] = []
    failed_publishes = 0

    def publish_for(seconds: float) -> None:
        nonlocal failed_publishes
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            try:
                published.append(events.publish("audience.follower_gained", "default",
                                                {"platform": "bluesky", "count": 1}, source="r5").id)
            except Exception:  # publish must not fail while Redis is down: count it if it does
                failed_publishes += 1
            time.sleep(1 / RATE_HZ)

    try:
        publish_for(2.0)
        before_outage = len(published)
        redis.stop()
        outage_started = time.monotonic()
        publish_for(OUTAGE_S)
        during_outage = len(published) - before_outage
        redis.start()
        outage_s = time.monotonic() - outage_started
        publish_for(2.0)

        def settle(seconds: float) -> int:
            deadline = time.monotonic() + seconds
            while time.monotonic() < deadline:
                with lock:
                    if set(published) <= received:
                        break
                time.sleep(0.2)
            with lock:
                return len(set(published) - received)

        missing_after_outage = settle(30.0)
        redelivered = [d for d in events.dead.list("default", limit=10_000)
                       if d.stage == "delivery" and d.module == "bus" and d.replayed_at is not None]
        still_waiting = [d for d in events.dead.list("default", limit=10_000, include_replayed=False)
                         if d.stage == "delivery" and d.module == "bus"]
    finally:
        stop.set()
        worker.join(timeout=10)
        redeliverer.join(timeout=10)
        studio.close()

    stored = Studio.open(Settings(home=tmp_path / "home", model="offline"), migrate_schema=False)
    try:
        with stored.db.transaction() as session:
            logged = set(session.scalars(select(EventLogRow.event_id).where(EventLogRow.workspace_id == "default")))
        in_audit_log = len(set(published) & logged)
    finally:
        stored.close()
    figures = {"published": len(published), "published_during_outage": during_outage,
               "outage_s": round(outage_s, 1), "failed_publishes": failed_publishes,
               "stored_in_audit_log": in_audit_log, "redelivered_automatically": len(redelivered),
               "still_waiting": len(still_waiting), "lost_after_outage": missing_after_outage,
               "duplicate_deliveries": deliveries - len(received)}
    report("r5_redis_outage", figures)
    assert failed_publishes == 0 and during_outage > 0
    assert in_audit_log == len(published)
    assert missing_after_outage == 0 and not still_waiting, figures
