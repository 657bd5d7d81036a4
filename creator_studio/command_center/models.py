"""Tables of the Command Center: the creator's growth targets (one per metric and workspace)."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Date, Float, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from creator_studio.store.db import Base, UTCDateTime, utcnow


class TargetRow(Base):
    __tablename__ = "command_center_targets"
    __table_args__ = (UniqueConstraint("workspace_id", "metric"),)

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    workspace_id: Mapped[str] = mapped_column(String(64), index=True)
    metric: Mapped[str] = mapped_column(String(32))
    target: Mapped[float] = mapped_column(Float)
    by: Mapped[date | None] = mapped_column(Date, nullable=True)  # a day in the workspace's time zone
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)
