"""The audit log on PostgreSQL: concurrent writers append one chain, and verify still catches an edit."""

from __future__ import annotations

import threading
import uuid
from collections.abc import Iterator

import pytest
from sqlalchemy import text, update

from creator_studio.events import EventService
from creator_studio.events.models import EventLogRow
from creator_studio.store.db import Base, Database

pytestmark = pytest.mark.integration


@pytest.fixture
def pg(postgres_server: str) -> Iterator[Database]:
    db = Database(postgres_server)
    Base.metadata.create_all(db.engine)
    with db.transaction() as session:  # the server is shared by the session: start from empty event tables
        session.execute(text("TRUNCATE event_log, event_chain_heads, event_dead_letters"))
    yield db
    db.dispose()


def test_concurrent_writers_keep_one_valid_chain_per_workspace(pg: Database, postgres_server: str) -> None:
    workspace = f"ws-{uuid.uuid4().hex[:6]}"
    errors: list[BaseException] = []

    def writer(name: str) -> None:
        db = Database(postgres_server)
        service = EventService(db)
        try:
            for i in range(60):
                service.publish("audience.follower_gained", workspace, {"platform": name, "count": i + 1},
                                source=name)
        except BaseException as exc:  # surfaced below: a thread's failure must fail the test
            errors.append(exc)
        finally:
            service.close()
            db.dispose()

    threads = [threading.Thread(target=writer, args=(f"w{n}",)) for n in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert errors == []
    events = EventService(pg)
    [report] = events.verify_audit(workspace)
    assert report.ok and report.checked == 180, report.problems
    stored = events.query(workspace, limit=1000)
    assert len(stored) == 180

    with pg.transaction() as session:
        session.execute(update(EventLogRow).where(EventLogRow.event_id == stored[100].id).values(type="content.x"))
    [report] = events.verify_audit(workspace)
    assert not report.ok and "position 101" in report.problems[0]
    events.close()
