"""The analytics service: the one door other modules use (`studio.analytics`).

It owns the metrics store and payment ledger (fed by events), the periodic rollup with anomaly alerts, the
exchange rates used to report in one currency, and the plans of A/B tests, and it publishes the winner of a
concluded test as an event for content and revenue to act on.
"""

from __future__ import annotations

import csv
import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from creator_studio.analytics import anomalies, feed, forecasting
from creator_studio.analytics.experiments import ExperimentPlan
from creator_studio.analytics.metrics_store import MetricsStore, day_of
from creator_studio.analytics.models import AlertRow, ExchangeRateRow, ExperimentPlanRow
from creator_studio.analytics.revenue_metrics import ExchangeRates
from creator_studio.errors import InvalidInput
from creator_studio.providers.payments.base import CURRENCY_DECIMALS
from creator_studio.store.db import Database, utcnow

logger = logging.getLogger(__name__)

DEFAULT_RATES = Path(__file__).parent / "data" / "exchange_rates.csv"
DEFAULT_RATES_AS_OF = "built-in approximate rates; set real ones with set_exchange_rates"
# Metrics the rollup watches for anomalies (daily totals).
WATCHED_METRICS = ("engagements", "comments_received", "followers_gained", "purchases")
ANOMALY_HISTORY_DAYS = 28
ALERT_LOOKBACK_DAYS = 3  # anomalies on the last three complete days raise alerts
# Winners are announced with the existing content.optimized event (events/schemas.py has no experiment type).
WINNER_EVENT = "content.optimized"
ALERT_EVENT = "system.performance_alert"


@dataclass(frozen=True)
class RaisedAlert:
    metric: str
    day: datetime
    value: float
    expected: float
    robust_z: float
    direction: str


class AnalyticsService:
    def __init__(self, db: Database, *, clock: Callable[[], datetime] = utcnow) -> None:
        self._db = db
        self._clock = clock
        self.store = MetricsStore(db)
        self._events: Any | None = None

    # Events -----------------------------------------------------------------------------------------------
    def connect(self, events: Any) -> None:
        """Subscribe to the event service (and publish through it). Safe to call once per studio."""
        if self._events is not None:
            return
        self._events = events
        feed.subscribe(events, self.handle_event)

    def handle_event(self, event: Any) -> None:
        points, ledger = feed.points_for(event)
        if points or ledger:
            self.store.record(event.workspace_id, event.id, event.occurred_at, points, recorded_at=self._clock(),
                              ledger=ledger)

    def _publish(self, type_: str, workspace_id: str, data: dict[str, Any]) -> str | None:
        if self._events is None:
            return None
        event = self._events.publish(type_, workspace_id, data, source="analytics")
        return str(event.id)

    # Rollups and alerts -----------------------------------------------------------------------------------
    def rollup(self, workspace_id: str, *, now: datetime) -> tuple[datetime, list[RaisedAlert]]:
        """The periodic job: refresh the rollups, then raise an alert for each new anomaly in the watched daily
        series (each metric and day at most once)."""
        as_of = self.store.rollup(workspace_id, now=now)
        raised = []
        last_complete_day = day_of(now) - timedelta(days=1)  # today is still filling up: judged tomorrow
        watched = [*WATCHED_METRICS, *self.store.metrics(workspace_id, prefix="revenue_")]  # revenue per currency
        for metric in watched:
            series = self.store.series(workspace_id, metric, since=now - timedelta(days=ANOMALY_HISTORY_DAYS),
                                       until=last_complete_day)
            points = series.points
            while points and points[0].count == 0:  # days before the metric's first data are not zeros
                points = points[1:]
            values = [p.value for p in points]
            for found in anomalies.detect(values):
                day = points[found.index].day
                if day < last_complete_day - timedelta(days=ALERT_LOOKBACK_DAYS - 1):
                    continue  # old news: only recent days raise alerts
                alert = RaisedAlert(metric, day, found.value, found.expected, found.robust_z, found.direction)
                if self._remember_alert(workspace_id, alert):
                    raised.append(alert)
                    self.raise_alert(workspace_id, alert)
        return as_of, raised

    def forecast_followers(self, workspace_id: str, *, current_total: int, now: datetime, days: int = 30,
                           history_days: int = 90) -> forecasting.ForecastResult:
        """Followers at the end of today and the `days` − 1 days after: the end-of-day totals of the complete days
        are rebuilt backwards from the current count and the event-fed `followers_gained` rollups, then forecast
        with Holt's trend (with a prediction interval)."""
        if current_total < 0 or days < 1:
            raise InvalidInput("current_total must be zero or more and days at least 1.")
        gained = self.store.series(workspace_id, "followers_gained", since=now - timedelta(days=history_days),
                                   until=now).points
        today = gained[-1].value if gained and gained[-1].day == day_of(now) else 0.0
        complete = gained[:-1] if gained and gained[-1].day == day_of(now) else gained
        totals, running = [], float(current_total) - today  # today is not over: history ends yesterday
        for point in reversed(complete):  # the total at the end of each day, newest first
            totals.append(running)
            running -= point.value
        return forecasting.forecast(list(reversed(totals)), days)

    def _remember_alert(self, workspace_id: str, alert: RaisedAlert) -> bool:
        try:
            with self._db.transaction() as session:
                session.add(AlertRow(workspace_id=workspace_id, metric=alert.metric, day=alert.day,
                                     value=alert.value, expected=alert.expected, robust_z=alert.robust_z,
                                     raised_at=self._clock()))
        except IntegrityError:
            return False
        return True

    def raise_alert(self, workspace_id: str, alert: RaisedAlert) -> str | None:
        change = "above" if alert.direction == "spike" else "below"
        return self._publish(ALERT_EVENT, workspace_id, {
            "metric": alert.metric,
            "value": alert.value,
            "threshold": anomalies.DEFAULT_THRESHOLD,
            "message": f"{alert.metric} on {alert.day.date().isoformat()} was {alert.value:g}, far {change} the "
                       f"usual {alert.expected:g} (robust z {alert.robust_z:+.1f})",
            "day": alert.day.date().isoformat(),
            "robust_z": round(alert.robust_z, 2),
        })

    def recent_alerts(self, workspace_id: str, *, since: datetime) -> list[RaisedAlert]:
        with self._db.transaction() as session:
            rows = session.scalars(select(AlertRow).where(AlertRow.workspace_id == workspace_id,
                                                          AlertRow.day >= day_of(since))
                                   .order_by(AlertRow.day.desc(), AlertRow.metric)).all()
        return [RaisedAlert(r.metric, r.day, r.value, r.expected, r.robust_z, "spike" if r.robust_z > 0 else "drop")
                for r in rows]

    # Exchange rates ---------------------------------------------------------------------------------------
    def set_exchange_rates(self, workspace_id: str, base: str, rates: dict[str, str | Decimal], *,
                           as_of: str) -> None:
        """Store rates: units of `base` per one unit of each currency. Checked first, all written or none."""
        base = base.lower()
        checked: dict[str, Decimal] = {}
        for code, raw in rates.items():
            try:
                value = Decimal(str(raw))
            except InvalidOperation:
                raise InvalidInput(f"rate for {code!r} is not a number: {raw!r}") from None
            if code.lower() not in CURRENCY_DECIMALS or not value.is_finite() or value <= 0:
                raise InvalidInput(f"rate for {code!r} must be a positive number for a known ISO 4217 currency.")
            checked[code.lower()] = value
        if base not in CURRENCY_DECIMALS:
            raise InvalidInput(f"base currency {base!r} is not a known ISO 4217 code.")
        with self._db.transaction() as session:
            for code, value in checked.items():
                row = session.scalar(select(ExchangeRateRow).where(
                    ExchangeRateRow.workspace_id == workspace_id, ExchangeRateRow.base == base,
                    ExchangeRateRow.currency == code))
                if row is None:
                    row = ExchangeRateRow(workspace_id=workspace_id, base=base, currency=code)
                    session.add(row)
                row.rate, row.as_of = str(value), as_of

    def exchange_rates(self, workspace_id: str, base: str) -> ExchangeRates:
        """The workspace's own rates into `base` where set, else the built-in table (crossed through USD)."""
        base = base.lower()
        with self._db.transaction() as session:
            rows = session.scalars(select(ExchangeRateRow).where(
                ExchangeRateRow.workspace_id == workspace_id, ExchangeRateRow.base == base)).all()
        usd = _default_usd_rates()
        rates: dict[str, Decimal] = {}
        if base in usd:
            rates = {code: value / usd[base] for code, value in usd.items()}
        rates.update({r.currency: Decimal(r.rate) for r in rows})
        as_of = max((r.as_of for r in rows), default=DEFAULT_RATES_AS_OF)
        return ExchangeRates(base=base, rates=rates, as_of=as_of)

    # A/B test plans ---------------------------------------------------------------------------------------
    def save_plan(self, workspace_id: str, test_id: str, plan: ExperimentPlan) -> int:
        needed = plan.sample_size_per_variant  # validates the plan before anything is written
        with self._db.transaction() as session:
            row = session.get(ExperimentPlanRow, test_id)
            if row is None:
                session.add(ExperimentPlanRow(
                    test_id=test_id, workspace_id=workspace_id, baseline_rate=plan.baseline_rate,
                    minimum_detectable_effect=plan.minimum_detectable_effect, alpha=plan.alpha, power=plan.power,
                    sample_size_per_variant=needed,
                ))
        return needed

    def plan(self, workspace_id: str, test_id: str) -> tuple[ExperimentPlan, datetime | None, str | None] | None:
        """The plan of a test, when and with which winner it was concluded; None for a test without a plan."""
        with self._db.transaction() as session:
            row = session.get(ExperimentPlanRow, test_id)
            if row is None or row.workspace_id != workspace_id:
                return None
            return (ExperimentPlan(row.baseline_rate, row.minimum_detectable_effect, row.alpha, row.power),
                    row.concluded_at, row.winner)

    def conclude(self, workspace_id: str, test_id: str, *, test_name: str, metric: str, winner: str,
                 detail: dict[str, Any], now: datetime) -> bool:
        """Record the conclusion once and announce the winner; False if it was already concluded."""
        with self._db.transaction() as session:
            row = session.get(ExperimentPlanRow, test_id)
            if row is None or row.workspace_id != workspace_id or row.concluded_at is not None:
                return False
            row.concluded_at, row.winner = now, winner
        event_id = self._publish(WINNER_EVENT, workspace_id, {
            "content_id": test_id,
            "change": f"A/B test “{test_name}” concluded: use “{winner}” ({metric})",
            "experiment_id": test_id,
            "experiment_name": test_name,
            "metric": metric,
            "winner": winner,
            **detail,
        })
        if event_id is not None:
            with self._db.transaction() as session:
                stored = session.get(ExperimentPlanRow, test_id)
                if stored is not None:
                    stored.event_id = event_id
        return True


def _default_usd_rates() -> dict[str, Decimal]:
    with DEFAULT_RATES.open(encoding="utf-8", newline="") as handle:
        return {row["currency"]: Decimal(row["usd_per_unit"]) for row in csv.DictReader(handle)}


def daily(values_by_day: dict[datetime, float], since: datetime, until: datetime) -> list[float]:
    """A dense daily list from sparse {day: value}, zero-filled (for anomaly scans of provider data)."""
    out, day = [], day_of(since)
    while day <= until:
        out.append(values_by_day.get(day, 0.0))
        day += timedelta(days=1)
    return out
