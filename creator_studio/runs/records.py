"""Run records and trajectories: the one record the CLI, API, evals and dashboard all read."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, Field
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from creator_studio.errors import NotFound
from creator_studio.runs.models import RunRow, RunStepRow
from creator_studio.store.db import Database, utcnow

RunStatus = Literal["running", "waiting_approval", "completed", "failed", "cancelled"]


class Step(BaseModel):
    step_key: str
    kind: Literal["model", "tool", "route"]
    agent: str
    tool: str | None = None
    arguments: dict[str, Any] = {}
    status: str = "ok"
    summary: str = ""
    payload: dict[str, Any] | None = Field(default=None, exclude=True)
    prompt_tokens: int = 0
    completion_tokens: int = 0
    started_at: datetime
    ended_at: datetime
    duration_ms: float = 0.0


class Usage(BaseModel):
    model_calls: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0
    model_latency_ms: float = 0.0
    tool_calls: int = 0


class RunRecord(BaseModel):
    id: str
    workspace_id: str
    goal: str
    status: RunStatus
    model: str
    answer: str | None
    error: str | None
    route: dict[str, Any]
    source: str
    created_at: datetime
    updated_at: datetime


class RunStore:
    def __init__(self, db: Database) -> None:
        self._db = db

    def create(self, *, run_id: str, workspace_id: str, goal: str, model: str, source: str) -> RunRecord:
        with self._db.transaction() as session:
            row = RunRow(id=run_id, workspace_id=workspace_id, goal=goal, status="running", model=model,
                         source=source, route={})
            session.add(row)
            session.flush()
            return _record(row)

    def get(self, run_id: str, workspace_id: str | None = None) -> RunRecord:
        with self._db.transaction() as session:
            row = session.get(RunRow, run_id)
            if row is None or (workspace_id is not None and row.workspace_id != workspace_id):
                raise NotFound(f"No run {run_id!r}: `studio runs list` shows the runs of this workspace.")
            return _record(row)

    def update(self, run_id: str, *, status: RunStatus | None = None, answer: str | None = None,
               error: str | None = None, route: dict[str, Any] | None = None) -> None:
        with self._db.transaction() as session:
            row = session.get(RunRow, run_id)
            if row is None:
                raise NotFound(f"No run {run_id!r}.")
            if status is not None:
                row.status = status
            if answer is not None:
                row.answer = answer
            if error is not None:
                row.error = error
            if route is not None:
                row.route = route
            row.updated_at = utcnow()

    def recent(self, workspace_id: str, *, status: str | None = None, limit: int = 50) -> list[RunRecord]:
        with self._db.transaction() as session:
            query = select(RunRow).where(RunRow.workspace_id == workspace_id)
            if status:
                query = query.where(RunRow.status == status)
            rows = session.scalars(query.order_by(RunRow.created_at.desc()).limit(limit)).all()
            return [_record(r) for r in rows]

    def record_step(self, run_id: str, step: Step) -> None:
        """Insert once: a replayed step (same key) is ignored, so counts never double."""
        try:
            with self._db.transaction() as session:
                session.add(RunStepRow(run_id=run_id, payload=step.payload, **step.model_dump()))
        except IntegrityError:
            return

    def get_step(self, run_id: str, step_key: str) -> Step | None:
        with self._db.transaction() as session:
            row = session.scalar(select(RunStepRow).where(RunStepRow.run_id == run_id,
                                                          RunStepRow.step_key == step_key))
            return None if row is None else Step.model_validate(row, from_attributes=True)

    def steps(self, run_id: str) -> list[Step]:
        with self._db.transaction() as session:
            rows = session.scalars(select(RunStepRow).where(RunStepRow.run_id == run_id)
                                   .order_by(RunStepRow.started_at, RunStepRow.id)).all()
            return [Step.model_validate(r, from_attributes=True) for r in rows]

    def count_model_calls(self, run_id: str) -> int:
        return self._count(run_id, "model")

    def count_tool_calls(self, run_id: str) -> int:
        return self._count(run_id, "tool")

    def counts(self, run_id: str) -> tuple[int, int]:
        """(model calls, tool calls) recorded so far, in one query (the budget checks of each turn)."""
        with self._db.transaction() as session:
            rows = session.execute(select(RunStepRow.kind, func.count()).where(RunStepRow.run_id == run_id)
                                   .group_by(RunStepRow.kind)).all()
        by_kind = {str(kind): int(count) for kind, count in rows}
        return by_kind.get("model", 0), by_kind.get("tool", 0)

    def _count(self, run_id: str, kind: str) -> int:
        with self._db.transaction() as session:
            return int(session.scalar(select(func.count()).select_from(RunStepRow)
                                      .where(RunStepRow.run_id == run_id, RunStepRow.kind == kind)) or 0)

    def usage(self, run_id: str) -> Usage:
        return usage_of(self.steps(run_id))


def usage_of(steps: list[Step]) -> Usage:
    models = [s for s in steps if s.kind == "model"]
    return Usage(model_calls=len(models), prompt_tokens=sum(s.prompt_tokens for s in models),
                 completion_tokens=sum(s.completion_tokens for s in models),
                 model_latency_ms=round(sum(s.duration_ms for s in models), 1),
                 tool_calls=sum(1 for s in steps if s.kind == "tool"))


def _record(row: RunRow) -> RunRecord:
    return RunRecord.model_validate(row, from_attributes=True)
