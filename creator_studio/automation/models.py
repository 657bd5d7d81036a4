"""Tables of the Automation Lab: workflows (and their versions), runs and step runs, pause/resume changes,
and the jobs table the workers claim due work from."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Boolean, Float, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from creator_studio.store.db import Base, UTCDateTime, utcnow


class WorkflowRow(Base):
    __tablename__ = "automation_workflows"
    __table_args__ = (UniqueConstraint("workspace_id", "name"),)

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    workspace_id: Mapped[str] = mapped_column(String(64), index=True)
    name: Mapped[str] = mapped_column(String(120))
    status: Mapped[str] = mapped_column(String(16), default="active")  # active | paused | archived
    # The definition's version: 1 at creation, +1 whenever its trigger, steps or name change (it is the ETag).
    version: Mapped[int] = mapped_column(Integer, default=1)
    trigger_type: Mapped[str] = mapped_column(String(16))  # cron | event | threshold | once
    definition: Mapped[dict[str, Any]] = mapped_column(JSON)  # a WorkflowDefinition, dumped as JSON
    next_run_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True, index=True)
    idempotency_key: Mapped[str] = mapped_column(String(128), unique=True)
    # A threshold trigger's last reading ({"side": "above"|"below", "value": ..., "at": ...}): it fires on a crossing.
    trigger_state: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)
    # Set when the workflow is archived (soft-deleted): it never fires again, its runs stay readable.
    archived_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)


class WorkflowRunRow(Base):
    __tablename__ = "automation_workflow_runs"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    workspace_id: Mapped[str] = mapped_column(String(64), index=True)
    workflow_id: Mapped[str] = mapped_column(ForeignKey("automation_workflows.id"), index=True)
    workflow_version: Mapped[int] = mapped_column(Integer)
    trigger: Mapped[str] = mapped_column(String(16))  # manual | cron | event | threshold | once
    status: Mapped[str] = mapped_column(String(16), index=True)  # queued|running|succeeded|failed|skipped|cancelled
    queued_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    error: Mapped[str | None] = mapped_column(Text, nullable=True)
    idempotency_key: Mapped[str] = mapped_column(String(128), unique=True)
    # What started it (the event's payload, the failed run for an error workflow), read by {{event.x}}.
    context: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
    # The next instruction of the compiled step program; a run that waits resumes here.
    cursor: Mapped[int] = mapped_column(Integer, default=0)


class WorkflowChangeRow(Base):
    """One pause or resume request; `changed` is False when the workflow was already in that state."""

    __tablename__ = "automation_workflow_changes"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    workspace_id: Mapped[str] = mapped_column(String(64), index=True)
    workflow_id: Mapped[str] = mapped_column(ForeignKey("automation_workflows.id"), index=True)
    action: Mapped[str] = mapped_column(String(16))  # pause | resume
    changed: Mapped[bool] = mapped_column(Boolean)
    idempotency_key: Mapped[str] = mapped_column(String(128), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class WorkflowVersionRow(Base):
    """Every definition a workflow has had; `automation_workflows.version` names the current one."""

    __tablename__ = "automation_workflow_versions"

    workflow_id: Mapped[str] = mapped_column(ForeignKey("automation_workflows.id"), primary_key=True)
    version: Mapped[int] = mapped_column(Integer, primary_key=True)
    definition: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class WorkflowStepRunRow(Base):
    """One attempt at one step of a workflow run."""

    __tablename__ = "automation_step_runs"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    run_id: Mapped[str] = mapped_column(ForeignKey("automation_workflow_runs.id"), index=True)
    position: Mapped[int] = mapped_column(Integer)  # the instruction index in the compiled program
    step_type: Mapped[str] = mapped_column(String(16))
    label: Mapped[str] = mapped_column(String(300))
    attempt: Mapped[int] = mapped_column(Integer, default=1)
    status: Mapped[str] = mapped_column(String(16))  # succeeded | failed | waiting | skipped
    output: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
    error: Mapped[str | None] = mapped_column(Text, nullable=True)
    started_at: Mapped[datetime] = mapped_column(UTCDateTime())
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)


class JobRow(Base):
    """A unit of due work. Workers claim due jobs atomically (SKIP LOCKED on PostgreSQL, a compare-and-set
    UPDATE on SQLite) under a lease; a job whose worker died is claimed again once its lease expires."""

    __tablename__ = "automation_jobs"
    __table_args__ = (Index("ix_automation_jobs_claim", "status", "due_at"),)

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    workspace_id: Mapped[str] = mapped_column(String(64), index=True)
    kind: Mapped[str] = mapped_column(String(32))  # workflow_run | scheduled_post | probe
    key: Mapped[str] = mapped_column(String(200), unique=True)  # the same work is never queued twice
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)
    due_at: Mapped[datetime] = mapped_column(UTCDateTime())
    status: Mapped[str] = mapped_column(String(16), default="due")  # due | running | done | failed
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    lease_owner: Mapped[str | None] = mapped_column(String(120), nullable=True)
    lease_token: Mapped[str | None] = mapped_column(String(64), nullable=True)
    lease_until: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    error: Mapped[str | None] = mapped_column(Text, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class JobEffectRow(Base):
    """What a finished job did, written in the same transaction that marks it done: one row per job, ever."""

    __tablename__ = "automation_job_effects"

    job_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    workspace_id: Mapped[str] = mapped_column(String(64), index=True)
    kind: Mapped[str] = mapped_column(String(32))
    worker: Mapped[str] = mapped_column(String(120))
    due_at: Mapped[datetime] = mapped_column(UTCDateTime())
    ran_at: Mapped[datetime] = mapped_column(UTCDateTime())
    lateness_ms: Mapped[float] = mapped_column(Float)
    result: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)


class MetricSampleRow(Base):
    """Sandbox readings of behavioural metrics (community participation, churn risk, ...) for threshold
    triggers; the analytics module's metric source replaces it in a real workspace."""

    __tablename__ = "automation_metric_samples"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    workspace_id: Mapped[str] = mapped_column(String(64), index=True)
    metric: Mapped[str] = mapped_column(String(40))
    value: Mapped[float] = mapped_column(Float)
    measured_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
