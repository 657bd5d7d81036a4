"""Analytics on PostgreSQL: a payment event delivered to several workers at once lands in the ledger once, and
rollups of event-fed metrics are the same as on SQLite."""

from __future__ import annotations

import threading
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest

from creator_studio.analytics.service import AnalyticsService
from creator_studio.events import Event
from creator_studio.store.db import Base, Database

pytestmark = pytest.mark.integration

NOW = datetime(2026, 11, 25, 14, 0, tzinfo=UTC)


@pytest.fixture
def pg(postgres_server: str) -> Iterator[Database]:
    db = Database(postgres_server)
    Base.metadata.create_all(db.engine)
    yield db
    db.dispose()


def test_concurrent_deliveries_of_one_payment_write_one_ledger_row(pg: Database, postgres_server: str) -> None:
    workspace = f"ws-{uuid.uuid4().hex[:6]}"
    event = Event(type="revenue.purchase_completed", workspace_id=workspace, source="stripe", occurred_at=NOW,
                  data={"order_id": "cs_9", "amount_cents": 2900, "currency": "usd", "product_id": "prod_1"})
    errors: list[BaseException] = []
    start = threading.Barrier(4)

    def worker() -> None:
        db = Database(postgres_server)
        try:
            start.wait(timeout=30)
            AnalyticsService(db, clock=lambda: NOW).handle_event(event)  # at-least-once: everyone gets it
        except BaseException as exc:  # surfaced below
            errors.append(exc)
        finally:
            db.dispose()

    threads = [threading.Thread(target=worker) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert errors == []
    analytics = AnalyticsService(pg, clock=lambda: NOW)
    assert analytics.store.ledger_totals(workspace) == {"usd": 2900}
    assert len(analytics.store.ledger(workspace)) == 1
    analytics.rollup(workspace, now=NOW)
    series = analytics.store.series(workspace, "purchases", since=NOW - timedelta(days=1), until=NOW)
    assert [p.value for p in series.points] == [0, 1]


def test_rollups_refresh_only_new_points_and_keep_an_as_of(pg: Database) -> None:
    workspace = f"ws-{uuid.uuid4().hex[:6]}"
    clock = [NOW - timedelta(hours=3)]
    analytics = AnalyticsService(pg, clock=lambda: clock[0])
    for hours in (30, 3):
        analytics.handle_event(Event(type="audience.follower_gained", workspace_id=workspace, source="bluesky",
                                     occurred_at=NOW - timedelta(hours=hours), data={"platform": "bluesky",
                                                                                     "count": 2}))
    first, _ = analytics.rollup(workspace, now=NOW - timedelta(hours=2))
    clock[0] = NOW - timedelta(hours=1)
    analytics.handle_event(Event(type="audience.follower_gained", workspace_id=workspace, source="bluesky",
                                 occurred_at=NOW - timedelta(hours=26), data={"platform": "bluesky", "count": 5}))
    stale = analytics.store.series(workspace, "followers_gained", since=NOW - timedelta(days=1), until=NOW)
    assert stale.as_of == first and [p.value for p in stale.points] == [2, 2]  # the late point is not in yet
    second, _ = analytics.rollup(workspace, now=NOW)
    fresh = analytics.store.series(workspace, "followers_gained", since=NOW - timedelta(days=1), until=NOW)
    assert fresh.as_of == second == NOW and [p.value for p in fresh.points] == [7, 2]
