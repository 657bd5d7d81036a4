"""Analytics tables: raw metric points fed by events, their daily rollups and the rollup watermark, the payment
ledger, A/B test plans, exchange rates, and the alerts already raised.

Only analytics reads and writes these; other modules go through `AnalyticsService`.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Float, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from creator_studio.store.db import Base, UTCDateTime, utcnow


class MetricPointRow(Base):
    """One increment of one metric for one dimension value (platform, post, product, segment, or all)."""

    __tablename__ = "analytics_metric_points"
    # An event delivered twice (retries, at-least-once streams) adds its points once.
    __table_args__ = (UniqueConstraint("workspace_id", "event_id", "metric", "dimension", "dimension_value"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    workspace_id: Mapped[str] = mapped_column(String(64), index=True)
    event_id: Mapped[str] = mapped_column(String(64))
    metric: Mapped[str] = mapped_column(String(64))
    dimension: Mapped[str] = mapped_column(String(16))  # all | platform | post | product | segment
    dimension_value: Mapped[str] = mapped_column(String(128))
    value: Mapped[float] = mapped_column(Float)
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime())
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)


class MetricRollupRow(Base):
    """The sum and count of a metric's points for one UTC day and dimension value, as of the last rollup."""

    __tablename__ = "analytics_metric_rollups"
    __table_args__ = (UniqueConstraint("workspace_id", "metric", "dimension", "dimension_value", "day"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    workspace_id: Mapped[str] = mapped_column(String(64), index=True)
    metric: Mapped[str] = mapped_column(String(64))
    dimension: Mapped[str] = mapped_column(String(16))
    dimension_value: Mapped[str] = mapped_column(String(128))
    day: Mapped[datetime] = mapped_column(UTCDateTime())  # midnight UTC
    value: Mapped[float] = mapped_column(Float)
    count: Mapped[int] = mapped_column(Integer)


class RollupStateRow(Base):
    """The watermark: every point recorded at or before `as_of` is in the rollups."""

    __tablename__ = "analytics_rollup_state"

    workspace_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    as_of: Mapped[datetime] = mapped_column(UTCDateTime())


class PaymentLedgerRow(Base):
    """One payment event, written in the same transaction as its metric points (read back at once)."""

    __tablename__ = "analytics_payment_ledger"
    __table_args__ = (UniqueConstraint("workspace_id", "event_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    workspace_id: Mapped[str] = mapped_column(String(64), index=True)
    event_id: Mapped[str] = mapped_column(String(64))
    kind: Mapped[str] = mapped_column(String(16))  # purchase | failed
    reference: Mapped[str] = mapped_column(String(128))  # the order or payment id at the provider
    product_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    amount: Mapped[int] = mapped_column(Integer)  # minor units
    currency: Mapped[str] = mapped_column(String(3))
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime())
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class ExperimentPlanRow(Base):
    """The fixed-horizon plan of an A/B test (sample size computed up front) and how it was concluded."""

    __tablename__ = "analytics_experiment_plans"

    test_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    workspace_id: Mapped[str] = mapped_column(String(64), index=True)
    baseline_rate: Mapped[float] = mapped_column(Float)
    minimum_detectable_effect: Mapped[float] = mapped_column(Float)  # relative lift
    alpha: Mapped[float] = mapped_column(Float)
    power: Mapped[float] = mapped_column(Float)
    sample_size_per_variant: Mapped[int] = mapped_column(Integer)
    concluded_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    winner: Mapped[str | None] = mapped_column(String(200), nullable=True)
    event_id: Mapped[str | None] = mapped_column(String(64), nullable=True)


class ExchangeRateRow(Base):
    """Units of `base` per one unit of `currency` (major units), for reporting in one currency."""

    __tablename__ = "analytics_exchange_rates"
    __table_args__ = (UniqueConstraint("workspace_id", "base", "currency"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    workspace_id: Mapped[str] = mapped_column(String(64), index=True)
    base: Mapped[str] = mapped_column(String(3))
    currency: Mapped[str] = mapped_column(String(3))
    rate: Mapped[str] = mapped_column(String(32))  # a decimal, kept exact as text
    as_of: Mapped[str] = mapped_column(String(10))  # YYYY-MM-DD


class AlertRow(Base):
    """An anomaly already raised as `system.performance_alert`, so a rollup never raises it twice."""

    __tablename__ = "analytics_alerts"
    __table_args__ = (UniqueConstraint("workspace_id", "metric", "day"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    workspace_id: Mapped[str] = mapped_column(String(64), index=True)
    metric: Mapped[str] = mapped_column(String(64))
    day: Mapped[datetime] = mapped_column(UTCDateTime())
    value: Mapped[float] = mapped_column(Float)
    expected: Mapped[float] = mapped_column(Float)
    robust_z: Mapped[float] = mapped_column(Float)
    raised_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
