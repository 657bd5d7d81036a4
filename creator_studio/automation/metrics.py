"""Where threshold triggers and conditions read metrics: a narrow seam (`MetricSource`).

The analytics module owns how engagement rate, community participation, churn risk or funnel progression
are measured; the Automation Lab only needs "the value of this metric over this window". The sandbox
implementation averages recorded readings (`automation_metric_samples`), which the sandbox world and tests
write; a workspace with analytics plugs its own source into `AutomationService`.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Protocol

from sqlalchemy import func, select

from creator_studio.automation.models import MetricSampleRow
from creator_studio.errors import InvalidInput
from creator_studio.store.db import Database, new_id


class MetricSource(Protocol):
    def read(self, workspace_id: str, metric: str, *, window: timedelta, now: datetime) -> float | None:
        """The metric's value over (now - window, now]; None when nothing was measured."""
        ...


def window_of(period: str) -> timedelta:
    """A trigger's window ("7d", "30d", "mtd", "ytd") as a length looking back from now."""
    if period.endswith("d") and period[:-1].isdigit():
        return timedelta(days=int(period[:-1]))
    return {"mtd": timedelta(days=31), "ytd": timedelta(days=366)}.get(period, timedelta(days=7))


class SandboxMetricSource:
    """Averages the readings recorded for a metric inside the window."""

    def __init__(self, db: Database) -> None:
        self._db = db

    def record(self, workspace_id: str, metric: str, value: float, *, at: datetime) -> None:
        if value != value:  # NaN never compares, so a threshold could never fire on it
            raise InvalidInput(f"{metric}: the reading is not a number")
        with self._db.transaction() as session:
            session.add(MetricSampleRow(id=new_id("metric"), workspace_id=workspace_id, metric=metric,
                                        value=float(value), measured_at=at))

    def read(self, workspace_id: str, metric: str, *, window: timedelta, now: datetime) -> float | None:
        with self._db.transaction() as session:
            value = session.scalar(select(func.avg(MetricSampleRow.value)).where(
                MetricSampleRow.workspace_id == workspace_id, MetricSampleRow.metric == metric,
                MetricSampleRow.measured_at > now - window, MetricSampleRow.measured_at <= now))
            return None if value is None else float(value)
