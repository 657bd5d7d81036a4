"""R1 restarts: a run on the PostgreSQL + Redis profile (app data and LangGraph checkpoints on PostgreSQL, events
on Redis Streams) during which PostgreSQL is restarted, and (separately) Redis is stopped and started again.

The restart happens inside the run, at a seeded point of its life, by wrapping product methods the same way
crash_child.py does (no product code knows):
- PostgreSQL: `pg_ctl restart -m fast` (every open connection of the app's SQLAlchemy pool and of the checkpointer's
  psycopg pool is cut) right after the ledger wrote "started" for the publish (before the provider call), or
  right after the run's first event was published;
- Redis (append-only file, fsync always): stopped right after the ledger wrote "started", so the provider call
  and the `content.published` event happen while Redis is down; started again right after that publish.

Then: if the run did not complete (a cut connection fails the step that used it), it is resumed with
Runner.resume, as `studio runs resume` does. The worker's own cadence (EventService.redeliver_after_outage and
the consumers, what `studio worker` runs) routes what waited. Checked in the servers' own state: the run is
completed, exactly one post in the sandbox world for it, its ledger entries succeeded once, its events are stored
once each in the audit log (PostgreSQL) and are on the Redis stream once each (by event id).

Run: .venv/bin/pytest -q -p no:cacheprovider tests/reliability/test_server_restarts.py
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import subprocess
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import redis as redis_lib
import sqlalchemy as sa

from creator_studio.events.redis_bus import STREAM
from creator_studio.events.service import EventService
from creator_studio.runs.ledger import Ledger
from creator_studio.runs.runner import Runner, RunOutcome
from creator_studio.sandbox.seed import DEFAULT_BRAND, DEFAULT_TIMEZONE
from creator_studio.settings import Settings
from creator_studio.studio import Studio
from tests.reliability.figures import report
from tests.servers import PersistentRedis, _as_postgres, _postgres_bin, free_port

pytestmark = [pytest.mark.integration, pytest.mark.timeout(600)]
GOAL = "Draft a LinkedIn post about restart topic {label} and publish it now"
MAX_RESUMES = 3


class RestartablePostgres:
    """A throwaway PostgreSQL cluster (run as the postgres user) that can be restarted on the same port."""

    def __init__(self) -> None:
        bin_dir = _postgres_bin()
        if bin_dir is None:
            pytest.skip("PostgreSQL is not installed (apt-get install postgresql)")
        self.bin = bin_dir
        self.directory = Path(tempfile.mkdtemp(prefix="studio-pg-restart-"))
        self.data = self.directory / "data"
        self.port = free_port()
        if os.geteuid() == 0:
            shutil.chown(self.directory, "postgres", "postgres")
        os.chmod(self.directory, 0o700)
        _as_postgres([str(bin_dir / "initdb"), "-D", str(self.data), "-U", "postgres", "--auth=trust", "-E",
                      "UTF8", "--no-sync"])
        self.options = (f"-p {self.port} -c listen_addresses=127.0.0.1 -k {self.directory} -c fsync=off "
                        f"-c full_page_writes=off")
        self.restarts = 0

    def _ctl(self, *args: str) -> None:
        _as_postgres([str(self.bin / "pg_ctl"), "-D", str(self.data), "-l", str(self.directory / "pg.log"),
                      "-o", self.options, "-w", "-t", "60", *args])

    def start(self) -> None:
        self._ctl("start")

    def restart(self) -> None:
        """A fast shutdown (open connections are terminated) and a start on the same port."""
        self._ctl("-m", "fast", "restart")
        self.restarts += 1

    def stop(self) -> None:
        with contextlib.suppress(subprocess.CalledProcessError):
            _as_postgres([str(self.bin / "pg_ctl"), "-D", str(self.data), "-m", "immediate", "-w", "stop"])
        shutil.rmtree(self.directory, ignore_errors=True)

    def create_database(self, name: str) -> str:
        admin = sa.create_engine(f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/postgres",
                                 isolation_level="AUTOCOMMIT")
        with admin.connect() as connection:
            connection.exec_driver_sql(f'CREATE DATABASE "{name}"')
        admin.dispose()
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/{name}"


@pytest.fixture(scope="module")
def postgres() -> Iterator[RestartablePostgres]:
    server = RestartablePostgres()
    try:
        server.start()
        yield server
    finally:
        server.stop()


class Hooks:
    """One-shot actions at points of a run, installed by wrapping product methods (undone afterwards)."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.actions: dict[str, Callable[[], None]] = {}
        self.fired: list[str] = []
        original_execute = Ledger.execute

        def execute(ledger: Ledger, **kwargs: Any) -> Any:
            perform = kwargs["perform"]

            def perform_after_start() -> Any:
                self.fire("ledger_write")
                return perform()

            return original_execute(ledger, **{**kwargs, "perform": perform_after_start})

        original_publish = EventService.publish_event

        def publish_event(service: EventService, event: Any) -> Any:
            published = original_publish(service, event)
            self.fire("event_publish")
            return published

        monkeypatch.setattr(Ledger, "execute", execute)
        monkeypatch.setattr(EventService, "publish_event", publish_event)

    def fire(self, point: str) -> None:
        action = self.actions.pop(point, None)
        if action is not None:
            self.fired.append(point)
            action()


def open_studio(home: Path, database_url: str, redis_url: str) -> Studio:
    studio = Studio.open(Settings(home=home, model="offline", database_url=database_url, redis_url=redis_url),
                         migrate_schema=False)
    studio.workspaces.create("default", "Maya Chen Studio", DEFAULT_TIMEZONE, DEFAULT_BRAND)
    studio.social.add_account("default", "linkedin", "maya-chen", 4200)
    return studio


def run_to_completion(studio: Studio, goal: str) -> tuple[RunOutcome, int, str | None]:
    """Start the run; resume it (fresh Runner, as a restarted worker would) until it completes. Returns the
    outcome, how many resumes it took and why the first attempt stopped (None: it completed)."""
    runner = Runner(studio)
    try:
        outcome = runner.start(goal, auto_approve=True)
    finally:
        with contextlib.suppress(Exception):  # its pool may hold connections the restart cut
            runner.close()
    resumes, first_error = 0, (outcome.error or outcome.status) if outcome.status != "completed" else None
    while outcome.status != "completed" and resumes < MAX_RESUMES:
        resumes += 1
        runner = Runner(studio)
        try:
            outcome = runner.resume(outcome.run_id, auto_approve=True)
        finally:
            runner.close()
    return outcome, resumes, first_error


def drain_events(studio: Studio) -> int:
    """What `studio worker` does on its heartbeats: re-send what waited for the bus, run the consumers."""
    redelivered = studio.events.redeliver_after_outage()
    for _ in range(5):
        if studio.events.run_consumers(block_ms=200, max_batches=3) == 0:
            break
    return redelivered


def stream_counts(redis_url: str) -> Counter[str]:
    client = redis_lib.Redis.from_url(redis_url)
    try:
        entries: list[tuple[bytes, dict[bytes, bytes]]] = client.xrange(STREAM)  # type: ignore[assignment]
        return Counter(json.loads(fields[b"event"])["id"] for _, fields in entries)
    finally:
        client.close()


def check_run(studio: Studio, outcome: RunOutcome, redis_url: str) -> dict[str, Any]:
    posts = studio.social.posts("default")  # the world starts without posts: every post is this run's
    ledger = studio.ledger.entries(workspace_id="default", run_id=outcome.run_id)
    events = studio.events.query("default", correlation_id=outcome.run_id, limit=1000)
    stored = Counter(e.id for e in events)
    on_stream = stream_counts(redis_url)
    return {
        "status": outcome.status, "posts": len(posts),
        "ledger": [(e.tool, e.status, e.attempts) for e in ledger],
        "events_stored": len(events), "duplicate_events_stored": sum(n - 1 for n in stored.values()),
        "published_events": sum(1 for e in events if e.type == "content.published"),
        "events_missing_on_stream": sorted(i for i in stored if on_stream[i] == 0),
        "duplicate_stream_entries": sum(n - 1 for i, n in on_stream.items() if i in stored),
    }


@pytest.mark.parametrize("point", ["ledger_write", "event_publish"])
def test_postgres_restarted_during_a_run(point: str, tmp_path: Path, postgres: RestartablePostgres,
                                         redis: PersistentRedis, monkeypatch: pytest.MonkeyPatch) -> None:
    database_url = postgres.create_database(f"restart_{point}")
    studio = open_studio(tmp_path / "home", database_url, redis.url)
    hooks = Hooks(monkeypatch)
    restarts_before = postgres.restarts
    hooks.actions[point] = postgres.restart
    started = time.perf_counter()
    outcome, resumes, first_error = run_to_completion(studio, GOAL.format(label=f"pg {point}"))
    redelivered = drain_events(studio)
    found = check_run(studio, outcome, redis.url)
    elapsed = time.perf_counter() - started
    report(f"r1_restart_postgres_{point}", {"restarted_at": point, "restarts": postgres.restarts - restarts_before,
                                            "resumes_needed": resumes,
                                            "first_attempt_stopped_by": (first_error or "")[:120],
                                            "redelivered": redelivered, **found,
                                            "seconds": round(elapsed, 1)})
    studio.close()
    assert hooks.fired == [point] and postgres.restarts == restarts_before + 1
    assert found["status"] == "completed", outcome.error
    assert found["posts"] == 1
    assert [(tool, status) for tool, status, _ in found["ledger"]] == [("publish_post", "succeeded")]
    assert found["published_events"] == 1 and found["duplicate_events_stored"] == 0
    assert found["events_missing_on_stream"] == [] and found["duplicate_stream_entries"] == 0


def test_redis_restarted_during_a_run(tmp_path: Path, postgres: RestartablePostgres, redis: PersistentRedis,
                                      monkeypatch: pytest.MonkeyPatch) -> None:
    database_url = postgres.create_database("restart_redis")
    studio = open_studio(tmp_path / "home", database_url, redis.url)
    hooks = Hooks(monkeypatch)

    def down() -> None:  # the provider call and its event happen while Redis is down; up again after that publish
        redis.stop()
        hooks.actions["event_publish"] = redis.start

    hooks.actions["ledger_write"] = down
    started = time.perf_counter()
    outcome, resumes, first_error = run_to_completion(studio, GOAL.format(label="redis"))
    dead_while_down = len([d for d in studio.events.dead_letters("default") if d.module == "bus"])
    redelivered = drain_events(studio)
    found = check_run(studio, outcome, redis.url)
    elapsed = time.perf_counter() - started
    report("r1_restart_redis", {"down_from": "ledger_write", "up_after": "event_publish", "resumes_needed": resumes,
                                "first_attempt_stopped_by": (first_error or "")[:120],
                                "events_published_while_down": dead_while_down, "redelivered": redelivered,
                                **found, "seconds": round(elapsed, 1)})
    studio.close()
    assert hooks.fired == ["ledger_write", "event_publish"]
    assert found["status"] == "completed", outcome.error
    assert found["posts"] == 1
    assert [(tool, status) for tool, status, _ in found["ledger"]] == [("publish_post", "succeeded")]
    assert dead_while_down >= 1  # the publish really happened while Redis was down
    assert found["published_events"] == 1 and found["duplicate_events_stored"] == 0
    assert found["events_missing_on_stream"] == [] and found["duplicate_stream_entries"] == 0
