"""Done means (issue 7): two `studio worker` processes on PostgreSQL + Redis, 1,000 jobs due within a few
seconds, one worker SIGKILLed midway: every job runs exactly once and the audit log shows each."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select

from creator_studio.automation.definitions import WorkflowFile
from creator_studio.automation.jobs import JobStore, NewJob
from creator_studio.automation.models import JobEffectRow, JobRow, WorkflowRunRow
from creator_studio.sandbox.seed import DEFAULT_BRAND, DEFAULT_TIMEZONE
from creator_studio.settings import Settings
from creator_studio.studio import Studio
from tests.integration.test_postgres_profile import create_database, drop_database

pytestmark = [pytest.mark.integration, pytest.mark.timeout(420)]

JOBS = 1000


@pytest.fixture
def cluster(postgres_server: str, redis_server: str, tmp_path: Path) -> Iterator[tuple[Studio, dict[str, str]]]:
    name = f"w_{uuid.uuid4().hex[:12]}"
    url = create_database(postgres_server, name)
    env = {**os.environ, "STUDIO_DATABASE_URL": url, "STUDIO_REDIS_URL": redis_server, "STUDIO_MODEL": "offline",
           "STUDIO_HOME": str(tmp_path / "home"), "STUDIO_LOG_LEVEL": "WARNING", "HF_HUB_OFFLINE": "1"}
    studio = Studio.open(Settings(home=tmp_path / "home", database_url=url, redis_url=redis_server,
                                  model="offline"))  # runs the Alembic migrations on PostgreSQL
    try:
        yield studio, env
    finally:
        studio.close()
        drop_database(postgres_server, name)


def start_worker(env: dict[str, str], name: str, log: Path) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-m", "creator_studio.cli", "worker", "--worker-id", name, "--lease", "3", "--batch", "10",
         "--poll", "0.05"], env=env, stdout=subprocess.DEVNULL, stderr=log.open("wb"))


def count(studio: Studio, query: object) -> int:
    with studio.db.transaction() as session:
        return int(session.scalar(query) or 0)  # type: ignore[call-overload]


def test_two_workers_one_killed_every_job_runs_exactly_once(cluster: tuple[Studio, dict[str, str]],
                                                             tmp_path: Path) -> None:
    studio, env = cluster
    ws = studio.workspaces.create("default", "Scale-out", DEFAULT_TIMEZONE, DEFAULT_BRAND)
    flow = WorkflowFile.model_validate({
        "name": "Probe", "trigger": {"type": "event", "event": "content.optimized"},
        "steps": [{"type": "tool", "tool": "list_workflows", "args": {"status": "active"}}],
    })
    workflow, _ = studio.automation.save_workflow(ws, flow, now=studio.now())

    logs = [tmp_path / "worker-a.log", tmp_path / "worker-b.log"]
    workers = [start_worker(env, "worker-a", logs[0]), start_worker(env, "worker-b", logs[1])]
    try:
        deadline = time.monotonic() + 90  # both up (each prints its banner once its studio is open)
        while not all("worker " in log.read_text(errors="replace") for log in logs):
            assert all(w.poll() is None for w in workers), [log.read_text() for log in logs]
            assert time.monotonic() < deadline, "workers did not start"
            time.sleep(0.2)

        now = studio.now()
        JobStore(studio.db).enqueue([
            NewJob(workspace_id=ws.id, kind="workflow_run", key=f"scale:{i}", due_at=now + timedelta(
                seconds=1 + 3 * i / JOBS), payload={"workflow_id": workflow.id, "trigger": "once",
                                                   "context": {"event": {"n": i}}})
            for i in range(JOBS)], now=now)

        deadline = time.monotonic() + 120
        while count(studio, select(func.count()).select_from(JobEffectRow)) < JOBS // 3:
            assert time.monotonic() < deadline, "no progress"
            time.sleep(0.05)
        workers[0].send_signal(signal.SIGKILL)  # midway, holding a leased batch
        workers[0].wait(timeout=10)

        deadline = time.monotonic() + 240
        while count(studio, select(func.count()).select_from(JobRow).where(JobRow.status == "done")) < JOBS:
            assert workers[1].poll() is None, logs[1].read_text()
            assert time.monotonic() < deadline, studio.automation.runs(ws, limit=3)
            time.sleep(0.2)
    finally:
        for worker in workers:
            if worker.poll() is None:
                worker.send_signal(signal.SIGTERM)
                try:
                    worker.wait(timeout=20)
                except subprocess.TimeoutExpired:
                    worker.kill()
                    worker.wait()

    # Exactly once: one effect row per job, one run per job, each run's tool step once in the ledger.
    with studio.db.transaction() as session:
        effects = session.scalars(select(JobEffectRow)).all()
        jobs = session.scalars(select(JobRow).where(JobRow.key.like("scale:%"))).all()
        runs = session.scalars(select(WorkflowRunRow).where(WorkflowRunRow.workflow_id == workflow.id)).all()
    scale_ids = {job.id for job in jobs}
    scale_effects = [e for e in effects if e.job_id in scale_ids]
    assert len(jobs) == JOBS and all(job.status == "done" for job in jobs)
    assert len(scale_effects) == len({e.job_id for e in scale_effects}) == JOBS
    assert {e.worker for e in scale_effects} == {"worker-a", "worker-b"}  # both worked before the kill
    assert len(runs) == JOBS and all(run.status == "succeeded" for run in runs)
    assert sorted(run.context["event"]["n"] for run in runs) == list(range(JOBS))  # type: ignore[index]
    ledger = studio.ledger.entries(workspace_id=ws.id, side_effects_only=False)
    assert len([e for e in ledger if e.tool == "list_workflows"]) == JOBS

    # The audit log (the events service) shows each run's completion once.
    completed = studio.events.query(ws.id, types=["system.workflow_completed"], limit=10 * JOBS)
    assert sorted(e.correlation_id or "" for e in completed) == sorted(run.id for run in runs)
    assert all(report.ok for report in studio.events.verify_audit(ws.id))

    reclaimed = [job for job in jobs if job.attempts > 1]
    print(f"jobs claimed again after the kill: {len(reclaimed)}; "
          f"by worker: { {w: sum(e.worker == w for e in scale_effects) for w in ('worker-a', 'worker-b')} }")
