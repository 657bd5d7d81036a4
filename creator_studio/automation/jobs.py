"""The jobs table: due work that N workers share, each job fired exactly once.

A worker *claims* due jobs under a lease (owner, token, expiry) with one `UPDATE ... RETURNING`. On
PostgreSQL its subquery selects rows `FOR UPDATE SKIP LOCKED`, so concurrent workers never wait for nor take
each other's rows; on SQLite (one writer at a time) the statement is an atomic compare-and-set whose WHERE
re-checks `status = 'due'` (or an expired lease) and whose returned rows say what this worker won.
A job whose worker died keeps its lease until it expires, then it is due again.

Finishing is fenced by the lease token: the job is marked done and its effect row written in one
transaction, and only if this worker still holds the lease. So a job's effect is recorded once, ever.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, func, insert, or_, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from creator_studio.automation.models import JobEffectRow, JobRow
from creator_studio.logs import get_logger
from creator_studio.store.db import Database, new_id

log = get_logger("automation.jobs")

MAX_ATTEMPTS = 5


@dataclass(frozen=True)
class Job:
    id: str
    workspace_id: str
    kind: str
    key: str
    payload: dict[str, Any]
    due_at: datetime
    attempts: int
    lease_token: str


@dataclass(frozen=True)
class NewJob:
    workspace_id: str
    kind: str
    key: str
    payload: dict[str, Any]
    due_at: datetime


class JobStore:
    def __init__(self, db: Database) -> None:
        self._db = db
        self._postgres = db.engine.dialect.name == "postgresql"

    # Queueing ---------------------------------------------------------------------------------------
    def enqueue(self, jobs: Sequence[NewJob], *, now: datetime) -> int:
        """Queue jobs; a job whose key is already queued (or done) is left alone. Returns how many were new."""
        if not jobs:
            return 0
        rows = [
            {"id": new_id("job"), "workspace_id": j.workspace_id, "kind": j.kind, "key": j.key, "payload": j.payload,
             "due_at": j.due_at, "status": "due", "attempts": 0, "created_at": now}
            for j in jobs
        ]
        insert = pg_insert if self._postgres else sqlite_insert
        statement = insert(JobRow).on_conflict_do_nothing(index_elements=["key"])
        with self._db.transaction() as session:
            added = 0
            for start in range(0, len(rows), 500):
                result = session.connection().execute(statement, rows[start:start + 500])
                added += max(result.rowcount, 0)
            return added

    # Claiming ---------------------------------------------------------------------------------------
    def claim(self, *, worker: str, now: datetime, limit: int, lease: timedelta) -> list[Job]:
        """Take up to `limit` due jobs (oldest first) for `worker` until now + lease."""
        token = uuid.uuid4().hex
        claimable = or_(
            and_(JobRow.status == "due", JobRow.due_at <= now),
            and_(JobRow.status == "running", JobRow.lease_until < now),
        )
        values = {"status": "running", "lease_owner": worker, "lease_token": token, "lease_until": now + lease,
                  "attempts": JobRow.attempts + 1, "started_at": now}
        columns = (JobRow.id, JobRow.workspace_id, JobRow.kind, JobRow.key, JobRow.payload, JobRow.due_at,
                   JobRow.attempts)
        chosen = select(JobRow.id).where(claimable).order_by(JobRow.due_at).limit(limit)
        if self._postgres:
            # Lock rows no other worker holds and skip those it does: concurrent claims never wait or collide.
            # In a CTE, so the locking LIMIT query runs exactly once (PostgreSQL's documented queue pattern).
            locked = chosen.with_for_update(skip_locked=True).cte("claimable_jobs")
            target = update(JobRow).where(JobRow.id == locked.c.id)
        else:
            # One statement under SQLite's single writer lock: an atomic compare-and-set (the WHERE re-checks
            # each row is still claimable).
            target = update(JobRow).where(JobRow.id.in_(chosen.scalar_subquery()), claimable)
        # RETURNING gives exactly the rows this worker got.
        statement = target.values(**values).returning(*columns).execution_options(synchronize_session=False)
        with self._db.transaction() as session:
            rows = session.execute(statement).all()
        reclaimed = [row.id for row in rows if row.attempts > 1]
        if reclaimed:
            log.warning("jobs claimed again after their lease expired",
                        extra={"job_ids": reclaimed, "worker": worker})
        return sorted((Job(id=r.id, workspace_id=r.workspace_id, kind=r.kind, key=r.key, payload=dict(r.payload),
                           due_at=r.due_at, attempts=r.attempts, lease_token=token) for r in rows),
                      key=lambda job: job.due_at)

    def extend(self, jobs: Sequence[Job], *, until: datetime) -> None:
        """Keep leases of jobs still being worked on (the worker's heartbeat)."""
        with self._db.transaction() as session:
            for job in jobs:
                session.execute(update(JobRow).where(JobRow.id == job.id, JobRow.lease_token == job.lease_token,
                                                     JobRow.status == "running").values(lease_until=until)
                                .execution_options(synchronize_session=False))

    # Finishing --------------------------------------------------------------------------------------
    def complete(self, job: Job, *, worker: str, now: datetime, result: dict[str, Any] | None = None) -> bool:
        """Mark done and write its effect row, atomically and only while holding the lease."""
        with self._db.transaction() as session:
            done = session.execute(
                update(JobRow)
                .where(JobRow.id == job.id, JobRow.lease_token == job.lease_token, JobRow.status == "running")
                .values(status="done", finished_at=now, lease_until=None, error=None)
                .execution_options(synchronize_session=False))
            if done.rowcount != 1:  # type: ignore[attr-defined]
                log.warning("job lease was lost before it finished; its result is discarded",
                            extra={"job_id": job.id, "worker": worker})
                return False
            session.add(JobEffectRow(job_id=job.id, workspace_id=job.workspace_id, kind=job.kind, worker=worker,
                                     due_at=job.due_at, ran_at=now,
                                     lateness_ms=max((now - job.due_at).total_seconds() * 1000, 0.0),
                                     result=result))
            return True

    def complete_many(self, finished: Sequence[tuple[Job, dict[str, Any] | None]], *, worker: str,
                      now: datetime) -> int:
        """`complete` for a whole batch in one transaction (the fence applies to each job). Returns how many."""
        if not finished:
            return 0
        results = {job.id: (job, result) for job, result in finished}
        with self._db.transaction() as session:
            done: set[str] = set()
            for token in {job.lease_token for job, _ in finished}:
                ids = [job.id for job, _ in finished if job.lease_token == token]
                done.update(session.scalars(
                    update(JobRow)
                    .where(JobRow.id.in_(ids), JobRow.lease_token == token, JobRow.status == "running")
                    .values(status="done", finished_at=now, lease_until=None, error=None)
                    .returning(JobRow.id).execution_options(synchronize_session=False)).all())
            lost = set(results) - done
            if lost:
                log.warning("job leases were lost before they finished; their results are discarded",
                            extra={"job_ids": sorted(lost), "worker": worker})
            if done:
                session.execute(insert(JobEffectRow), [
                    {"job_id": job.id, "workspace_id": job.workspace_id, "kind": job.kind, "worker": worker,
                     "due_at": job.due_at, "ran_at": now,
                     "lateness_ms": max((now - job.due_at).total_seconds() * 1000, 0.0), "result": result}
                    for job_id, (job, result) in results.items() if job_id in done])
            return len(done)

    def fail(self, job: Job, *, error: str, now: datetime) -> None:
        """A job that raised: due again with backoff, or failed for good after MAX_ATTEMPTS."""
        final = job.attempts >= MAX_ATTEMPTS
        with self._db.transaction() as session:
            session.execute(
                update(JobRow)
                .where(JobRow.id == job.id, JobRow.lease_token == job.lease_token, JobRow.status == "running")
                .values(status="failed" if final else "due", error=error[:2000], lease_until=None,
                        due_at=job.due_at if final else now + timedelta(seconds=2 ** job.attempts),
                        finished_at=now if final else None)
                .execution_options(synchronize_session=False))

    def release(self, jobs: Sequence[Job]) -> None:
        """Give back claimed jobs this worker will not run (it is stopping): due again at once, for others."""
        with self._db.transaction() as session:
            for job in jobs:
                session.execute(update(JobRow).where(JobRow.id == job.id, JobRow.lease_token == job.lease_token,
                                                     JobRow.status == "running")
                                .values(status="due", lease_owner=None, lease_token=None, lease_until=None,
                                        attempts=JobRow.attempts - 1)
                                .execution_options(synchronize_session=False))

    # Reading ----------------------------------------------------------------------------------------
    def counts(self) -> dict[str, int]:
        with self._db.transaction() as session:
            return {status: n for status, n in session.execute(
                select(JobRow.status, func.count()).group_by(JobRow.status)).all()}

    def next_due(self) -> datetime | None:
        with self._db.transaction() as session:
            return session.scalar(select(func.min(JobRow.due_at)).where(JobRow.status == "due"))

    def effects(self, *, kind: str | None = None) -> list[JobEffectRow]:
        with self._db.transaction() as session:
            query = select(JobEffectRow)
            if kind is not None:
                query = query.where(JobEffectRow.kind == kind)
            return list(session.scalars(query).all())
