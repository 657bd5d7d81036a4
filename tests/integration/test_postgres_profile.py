"""The PostgreSQL + Redis profile: the same tests, with app data and LangGraph checkpoints on PostgreSQL and
events on Redis Streams.

This module overrides the `studio` fixture (every fixture built on it, like `runner` and `ctx`, follows) and
re-collects the Command Center run/approval integration tests and the Automation Lab tests, so they run
here a second time on real servers. Each test gets its own database, cloned from a seeded template
database (`CREATE DATABASE ... TEMPLATE`), so the sandbox world is seeded once per session.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import make_url

from creator_studio.sandbox.seed import DEFAULT_BRAND, DEFAULT_TIMEZONE, seed_default_world
from creator_studio.store import migrate
from creator_studio.studio import Studio
from tests.conftest import FIXED_NOW, make_settings

# Re-run these modules' tests on this profile (pytest collects the imported test functions here).
from tests.integration.test_command_center import *  # noqa: F403
from tests.unit.test_automation_engine import *  # noqa: F403

pytestmark = pytest.mark.integration
TEMPLATE_DB = "studio_seeded"


def admin_engine(server_url: str) -> sa.Engine:
    return sa.create_engine(make_url(server_url).set(database="postgres"), isolation_level="AUTOCOMMIT")


def create_database(server_url: str, name: str, *, template: str | None = None) -> str:
    engine = admin_engine(server_url)
    with engine.connect() as connection:
        connection.exec_driver_sql(f'CREATE DATABASE "{name}"' + (f' TEMPLATE "{template}"' if template else ""))
    engine.dispose()
    return make_url(server_url).set(database=name).render_as_string(hide_password=False)


def drop_database(server_url: str, name: str) -> None:
    engine = admin_engine(server_url)
    with engine.connect() as connection:
        connection.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    engine.dispose()


@pytest.fixture(scope="session")
def seeded_postgres(postgres_server: str, tmp_path_factory: pytest.TempPathFactory) -> str:
    """A database with the seeded sandbox world, used only as a template for each test's database."""
    url = create_database(postgres_server, TEMPLATE_DB)
    studio = Studio.open(make_settings(tmp_path_factory.mktemp("pg-template"), database_url=url),
                         migrate_schema=False)
    studio.clock = lambda: FIXED_NOW
    ws = studio.workspaces.create("default", "Maya Chen Studio", DEFAULT_TIMEZONE, DEFAULT_BRAND)
    seed_default_world(studio, ws, FIXED_NOW)
    studio.close()  # a template must have no connections when it is cloned
    return postgres_server


@pytest.fixture
def studio(seeded_postgres: str, redis_server: str, tmp_path: Path) -> Iterator[Studio]:
    """Overrides tests/conftest.py's `studio`: seeded, on a fresh PostgreSQL database, events on Redis."""
    name = f"t_{uuid.uuid4().hex[:12]}"
    url = create_database(seeded_postgres, name, template=TEMPLATE_DB)
    home = tmp_path / "home"
    home.mkdir()
    studio = Studio.open(make_settings(home, database_url=url, redis_url=redis_server), migrate_schema=False)
    studio.clock = lambda: FIXED_NOW
    try:
        yield studio
    finally:
        studio.close()
        drop_database(seeded_postgres, name)


def test_profile_really_is_postgres_and_redis(studio: Studio) -> None:
    from creator_studio.events.redis_bus import RedisBus
    from creator_studio.runs.runner import Runner

    assert studio.db.engine.dialect.name == "postgresql"
    assert isinstance(studio.events.bus, RedisBus)
    runner = Runner(studio)
    try:
        assert type(runner.checkpointer).__name__ == "PostgresSaver"
    finally:
        runner.close()


def test_alembic_migrations_run_on_postgres(postgres_server: str) -> None:
    name = f"m_{uuid.uuid4().hex[:12]}"
    url = create_database(postgres_server, name)
    try:
        migrate.upgrade(url)
        migrate.upgrade(url)  # repeatable
        engine = sa.create_engine(url)
        tables = set(sa.inspect(engine).get_table_names())
        engine.dispose()
        assert {"automation_jobs", "automation_job_effects", "automation_step_runs", "automation_workflow_versions",
                "automation_workflows", "runs", "event_log"} <= tables
    finally:
        drop_database(postgres_server, name)
