"""Subscription revenue with Stripe's semantics: MRR, ARR, net new MRR and its parts, churn, ARPU, LTV.

- MRR counts what a subscription bills per month, normalised: yearly ÷ 12, weekly × 52 ÷ 12, times quantity.
- A trial is not MRR until it is paid (from `trial_end` on).
- Cancel at period end: still MRR until the period ends (`ended_at`), none after.
- A plan change (upgrade, downgrade, quantity) moves MRR from the moment it takes effect; the proration
  invoice Stripe sends for the rest of the period is revenue (cash), never MRR.
- Other currencies are converted into the reporting currency with a rates table (`ExchangeRates`).

All amounts are minor units (cents) held as Fractions, so sums are exact and rounding happens once, at the end.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from fractions import Fraction

from creator_studio.errors import InvalidInput
from creator_studio.providers.payments.base import CURRENCY_DECIMALS

MONTHS_PER_INTERVAL = {"day": Fraction(12, 365), "week": Fraction(12, 52), "month": Fraction(1), "year": Fraction(12)}
DAYS_PER_MONTH = 365 / 12


@dataclass(frozen=True)
class PlanChange:
    """What a subscription bills from `effective_at` on (its first plan starts when the subscription does)."""

    effective_at: datetime
    unit_amount: int  # minor units per interval
    currency: str
    interval: str = "month"  # day | week | month | year
    interval_count: int = 1
    quantity: int = 1

    def monthly(self) -> Fraction:
        if self.interval not in MONTHS_PER_INTERVAL:
            raise InvalidInput(f"interval {self.interval!r} is not day, week, month or year.")
        months = MONTHS_PER_INTERVAL[self.interval] * self.interval_count
        return Fraction(self.unit_amount * self.quantity) / months


@dataclass(frozen=True)
class SubscriptionHistory:
    id: str
    customer_id: str
    started_at: datetime
    plans: list[PlanChange]
    trial_end: datetime | None = None
    ended_at: datetime | None = None  # when billing stopped: cancellation, or the period end it was set to

    def plan_at(self, at: datetime) -> PlanChange | None:
        current = None
        for plan in sorted(self.plans, key=lambda p: p.effective_at):
            if plan.effective_at <= at:
                current = plan
        return current

    def mrr_at(self, at: datetime) -> tuple[Fraction, str | None]:
        """Monthly value and its currency at a moment; zero before it starts, in its trial, and once ended."""
        if at < self.started_at or (self.ended_at is not None and self.ended_at <= at):
            return Fraction(0), None
        if self.trial_end is not None and at < self.trial_end:
            return Fraction(0), None
        plan = self.plan_at(at) or (min(self.plans, key=lambda p: p.effective_at) if self.plans else None)
        if plan is None:
            return Fraction(0), None
        return plan.monthly(), plan.currency


@dataclass(frozen=True)
class ExchangeRates:
    """Units of `base` per one unit of each currency (major units), as published on `as_of`."""

    base: str
    rates: Mapping[str, Decimal]
    as_of: str = ""

    def convert(self, amount_minor: Fraction | int, currency: str) -> Fraction:
        """Minor units of `currency` to minor units of the base currency (JPY has no minor unit; USD has 2)."""
        code, base = currency.lower(), self.base.lower()
        if code == base:
            return Fraction(amount_minor)
        rate = self.rates.get(code)
        if rate is None:
            raise InvalidInput(f"No exchange rate from {code.upper()} to {base.upper()} in the rates table.")
        major = Fraction(amount_minor) / 10 ** CURRENCY_DECIMALS.get(code, 2)
        return major * Fraction(rate) * 10 ** CURRENCY_DECIMALS.get(base, 2)


@dataclass
class MrrMovements:
    """Net new MRR = new + expansion − contraction − churned, which equals MRR(end) − MRR(start)."""

    start_mrr: Fraction = Fraction(0)
    end_mrr: Fraction = Fraction(0)
    new: Fraction = Fraction(0)
    expansion: Fraction = Fraction(0)
    contraction: Fraction = Fraction(0)
    churned: Fraction = Fraction(0)
    customers_at_start: int = 0
    customers_at_end: int = 0
    new_customers: int = 0
    churned_customers: int = 0
    per_customer_start: dict[str, Fraction] = field(default_factory=dict)

    @property
    def net_new(self) -> Fraction:
        return self.new + self.expansion - self.contraction - self.churned

    @property
    def customer_churn_rate(self) -> float | None:
        return self.churned_customers / self.customers_at_start if self.customers_at_start else None

    @property
    def gross_revenue_churn_rate(self) -> float | None:
        """(churned + contraction MRR) ÷ MRR at the start."""
        return float((self.churned + self.contraction) / self.start_mrr) if self.start_mrr else None

    @property
    def net_revenue_churn_rate(self) -> float | None:
        """(churned + contraction − expansion MRR) ÷ MRR at the start; negative is net expansion."""
        return float((self.churned + self.contraction - self.expansion) / self.start_mrr) if self.start_mrr else None


def customer_mrr(subs: Iterable[SubscriptionHistory], at: datetime, rates: ExchangeRates) -> dict[str, Fraction]:
    """MRR per customer at a moment, in the reporting currency."""
    out: dict[str, Fraction] = {}
    for sub in subs:
        value, currency = sub.mrr_at(at)
        if value and currency:
            out[sub.customer_id] = out.get(sub.customer_id, Fraction(0)) + rates.convert(value, currency)
    return out


def mrr_movements(subs: list[SubscriptionHistory], start: datetime, end: datetime,
                  rates: ExchangeRates) -> MrrMovements:
    """Compare each customer's MRR at the start and the end of a period (the usual MRR-movement report): up from
    zero is new, down to zero is churned, otherwise the difference is expansion or contraction."""
    if end < start:
        raise InvalidInput("the period ends before it starts.")
    before, after = customer_mrr(subs, start, rates), customer_mrr(subs, end, rates)
    moves = MrrMovements(
        start_mrr=sum(before.values(), Fraction(0)),
        end_mrr=sum(after.values(), Fraction(0)),
        customers_at_start=len(before),
        customers_at_end=len(after),
        per_customer_start=before,
    )
    for customer in set(before) | set(after):
        old, new = before.get(customer, Fraction(0)), after.get(customer, Fraction(0))
        if not old and new:
            moves.new += new
            moves.new_customers += 1
        elif old and not new:
            moves.churned += old
            moves.churned_customers += 1
        elif new > old:
            moves.expansion += new - old
        elif old > new:
            moves.contraction += old - new
    return moves


def arpu(mrr: Fraction, paying_customers: int) -> Fraction | None:
    return mrr / paying_customers if paying_customers else None


def monthly_churn(rate: float, period_days: float) -> float:
    """A churn rate measured over `period_days` as a monthly rate, assuming a constant hazard."""
    if not 0 <= rate <= 1:
        raise InvalidInput(f"churn rate must be between 0 and 1 (got {rate}).")
    return 1 - (1 - rate) ** (DAYS_PER_MONTH / period_days)


def lifetime_value(arpu_monthly: Fraction | float, monthly_churn_rate: float,
                   gross_margin: float = 1.0) -> float | None:
    """LTV = ARPU × gross margin ÷ monthly customer churn; undefined (None) without churn."""
    if monthly_churn_rate <= 0:
        return None
    return float(arpu_monthly) * gross_margin / monthly_churn_rate


def proration(old: PlanChange, new: PlanChange, period_start: datetime, period_end: datetime,
              changed_at: datetime) -> int:
    """What Stripe invoices for a mid-period plan change (proration_behavior=create_prorations): a credit for
    the unused time on the old price plus a charge for the remaining time on the new one, in minor units."""
    if not period_start <= changed_at <= period_end or period_end <= period_start:
        raise InvalidInput("the change must fall inside the billing period.")
    if old.currency != new.currency:
        raise InvalidInput("a subscription cannot change currency mid-period.")
    remaining = Fraction(int((period_end - changed_at).total_seconds()),
                         int((period_end - period_start).total_seconds()))
    unused = Fraction(old.unit_amount * old.quantity) * remaining
    owed = Fraction(new.unit_amount * new.quantity) * remaining
    return round(owed) - round(unused)
