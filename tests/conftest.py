from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
import redis

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

from creator_studio.runs.runner import Runner
from creator_studio.sandbox.seed import DEFAULT_BRAND, DEFAULT_TIMEZONE, seed_default_world
from creator_studio.settings import Settings
from creator_studio.store.db import Base, Database
from creator_studio.studio import Studio
from creator_studio.tools.base import ToolContext
from creator_studio.workspaces.service import Workspace
from tests.servers import postgres_server, redis_server  # noqa: F401

# Wednesday 25 November 2026, 14:00 UTC (15:00 in Berlin): every test sees the same "now".
FIXED_NOW = datetime(2026, 11, 25, 14, 0, tzinfo=UTC)


class Clock:
    """A settable "now": a test moves `now` to make schedules due."""

    def __init__(self, now: datetime = FIXED_NOW) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


def make_settings(home: Path, **overrides: object) -> Settings:
    values: dict[str, object] = {"home": home, "model": "offline"}
    values.update(overrides)
    return Settings(**values)  # type: ignore[arg-type]


@pytest.fixture(autouse=True)
def _empty_shared_redis(request: pytest.FixtureRequest) -> None:
    """Tests share one redis-server (session-scoped) but each has its own database: the events stream is one
    deployment's, so a test starts on an empty Redis instead of auditing the previous test's leftover events."""
    if "redis_server" in request.fixturenames:
        client = redis.Redis.from_url(request.getfixturevalue("redis_server"))
        try:
            client.flushall()
        finally:
            client.close()


@pytest.fixture(scope="session")
def seeded_database(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The seeded world is built once per session; each test gets its own copy of the database file."""
    home = tmp_path_factory.mktemp("template")
    studio = Studio.open(make_settings(home), migrate_schema=False)
    studio.clock = lambda: FIXED_NOW
    ws = studio.workspaces.create("default", "Maya Chen Studio", DEFAULT_TIMEZONE, DEFAULT_BRAND)
    seed_default_world(studio, ws, FIXED_NOW)
    with studio.db.engine.connect() as connection:
        connection.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    studio.close()
    return home / "studio.db"


@pytest.fixture
def studio(tmp_path: Path, seeded_database: Path) -> Iterator[Studio]:
    """A fresh, seeded studio on a temporary directory (schema created directly from the models)."""
    home = tmp_path / "home"
    home.mkdir()
    shutil.copyfile(seeded_database, home / "studio.db")
    studio = Studio.open(make_settings(home), migrate_schema=False)
    studio.clock = lambda: FIXED_NOW
    yield studio
    studio.close()


@pytest.fixture
def db(tmp_path: Path) -> Iterator[Database]:
    """A fresh SQLite database with every table and no data, for tests of one store or service."""
    database = Database(f"sqlite:///{tmp_path / 'store.db'}")
    Base.metadata.create_all(database.engine)
    yield database
    database.dispose()


@pytest.fixture
def clock(studio: Studio) -> Clock:
    """The studio's clock, settable, starting at FIXED_NOW."""
    clock = Clock(FIXED_NOW)
    studio.clock = clock
    return clock


@pytest.fixture
def workspace(studio: Studio) -> Workspace:
    return studio.workspaces.get("default")


@pytest.fixture
def ctx(studio: Studio, workspace: Workspace) -> ToolContext:
    """A tool context for calling tools directly; side effects get a fresh idempotency key per test."""
    return ToolContext(studio=studio, workspace=workspace, agent="test", now=FIXED_NOW, run_id=None,
                       idempotency_key="test-key-1")


@pytest.fixture
def runner(studio: Studio) -> Iterator[Runner]:
    """The real Command Center graph over the seeded studio, with the offline planner model."""
    runner = Runner(studio)
    yield runner
    runner.close()
