"""MRR and its movements with Stripe's semantics, against hand-computed examples."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from fractions import Fraction

import pytest

from creator_studio.analytics import revenue_metrics as rm
from creator_studio.errors import InvalidInput

pytestmark = pytest.mark.unit

T0 = datetime(2026, 1, 1, tzinfo=UTC)
T1 = datetime(2026, 2, 1, tzinfo=UTC)
USD = rm.ExchangeRates(base="usd", rates={"eur": Decimal("1.10"), "jpy": Decimal("0.0067")}, as_of="2026-01-31")


def plan(at: datetime, amount: int, currency: str = "usd", interval: str = "month", quantity: int = 1
         ) -> rm.PlanChange:
    return rm.PlanChange(at, amount, currency, interval, quantity=quantity)


def sub(sid: str, customer: str, plans: list[rm.PlanChange], **kw: datetime | None) -> rm.SubscriptionHistory:
    return rm.SubscriptionHistory(sid, customer, plans[0].effective_at, plans, **kw)  # type: ignore[arg-type]


def test_monthly_normalisation() -> None:
    assert plan(T0, 12_000, interval="year").monthly() == 1000
    assert plan(T0, 900, quantity=3).monthly() == 2700
    assert plan(T0, 100, interval="week").monthly() == Fraction(100 * 52, 12)
    assert rm.PlanChange(T0, 3000, "usd", "month", interval_count=3).monthly() == 1000  # quarterly
    with pytest.raises(InvalidInput):
        plan(T0, 100, interval="fortnight").monthly()


def test_trials_are_not_mrr_until_paid_and_cancel_at_period_end_counts_until_the_end() -> None:
    trial = sub("s1", "c1", [plan(T0, 2000)], trial_end=T0 + timedelta(days=14))
    assert trial.mrr_at(T0 + timedelta(days=13)) == (0, None)
    assert trial.mrr_at(T0 + timedelta(days=14)) == (2000, "usd")
    # Set to cancel at the period end (Feb 1): still MRR on Jan 31, none from Feb 1.
    ending = sub("s2", "c2", [plan(T0, 2000)], ended_at=T1)
    assert ending.mrr_at(T1 - timedelta(seconds=1)) == (2000, "usd")
    assert ending.mrr_at(T1) == (0, None)


def test_currency_conversion_uses_minor_units_of_each_currency() -> None:
    assert USD.convert(1000, "eur") == 1100  # €10.00 → $11.00
    assert USD.convert(1000, "jpy") == Fraction(670, 1)  # ¥1000 (no minor unit) → $6.70
    with pytest.raises(InvalidInput, match="GBP"):
        USD.convert(100, "gbp")


def test_mrr_movements_by_hand() -> None:
    mid = T0 + timedelta(days=10)
    subs = [
        sub("new", "a", [plan(mid, 1000)]),                                     # new: +1000
        sub("up", "b", [plan(T0 - timedelta(days=40), 1000), plan(mid, 3000)]),  # expansion: +2000
        sub("down", "c", [plan(T0 - timedelta(days=40), 5000), plan(mid, 2000)]),  # contraction: −3000
        sub("gone", "d", [plan(T0 - timedelta(days=40), 1500)], ended_at=mid),  # churned: −1500
        sub("steady", "e", [plan(T0 - timedelta(days=40), 12_000, interval="year")]),  # 1000, unchanged
        sub("eur", "f", [plan(T0 - timedelta(days=40), 1000, currency="eur")]),  # €10 = $11, unchanged
        sub("trial", "g", [plan(mid, 9900)], trial_end=T1 + timedelta(days=3)),  # still in trial: nothing
    ]
    moves = rm.mrr_movements(subs, T0, T1, USD)
    assert (moves.new, moves.expansion, moves.contraction, moves.churned) == (1000, 2000, 3000, 1500)
    assert moves.start_mrr == 1000 + 5000 + 1500 + 1000 + 1100
    assert moves.end_mrr == 1000 + 3000 + 2000 + 1000 + 1100
    assert moves.net_new == -1500 == moves.end_mrr - moves.start_mrr
    assert (moves.customers_at_start, moves.new_customers, moves.churned_customers) == (5, 1, 1)
    assert moves.customer_churn_rate == pytest.approx(1 / 5)
    assert moves.gross_revenue_churn_rate == pytest.approx((1500 + 3000) / 9600)
    assert moves.net_revenue_churn_rate == pytest.approx((1500 + 3000 - 2000) / 9600)


def test_arpu_ltv_and_monthly_churn() -> None:
    assert rm.arpu(Fraction(9000), 3) == 3000 and rm.arpu(Fraction(0), 0) is None
    assert rm.monthly_churn(0.05, 365 / 12) == pytest.approx(0.05)
    # 10 % churn over 60.83 days (two months) is 1 − 0.9^0.5 = 5.13 % a month.
    assert rm.monthly_churn(0.10, 2 * 365 / 12) == pytest.approx(1 - 0.9**0.5)
    assert rm.lifetime_value(3000, 0.05) == pytest.approx(60_000)
    assert rm.lifetime_value(3000, 0.05, gross_margin=0.8) == pytest.approx(48_000)
    assert rm.lifetime_value(3000, 0.0) is None


def test_proration_of_a_mid_period_upgrade() -> None:
    # $10 → $20 a month, changed exactly halfway through a 30-day period: −$5 credit + $10 charge = $5.
    start, end = T0, T0 + timedelta(days=30)
    assert rm.proration(plan(T0, 1000), plan(T0, 2000), start, end, T0 + timedelta(days=15)) == 500
    # A downgrade 10 days before the end: credit 1/3 of $30, charge 1/3 of $15 → −$5.00.
    assert rm.proration(plan(T0, 3000), plan(T0, 1500), start, end, T0 + timedelta(days=20)) == -500
    with pytest.raises(InvalidInput):
        rm.proration(plan(T0, 1000), plan(T0, 2000), start, end, end + timedelta(days=1))
