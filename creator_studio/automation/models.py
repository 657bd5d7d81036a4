"""Tables of the Automation Lab: workflows, their runs and pause/resume changes, each with its key."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Boolean, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from creator_studio.store.db import Base, UTCDateTime, utcnow


class WorkflowRow(Base):
    __tablename__ = "automation_workflows"
    __table_args__ = (UniqueConstraint("workspace_id", "name"),)

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    workspace_id: Mapped[str] = mapped_column(String(64), index=True)
    name: Mapped[str] = mapped_column(String(120))
    status: Mapped[str] = mapped_column(String(16), default="active")  # active | paused
    # The definition's version: 1 at creation, +1 whenever its trigger or steps change.
    version: Mapped[int] = mapped_column(Integer, default=1)
    trigger_type: Mapped[str] = mapped_column(String(16))  # cron | event | threshold | once
    definition: Mapped[dict[str, Any]] = mapped_column(JSON)  # a WorkflowDefinition, dumped as JSON
    next_run_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True, index=True)
    idempotency_key: Mapped[str] = mapped_column(String(128), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)


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
