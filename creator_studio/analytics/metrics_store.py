"""The metrics store: time series per metric and dimension, fed by events, read from daily rollups.

Two consistency levels, on purpose:
- Metrics are eventually consistent. Points are appended as events arrive; readers see the daily rollups,
  which `rollup()` refreshes periodically, and every read says `as_of`: the moment up to which points are in.
- Payments are strongly consistent. A payment event writes its ledger row and its metric points in one
  transaction, and the ledger is read directly, so a payment is visible the moment its event is processed.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Literal, get_args

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from creator_studio.analytics.models import MetricPointRow, MetricRollupRow, PaymentLedgerRow, RollupStateRow
from creator_studio.errors import InvalidInput
from creator_studio.store.db import Database

Dimension = Literal["all", "platform", "post", "product", "segment", "currency"]
DIMENSIONS: tuple[str, ...] = get_args(Dimension)
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


@dataclass(frozen=True)
class Point:
    metric: str
    value: float
    dimension: str = "all"
    dimension_value: str = ""


@dataclass(frozen=True)
class SeriesPoint:
    day: datetime
    value: float
    count: int


@dataclass(frozen=True)
class Series:
    metric: str
    dimension: str
    dimension_value: str
    points: list[SeriesPoint]
    as_of: datetime | None  # points recorded up to this moment are in; None: never rolled up yet


@dataclass(frozen=True)
class LedgerEntry:
    event_id: str
    kind: str
    reference: str
    product_id: str | None
    amount: int
    currency: str
    occurred_at: datetime


def day_of(at: datetime) -> datetime:
    utc = at.astimezone(UTC)
    return utc.replace(hour=0, minute=0, second=0, microsecond=0)


class MetricsStore:
    def __init__(self, db: Database) -> None:
        self._db = db

    # Writing ----------------------------------------------------------------------------------------------
    def record(self, workspace_id: str, event_id: str, occurred_at: datetime, points: Sequence[Point], *,
               recorded_at: datetime, ledger: LedgerEntry | None = None) -> bool:
        """Append an event's points (and its ledger entry) atomically; False if the event was already recorded."""
        for point in points:
            if point.dimension not in DIMENSIONS:
                raise InvalidInput(f"dimension {point.dimension!r} is not one of {', '.join(DIMENSIONS)}.")
        try:
            with self._db.transaction() as session:
                self._add(session, workspace_id, event_id, occurred_at, points, recorded_at, ledger)
        except IntegrityError:  # a redelivered event: its points and ledger row are already in
            return False
        return True

    @staticmethod
    def _add(session: Session, workspace_id: str, event_id: str, occurred_at: datetime, points: Sequence[Point],
             recorded_at: datetime, ledger: LedgerEntry | None) -> None:
        if ledger is not None:
            session.add(PaymentLedgerRow(
                workspace_id=workspace_id, event_id=event_id, kind=ledger.kind, reference=ledger.reference,
                product_id=ledger.product_id, amount=ledger.amount, currency=ledger.currency,
                occurred_at=ledger.occurred_at, recorded_at=recorded_at,
            ))
        session.add_all(
            MetricPointRow(workspace_id=workspace_id, event_id=event_id, metric=p.metric, dimension=p.dimension,
                           dimension_value=p.dimension_value, value=p.value, occurred_at=occurred_at,
                           recorded_at=recorded_at)
            for p in points
        )
        session.flush()

    # Rolling up -------------------------------------------------------------------------------------------
    def rollup(self, workspace_id: str, *, now: datetime) -> datetime:
        """Fold every point recorded since the last rollup into its daily bucket; returns the new `as_of`.
        Only the buckets that received new points are recomputed, from all their points (idempotent)."""
        with self._db.transaction() as session:
            state = session.get(RollupStateRow, workspace_id)
            since = state.as_of if state is not None else EPOCH
            fresh = session.execute(
                select(MetricPointRow.metric, MetricPointRow.dimension, MetricPointRow.dimension_value,
                       MetricPointRow.occurred_at)
                .where(MetricPointRow.workspace_id == workspace_id, MetricPointRow.recorded_at > since,
                       MetricPointRow.recorded_at <= now)
            ).all()
            touched = {(m, d, v, day_of(at)) for m, d, v, at in fresh}
            for metric, dimension, value, day in touched:
                total, count = session.execute(
                    select(func.coalesce(func.sum(MetricPointRow.value), 0.0), func.count(MetricPointRow.id)).where(
                        MetricPointRow.workspace_id == workspace_id, MetricPointRow.metric == metric,
                        MetricPointRow.dimension == dimension, MetricPointRow.dimension_value == value,
                        MetricPointRow.occurred_at >= day, MetricPointRow.occurred_at < day + timedelta(days=1),
                        MetricPointRow.recorded_at <= now,
                    )
                ).one()
                row = session.scalar(select(MetricRollupRow).where(
                    MetricRollupRow.workspace_id == workspace_id, MetricRollupRow.metric == metric,
                    MetricRollupRow.dimension == dimension, MetricRollupRow.dimension_value == value,
                    MetricRollupRow.day == day,
                ))
                if row is None:
                    row = MetricRollupRow(workspace_id=workspace_id, metric=metric, dimension=dimension,
                                          dimension_value=value, day=day)
                    session.add(row)
                row.value, row.count = float(total), int(count)
            if state is None:
                session.add(RollupStateRow(workspace_id=workspace_id, as_of=now))
            else:
                state.as_of = max(state.as_of, now)
            session.flush()
        return now

    def as_of(self, workspace_id: str) -> datetime | None:
        with self._db.transaction() as session:
            state = session.get(RollupStateRow, workspace_id)
            return state.as_of if state is not None else None

    # Reading ----------------------------------------------------------------------------------------------
    def series(self, workspace_id: str, metric: str, *, dimension: str = "all", dimension_value: str = "",
               since: datetime, until: datetime, fill: bool = True) -> Series:
        """Daily values from the rollups in [since, until]; missing days are zero when `fill` is set."""
        if dimension not in DIMENSIONS:
            raise InvalidInput(f"dimension {dimension!r} is not one of {', '.join(DIMENSIONS)}.")
        with self._db.transaction() as session:
            rows = session.scalars(select(MetricRollupRow).where(
                MetricRollupRow.workspace_id == workspace_id, MetricRollupRow.metric == metric,
                MetricRollupRow.dimension == dimension, MetricRollupRow.dimension_value == dimension_value,
                MetricRollupRow.day >= day_of(since), MetricRollupRow.day <= until,
            ).order_by(MetricRollupRow.day)).all()
            state = session.get(RollupStateRow, workspace_id)
        by_day = {r.day: SeriesPoint(r.day, r.value, r.count) for r in rows}
        points = list(by_day.values())
        if fill:
            points, day = [], day_of(since)
            while day <= until:
                points.append(by_day.get(day, SeriesPoint(day, 0.0, 0)))
                day += timedelta(days=1)
        return Series(metric, dimension, dimension_value, points, state.as_of if state else None)

    def metrics(self, workspace_id: str, *, prefix: str = "") -> list[str]:
        """The metric names that have rollups (optionally those starting with `prefix`)."""
        with self._db.transaction() as session:
            names = session.scalars(select(MetricRollupRow.metric).where(
                MetricRollupRow.workspace_id == workspace_id, MetricRollupRow.metric.startswith(prefix)).distinct())
            return sorted(str(n) for n in names)

    def breakdown(self, workspace_id: str, metric: str, dimension: str, *, since: datetime,
                  until: datetime) -> dict[str, float]:
        """A metric's total per dimension value over a period (from the rollups)."""
        with self._db.transaction() as session:
            rows = session.execute(
                select(MetricRollupRow.dimension_value, func.sum(MetricRollupRow.value))
                .where(MetricRollupRow.workspace_id == workspace_id, MetricRollupRow.metric == metric,
                       MetricRollupRow.dimension == dimension, MetricRollupRow.day >= day_of(since),
                       MetricRollupRow.day <= until)
                .group_by(MetricRollupRow.dimension_value)
            ).all()
        return {str(value): float(total) for value, total in rows}

    def ledger(self, workspace_id: str, *, since: datetime | None = None,
               until: datetime | None = None) -> list[LedgerEntry]:
        with self._db.transaction() as session:
            query = select(PaymentLedgerRow).where(PaymentLedgerRow.workspace_id == workspace_id)
            if since is not None:
                query = query.where(PaymentLedgerRow.occurred_at >= since)
            if until is not None:
                query = query.where(PaymentLedgerRow.occurred_at <= until)
            rows = session.scalars(query.order_by(PaymentLedgerRow.occurred_at, PaymentLedgerRow.id)).all()
        return [LedgerEntry(r.event_id, r.kind, r.reference, r.product_id, r.amount, r.currency, r.occurred_at)
                for r in rows]

    def ledger_totals(self, workspace_id: str, *, since: datetime | None = None,
                      until: datetime | None = None) -> dict[str, int]:
        """Successful payment totals per currency, straight from the ledger (no rollup lag)."""
        totals: dict[str, int] = {}
        for entry in self.ledger(workspace_id, since=since, until=until):
            if entry.kind == "purchase":
                totals[entry.currency] = totals.get(entry.currency, 0) + entry.amount
        return totals
