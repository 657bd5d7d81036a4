"""Revenue Center's rules: the catalogue (products, prices, payment links, discounts), the numbers (MRR, churn,
funnels, attribution, forecasts, churn risk), A/B tests, and email campaigns and sequences.

The headline figures are in the workspace's main currency — the one with the most MRR (or, with no
subscriptions, the most revenue in the period; USD for an empty account) — and each currency is also listed on
its own. Totals across currencies (`total_mrr`, net new MRR, LTV) convert with the analytics rates table.

The statistics live in `creator_studio.analytics` (one concept per module); this service gathers the data
from the payments and email providers and shapes the results.
"""

from __future__ import annotations

import math
import statistics
from collections import defaultdict
from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta
from decimal import Decimal
from fractions import Fraction
from typing import Literal, get_args

from pydantic import BaseModel, Field
from sqlalchemy import select
from sqlalchemy.orm import Session

from creator_studio.analytics import attribution as attribution_rules
from creator_studio.analytics import churn as churn_rules
from creator_studio.analytics import experiments, forecasting, funnels
from creator_studio.analytics import revenue_metrics as rm
from creator_studio.analytics.service import AnalyticsService
from creator_studio.content.service import ContentService
from creator_studio.errors import Conflict, InvalidInput, NotFound
from creator_studio.providers.email.base import Campaign, EmailProvider, EnrolmentBatch, Subscriber
from creator_studio.providers.email.base import Sequence as EmailSequence
from creator_studio.providers.payments.base import (
    Charge,
    Coupon,
    CouponDuration,
    Money,
    PaymentLink,
    PaymentsProvider,
    Price,
    PriceData,
    Product,
    Subscription,
    check_currency,
    to_minor_units,
)
from creator_studio.revenue.models import ABTestRow, ABVariantRow, TouchpointRow
from creator_studio.store.db import Database, new_id
from creator_studio.workspaces.service import Workspace

IntervalArg = Literal["month", "year", "none"]
AttributionModel = Literal["first_touch", "last_touch", "linear", "time_decay"]
ABMetric = Literal["conversion_rate", "click_rate", "open_rate", "signup_rate", "checkout_rate"]
AB_METRICS: tuple[str, ...] = get_args(ABMetric)

# Subscriptions that pay (Stripe counts past_due in MRR until the subscription is canceled; trials do not pay).
BILLING_STATUSES = ("active", "past_due")
# Time-decay attribution: a touch loses half its weight every 7 days before the purchase (GA4's half-life).
TIME_DECAY_HALF_LIFE_DAYS = 7.0
# Touches older than this before a purchase are not credited (GA4's default lookback for conversions).
ATTRIBUTION_LOOKBACK = timedelta(days=90)
# The forecast fits a line through MRR measured every 30 days over this many points.
FORECAST_HISTORY_POINTS = 6
FORECAST_STEP = timedelta(days=30)
# A/B tests: no verdict before each variant has this many exposures; significance at 5 %.
AB_MIN_EXPOSURES = 100
AB_ALPHA = 0.05
# Churn risk: each signal adds points (capped at 100); see `analytics.churn`.
ENGAGEMENT_WINDOW = timedelta(days=90)

FUNNELS: dict[str, list[tuple[str, str]]] = {
    "default": [
        ("post_views", "Post views"),
        ("link_clicks", "Link clicks"),
        ("signups", "Waitlist and email signups"),
        ("checkouts", "Checkouts started"),
        ("purchases", "Purchases"),
    ],
    "email": [
        ("emails_delivered", "Emails delivered"),
        ("emails_opened", "Emails opened"),
        ("emails_clicked", "Email links clicked"),
        ("purchases_after_click", "Purchases after a click"),
    ],
}
FUNNEL_ALIASES = {
    "launch": "default",
    "course": "default",
    "sales": "default",
    "social": "default",
    "newsletter": "email",
}


# Results ------------------------------------------------------------------------------------------------
class ProductWithPrice(BaseModel):
    product: Product
    price: Price
    description: str = Field(description="Like “$29.00/month (USD)”.")


class PaymentLinkResult(BaseModel):
    link: PaymentLink
    product: Product
    price: Price


class DiscountResult(BaseModel):
    coupon: Coupon
    product: Product | None = Field(description="The product the discount is limited to; None for all.")


class CurrencyBreakdown(BaseModel):
    currency: str
    mrr: Money
    arr: Money
    revenue: Money = Field(description="Successful payments in the period.")
    arpu: Money | None = Field(description="MRR per paying subscription.")
    active_subscribers: int


class MrrMovementsView(BaseModel):
    start_mrr: Money
    end_mrr: Money
    new: Money
    expansion: Money
    contraction: Money
    churned: Money
    net_new: Money = Field(description="new + expansion − contraction − churned = end − start.")
    new_customers: int
    churned_customers: int


class RevenueMetrics(BaseModel):
    period_start: datetime
    period_end: datetime
    currency: str = Field(description="The main currency: headline amounts below are in it.")
    mrr: Money
    arr: Money
    revenue: Money
    arpu: Money | None
    active_subscribers: int = Field(
        description="Paying subscriptions (active or past_due) in the main currency and all others."
    )
    trialing_subscribers: int
    new_subscribers: int = Field(description="Subscriptions started in the period (trials included).")
    churned_subscribers: int = Field(description="Paying subscriptions canceled in the period.")
    churn_rate: float | None = Field(description="Churned ÷ paying subscriptions at the start of the period.")
    by_currency: list[CurrencyBreakdown]
    definitions: list[str]
    # Added by issue 9 (analytics); optional so the contract stays the same.
    total_mrr: Money | None = Field(default=None, description="MRR of every currency converted into the main one.")
    movements: MrrMovementsView | None = Field(default=None, description="Net new MRR and its parts in the period.")
    customer_churn_rate: float | None = Field(
        default=None, description="Customers paying at the start and not at the end ÷ customers paying at the start."
    )
    gross_revenue_churn_rate: float | None = Field(default=None, description="(Churned + contraction) ÷ start MRR.")
    net_revenue_churn_rate: float | None = Field(
        default=None, description="(Churned + contraction − expansion) ÷ start MRR; negative is net expansion."
    )
    ltv: Money | None = Field(default=None, description="ARPU ÷ monthly customer churn; None without churn.")
    exchange_rates_as_of: str | None = None


class FunnelStep(BaseModel):
    key: str
    label: str
    count: int
    conversion_from_previous: float | None
    median_hours_from_previous: float | None = Field(
        default=None, description="Median time from the previous step, where per-person times are known."
    )


class Funnel(BaseModel):
    name: str
    period_start: datetime
    period_end: datetime
    steps: list[FunnelStep]
    overall_conversion: float | None
    weakest_step: str | None = Field(
        description="The transition with the lowest conversion, like “Link clicks → Waitlist and email signups”."
    )
    weakest_conversion: float | None


class ChannelCredit(BaseModel):
    channel: str
    conversions: float = Field(description="Purchases credited to the channel (fractions under linear and time_decay).")
    share: float
    revenue: list[Money] = Field(description="Credited revenue per currency, rounded to the minor unit.")


class ModelShares(BaseModel):
    model: str
    shares: dict[str, float]


class Attribution(BaseModel):
    model: AttributionModel
    period_start: datetime
    period_end: datetime
    purchases: int
    channels: list[ChannelCredit]
    method: str
    by_model: list[ModelShares] = Field(
        default_factory=list,
        description="Every model's channel shares side by side, position_based (40/20/40) included.",
    )


class Touchpoint(BaseModel):
    id: str
    customer_id: str
    occurred_at: datetime
    channel: str
    post_id: str | None


class MrrPoint(BaseModel):
    at: datetime
    mrr: Money


class ForecastPoint(BaseModel):
    at: datetime
    mrr: Money
    low: Money
    high: Money


class Forecast(BaseModel):
    currency: str
    history: list[MrrPoint]
    points: list[ForecastPoint]
    monthly_change: Money = Field(description="The fitted trend per 30 days.")
    method: str


class ChurnRisk(BaseModel):
    subscription_id: str
    customer_id: str
    name: str
    email: str
    status: str
    plan: str
    mrr: Money
    score: int = Field(ge=0, le=100)
    reasons: list[str]


class ABVariant(BaseModel):
    name: str
    share: float
    exposures: int
    conversions: int
    rate: float | None
    lift_vs_control: float | None
    p_value: float | None = Field(description="Two-proportion z-test against the control (the first variant).")


class ABTest(BaseModel):
    id: str
    name: str
    metric: str
    status: str
    started_at: datetime
    variants: list[ABVariant]


class ABPlan(BaseModel):
    baseline_rate: float
    minimum_detectable_effect: float = Field(description="Relative lift to detect: 0.2 is +20 %.")
    alpha: float
    power: float
    sample_size_per_variant: int = Field(description="Computed up front; no verdict before it (fixed horizon).")


class SampleRatio(BaseModel):
    chi_square: float
    p_value: float
    mismatch: bool


class ABTestResults(BaseModel):
    test: ABTest
    significant: bool
    winner: str | None
    verdict: str
    plan: ABPlan | None = Field(default=None, description="None: started without a planned sample size.")
    decision: str | None = Field(default=None, description="too_early, continue, winner, control_wins, ...")
    sample_ratio: SampleRatio | None = None
    probability_to_be_best: dict[str, float] = Field(
        default_factory=dict, description="Bayesian: P(variant has the highest rate), Beta(1, 1) priors."
    )
    concluded: bool = Field(default=False, description="The winner was announced (content.optimized event).")


class RevenueService:
    def __init__(
        self,
        db: Database,
        payments: PaymentsProvider,
        email: EmailProvider,
        content: ContentService,
        analytics: AnalyticsService | None = None,
    ) -> None:
        self._db = db
        self._payments = payments
        self._email = email
        self._content = content
        self._analytics = analytics if analytics is not None else AnalyticsService(db)

    # Catalogue ------------------------------------------------------------------------------------
    def create_product(
        self, ws: Workspace, *, name: str, price: Decimal, currency: str, interval: IntervalArg, idempotency_key: str
    ) -> ProductWithPrice:
        """A product and its price in one request; every check runs before anything is written."""
        name = name.strip()
        if not name:
            raise InvalidInput("name is empty: give the product a name, like “Membership”.")
        code = check_currency(currency)
        if interval not in get_args(IntervalArg):
            raise InvalidInput(f"interval {interval!r} is not month, year or none (none = one-time payment).")
        unit_amount = to_minor_units(price, code)
        product = self._payments.create_product(
            ws.id,
            name,
            idempotency_key=idempotency_key,
            default_price=PriceData(
                unit_amount=unit_amount, currency=code, interval=None if interval == "none" else interval
            ),
        )
        assert product.default_price_id is not None
        created_price = self._payments.get_price(ws.id, product.default_price_id)
        return ProductWithPrice(product=product, price=created_price, description=created_price.describe())

    def find_price(self, ws: Workspace, *, product_id: str | None, price_id: str | None) -> tuple[Product, Price]:
        """The price a product id (its default price) or a price id stands for."""
        if bool(product_id) == bool(price_id):
            raise InvalidInput("Give exactly one of product_id or price_id.")
        if price_id:
            price = self._payments.get_price(ws.id, price_id)
            return self._payments.get_product(ws.id, price.product_id), price
        assert product_id is not None
        product = self._payments.get_product(ws.id, product_id)
        if product.default_price_id is None:
            raise Conflict(f"Product {product_id} has no price yet; create one with create_product.")
        return product, self._payments.get_price(ws.id, product.default_price_id)

    def create_payment_link(
        self, ws: Workspace, *, product_id: str | None, price_id: str | None, idempotency_key: str
    ) -> PaymentLinkResult:
        product, price = self.find_price(ws, product_id=product_id, price_id=price_id)
        link = self._payments.create_payment_link(ws.id, price.id, idempotency_key=idempotency_key)
        return PaymentLinkResult(link=link, product=product, price=price)

    def create_discount(
        self,
        ws: Workspace,
        *,
        percent_off: float,
        duration: CouponDuration,
        duration_in_months: int | None,
        product_id: str | None,
        name: str | None,
        idempotency_key: str,
    ) -> DiscountResult:
        if not 0 < percent_off <= 100:
            raise InvalidInput(f"percent_off must be above 0 and at most 100 (got {percent_off}).")
        if duration not in get_args(CouponDuration):
            raise InvalidInput(f"duration {duration!r} is not one of once, repeating, forever.")
        if duration == "repeating" and duration_in_months is None:
            raise InvalidInput("duration_in_months is required when duration is 'repeating' (e.g. 3).")
        if duration != "repeating" and duration_in_months is not None:
            raise InvalidInput("duration_in_months only applies to duration 'repeating'.")
        product = self._payments.get_product(ws.id, product_id) if product_id else None
        coupon = self._payments.create_coupon(
            ws.id,
            percent_off,
            duration,
            idempotency_key=idempotency_key,
            duration_in_months=duration_in_months,
            applies_to_products=[product.id] if product else None,
            name=name,
        )
        return DiscountResult(coupon=coupon, product=product)

    # Metrics --------------------------------------------------------------------------------------
    def metrics(self, ws: Workspace, *, since: datetime, now: datetime) -> RevenueMetrics:
        subscriptions = self._payments.list_subscriptions(ws.id)
        prices = self._prices(ws)
        mrr: dict[str, Fraction] = defaultdict(Fraction)
        paying: dict[str, int] = defaultdict(int)
        for sub in subscriptions:
            if sub.status in BILLING_STATUSES:
                price = prices[sub.price_id]
                mrr[price.currency] += monthly_amount(price)
                paying[price.currency] += 1
        revenue = _charges_total(self._payments.list_charges(ws.id, since=since, until=now))
        main = main_currency(mrr, revenue)
        breakdown = [
            _currency_breakdown(code, mrr.get(code, Fraction(0)), revenue.get(code, 0), paying.get(code, 0))
            for code in sorted(set(mrr) | set(revenue) | {main})
        ]
        headline = next(b for b in breakdown if b.currency == main)
        at_start = sum(1 for s in subscriptions if was_billing(s, since))
        churned = sum(1 for s in subscriptions if churned_between(s, since, now))
        rates = self._analytics.exchange_rates(ws.id, main)
        try:
            histories = [subscription_history(s, prices[s.price_id]) for s in subscriptions]
            moves = rm.mrr_movements(histories, since, now, rates)
            total_mrr: Money | None = Money(amount=round(moves.end_mrr), currency=main)
        except InvalidInput:  # a currency without a rate: the per-currency figures above still stand
            moves, total_mrr = None, None
        ltv = None
        if moves is not None and moves.customer_churn_rate is not None and moves.customers_at_end:
            period_days = max((now - since).total_seconds() / 86_400, 1.0)
            monthly = rm.monthly_churn(moves.customer_churn_rate, period_days)
            value = rm.lifetime_value(moves.end_mrr / moves.customers_at_end, monthly)
            ltv = Money(amount=round(value), currency=main) if value is not None else None
        return RevenueMetrics(
            period_start=since,
            period_end=now,
            currency=main,
            mrr=headline.mrr,
            arr=headline.arr,
            revenue=headline.revenue,
            arpu=headline.arpu,
            active_subscribers=sum(paying.values()),
            trialing_subscribers=sum(1 for s in subscriptions if s.status == "trialing"),
            new_subscribers=sum(1 for s in subscriptions if since <= s.created <= now),
            churned_subscribers=churned,
            churn_rate=round(churned / at_start, 4) if at_start else None,
            by_currency=breakdown,
            definitions=[
                "MRR: active and past_due subscriptions, yearly prices divided by 12; trials excluded.",
                f"Headline amounts are in {main.upper()}, the main currency; other currencies are listed in "
                "by_currency; only total_mrr, movements and ltv convert them (exchange_rates_as_of).",
                "Churn rate: paying subscriptions canceled in the period ÷ paying subscriptions at its start.",
                "ARPU: MRR ÷ paying subscriptions. Revenue: successful payments in the period.",
                "Net new MRR = new + expansion − contraction − churned, per customer between the period's start and "
                "end, all currencies converted into the main one (total_mrr) with the exchange rates table.",
                "LTV: ARPU ÷ monthly customer churn (the period's churn as a monthly rate).",
            ],
            total_mrr=total_mrr,
            movements=_movements_view(moves, main) if moves is not None else None,
            customer_churn_rate=_rounded(moves.customer_churn_rate) if moves else None,
            gross_revenue_churn_rate=_rounded(moves.gross_revenue_churn_rate) if moves else None,
            net_revenue_churn_rate=_rounded(moves.net_revenue_churn_rate) if moves else None,
            ltv=ltv,
            exchange_rates_as_of=rates.as_of if moves is not None else None,
        )

    def mrr_at(self, ws: Workspace, at: datetime) -> dict[str, int]:
        """MRR per currency as it was at a moment, from subscription start, trial and cancellation dates."""
        prices = self._prices(ws)
        totals: dict[str, Fraction] = defaultdict(Fraction)
        for sub in self._payments.list_subscriptions(ws.id):
            if was_billing(sub, at):
                price = prices[sub.price_id]
                totals[price.currency] += monthly_amount(price)
        return {code: round(value) for code, value in totals.items()}

    # Funnels --------------------------------------------------------------------------------------
    def funnel(self, ws: Workspace, *, name: str, since: datetime, now: datetime) -> Funnel:
        key = FUNNEL_ALIASES.get(name.strip().lower(), name.strip().lower())
        if key not in FUNNELS:
            known = ", ".join(sorted({*FUNNELS, *FUNNEL_ALIASES}))
            raise InvalidInput(f"funnel {name!r} is unknown; choose one of: {known}.")
        counts = self._funnel_counts(ws, key, since, now)
        hours = self._email_step_hours(ws, since, now) if key == "email" else {}
        result = funnels.from_counts([(label, counts[step_key]) for step_key, label in FUNNELS[key]])
        steps = [
            FunnelStep(
                key=step_key,
                label=label,
                count=step.count,
                conversion_from_previous=round(step.conversion_from_previous, 4)
                if step.conversion_from_previous is not None
                else None,
                median_hours_from_previous=hours.get(step_key),
            )
            for (step_key, label), step in zip(FUNNELS[key], result.steps, strict=True)
        ]
        weakest = result.weakest_conversion
        return Funnel(
            name=key,
            period_start=since,
            period_end=now,
            steps=steps,
            overall_conversion=round(result.overall_conversion, 6) if result.overall_conversion is not None else None,
            weakest_step=result.weakest_step,
            weakest_conversion=round(weakest, 4) if weakest is not None else None,
        )

    def _email_step_hours(self, ws: Workspace, since: datetime, now: datetime) -> dict[str, float]:
        """Median hours from delivery to open and from open to click, per email (the times are per message)."""
        messages = [m for m in self._email.messages(ws.id, since=since) if m.sent_at <= now]
        to_open = [(m.opened_at - m.sent_at).total_seconds() / 3600 for m in messages if m.opened_at is not None]
        to_click = [
            (m.clicked_at - (m.opened_at or m.sent_at)).total_seconds() / 3600
            for m in messages
            if m.clicked_at is not None
        ]
        out: dict[str, float] = {}
        if to_open:
            out["emails_opened"] = round(statistics.median(to_open), 2)
        if to_click:
            out["emails_clicked"] = round(statistics.median(to_click), 2)
        return out

    def _funnel_counts(self, ws: Workspace, key: str, since: datetime, now: datetime) -> dict[str, int]:
        if key == "default":
            posts = [p for p in self._content.performance(ws, since=since) if p.published_at <= now]
            checkouts = self._payments.list_checkout_sessions(ws.id, since=since, until=now)
            return {
                "post_views": sum(p.impressions for p in posts),
                "link_clicks": sum(p.clicks for p in posts),
                "signups": sum(1 for s in self._email.list_subscribers(ws.id) if since <= s.subscribed_at <= now),
                "checkouts": len(checkouts),
                "purchases": sum(1 for c in checkouts if c.status == "complete"),
            }
        messages = [m for m in self._email.messages(ws.id, since=since) if m.sent_at <= now]
        clicks_by_email: dict[str, datetime] = {}
        for message in messages:
            if message.clicked_at is not None:
                first = clicks_by_email.get(message.to_email)
                clicks_by_email[message.to_email] = min(first, message.clicked_at) if first else message.clicked_at
        customers = {c.id: c.email for c in self._payments.list_customers(ws.id)}
        buyers = {
            customers.get(c.customer_id)
            for c in self._payments.list_charges(ws.id, since=since, until=now)
            if c.is_purchase
            and customers.get(c.customer_id) in clicks_by_email
            and c.created >= clicks_by_email[customers[c.customer_id]]
        }
        return {
            "emails_delivered": len(messages),
            "emails_opened": sum(1 for m in messages if m.opened_at is not None),
            "emails_clicked": sum(1 for m in messages if m.clicked_at is not None),
            "purchases_after_click": len(buyers),
        }

    # Attribution ----------------------------------------------------------------------------------
    def record_touchpoints(
        self, ws: Workspace, touches: Iterable[tuple[str, datetime, str, str | None]]
    ) -> list[Touchpoint]:
        """Store (customer_id, time, channel, post_id) touches; every customer must exist, or nothing is stored."""
        known = {c.id for c in self._payments.list_customers(ws.id)}
        rows = []
        for customer_id, at, channel, post_id in touches:
            if customer_id not in known:
                raise NotFound(f"No customer {customer_id!r} in this workspace.")
            clean = channel.strip().lower()
            if not clean or len(clean) > 32:
                raise InvalidInput(f"channel {channel!r} must be 1 to 32 characters, like 'bluesky' or 'email'.")
            rows.append(
                TouchpointRow(
                    id=new_id("touch"),
                    workspace_id=ws.id,
                    customer_id=customer_id,
                    occurred_at=at,
                    channel=clean,
                    post_id=post_id,
                )
            )
        with self._db.transaction() as session:
            session.add_all(rows)
            session.flush()
            return [_touchpoint(r) for r in rows]

    def touchpoints(self, ws: Workspace, *, customer_ids: Sequence[str] | None = None) -> list[Touchpoint]:
        with self._db.transaction() as session:
            query = select(TouchpointRow).where(TouchpointRow.workspace_id == ws.id)
            if customer_ids is not None:
                query = query.where(TouchpointRow.customer_id.in_(list(customer_ids)))
            return [_touchpoint(r) for r in session.scalars(query.order_by(TouchpointRow.occurred_at))]

    def attribution(self, ws: Workspace, *, model: AttributionModel, since: datetime, now: datetime) -> Attribution:
        if model not in get_args(AttributionModel):
            raise InvalidInput(f"model {model!r} is not one of first_touch, last_touch, linear, time_decay.")
        purchases = [c for c in self._payments.list_charges(ws.id, since=since, until=now) if c.is_purchase]
        touches_by_customer: dict[str, list[Touchpoint]] = defaultdict(list)
        for touch in self.touchpoints(ws, customer_ids=sorted({c.customer_id for c in purchases})):
            touches_by_customer[touch.customer_id].append(touch)
        conversions: dict[str, float] = defaultdict(float)
        revenue: dict[str, dict[str, float]] = defaultdict(lambda: defaultdict(float))
        journeys: list[tuple[list[attribution_rules.Touch], datetime]] = []
        for purchase in purchases:
            touches = [
                t
                for t in touches_by_customer[purchase.customer_id]
                if purchase.created - ATTRIBUTION_LOOKBACK <= t.occurred_at <= purchase.created
            ]
            journey = [attribution_rules.Touch(channel=t.channel, occurred_at=t.occurred_at) for t in touches]
            journeys.append((journey, purchase.created))
            for channel, weight in credit(model, touches, purchase.created):
                conversions[channel] += weight
                revenue[channel][purchase.currency] += weight * purchase.amount
        by_model = [
            ModelShares(
                model=name,
                shares={
                    c: round(v / len(purchases), 4)
                    for c, v in sorted(attribution_rules.totals(name, journeys).items(), key=lambda kv: (-kv[1], kv[0]))
                },
            )
            for name in attribution_rules.ATTRIBUTION_MODELS
        ] if purchases else []
        channels = [
            ChannelCredit(
                channel=channel,
                conversions=round(count, 4),
                share=round(count / len(purchases), 4),
                revenue=[
                    Money(amount=round(amount), currency=code) for code, amount in sorted(revenue[channel].items())
                ],
            )
            for channel, count in conversions.items()
        ]
        channels.sort(key=lambda c: (-c.conversions, c.channel))
        return Attribution(
            model=model,
            period_start=since,
            period_end=now,
            purchases=len(purchases),
            channels=channels,
            method=_ATTRIBUTION_METHOD[model],
            by_model=by_model,
        )

    # Forecast -------------------------------------------------------------------------------------
    def forecast(self, ws: Workspace, *, months: int, now: datetime) -> Forecast:
        if not 1 <= months <= 24:
            raise InvalidInput(f"months must be between 1 and 24 (got {months}).")
        moments = [now - FORECAST_STEP * k for k in range(FORECAST_HISTORY_POINTS - 1, -1, -1)]
        snapshots = [self.mrr_at(ws, at) for at in moments]
        currency = main_currency({c: Fraction(v) for c, v in snapshots[-1].items()}, {})
        values = [float(s.get(currency, 0)) for s in snapshots]
        fitted = forecasting.forecast(values, months)
        points = [
            ForecastPoint(
                at=now + FORECAST_STEP * ahead,
                mrr=Money(amount=round(centre), currency=currency),
                low=Money(amount=min(round(low), round(centre)), currency=currency),
                high=Money(amount=max(round(high), round(centre)), currency=currency),
            )
            for ahead, centre, low, high in zip(
                range(1, months + 1), fitted.mean, fitted.low, fitted.high, strict=True
            )
        ]
        return Forecast(
            currency=currency,
            history=[
                MrrPoint(at=at, mrr=Money(amount=round(v), currency=currency))
                for at, v in zip(moments, values, strict=True)
            ],
            points=points,
            monthly_change=Money(amount=round(fitted.trend_per_step), currency=currency),
            method=(
                f"MRR measured every 30 days over the last {FORECAST_HISTORY_POINTS} points, forecast "
                f"{months} step(s) ahead. {fitted.method} Only {currency.upper()} MRR is forecast."
            ),
        )

    # Churn risk -----------------------------------------------------------------------------------
    def churn_risk(self, ws: Workspace, *, limit: int, now: datetime) -> list[ChurnRisk]:
        if not 1 <= limit <= 200:
            raise InvalidInput(f"limit must be between 1 and 200 (got {limit}).")
        prices = self._prices(ws)
        customers = {c.id: c for c in self._payments.list_customers(ws.id)}
        subscribers = {s.email: s for s in self._email.list_subscribers(ws.id)}
        received: dict[str, int] = defaultdict(int)
        opened: dict[str, int] = defaultdict(int)
        for message in self._email.messages(ws.id, since=now - ENGAGEMENT_WINDOW):
            received[message.subscriber_id] += 1
            opened[message.subscriber_id] += message.opened_at is not None
        risks = []
        for sub in self._payments.list_subscriptions(ws.id):
            if sub.status == "canceled":
                continue
            customer = customers[sub.customer_id]
            subscriber = subscribers.get(customer.email)
            engagement = (received[subscriber.id], opened[subscriber.id]) if subscriber else None
            signals = risk_signals(sub, engagement, now)
            if not signals:
                continue
            price = prices[sub.price_id]
            risks.append(
                ChurnRisk(
                    subscription_id=sub.id,
                    customer_id=customer.id,
                    name=customer.name,
                    email=customer.email,
                    status=sub.status,
                    plan=price.describe(),
                    mrr=Money(amount=round(monthly_amount(price)), currency=price.currency),
                    score=churn_rules.risk_score(signals),
                    reasons=[reason for _, reason in signals],
                )
            )
        risks.sort(key=lambda r: (-r.score, -r.mrr.amount, r.subscription_id))
        return risks[:limit]

    # A/B tests ------------------------------------------------------------------------------------
    def start_ab_test(
        self,
        ws: Workspace,
        *,
        name: str,
        variants: list[str],
        metric: str,
        split: list[float] | None,
        idempotency_key: str,
        now: datetime,
        baseline_rate: float | None = None,
        minimum_detectable_effect: float | None = None,
        alpha: float = experiments.DEFAULT_ALPHA,
        power: float = experiments.DEFAULT_POWER,
    ) -> ABTest:
        """Start a test. With a baseline rate and a minimum detectable effect, the sample size per variant is
        computed now (Bonferroni-corrected for several treatments) and no verdict is given before it is reached."""
        name = name.strip()
        names = [v.strip() for v in variants]
        if not name:
            raise InvalidInput("name is empty: name the test, like “Course page headline”.")
        if len(names) < 2 or not all(names):
            raise InvalidInput("variants: give at least two non-empty variant names, like ['A', 'B'].")
        if len({n.lower() for n in names}) != len(names):
            raise InvalidInput(f"variants must have different names (got {names}).")
        if metric not in AB_METRICS:
            raise InvalidInput(f"metric {metric!r} is not one of {', '.join(AB_METRICS)}.")
        shares = split if split is not None else [1 / len(names)] * len(names)
        if len(shares) != len(names):
            raise InvalidInput(f"split has {len(shares)} shares for {len(names)} variants; give one per variant.")
        if any(s <= 0 for s in shares) or not math.isclose(sum(shares), 1.0, abs_tol=1e-6):
            raise InvalidInput(f"split shares must be positive and sum to 1 (got {shares}).")
        plan = _plan(baseline_rate, minimum_detectable_effect, alpha, power, treatments=len(names) - 1)
        test = self._insert_ab_test(ws, name, names, metric, shares, idempotency_key, now)
        if plan is not None:
            self._analytics.save_plan(ws.id, test.id, plan)
        return test

    def _insert_ab_test(
        self, ws: Workspace, name: str, names: list[str], metric: str, shares: list[float], idempotency_key: str,
        now: datetime,
    ) -> ABTest:
        with self._db.transaction() as session:
            existing = session.scalar(
                select(ABTestRow).where(ABTestRow.workspace_id == ws.id, ABTestRow.idempotency_key == idempotency_key)
            )
            if existing is not None:
                return _ab_test(existing, self._variant_rows(session, existing.id))
            clash = next(
                (
                    t
                    for t in session.scalars(
                        select(ABTestRow).where(ABTestRow.workspace_id == ws.id, ABTestRow.status == "running")
                    )
                    if t.name.lower() == name.lower()
                ),
                None,
            )
            if clash is not None:
                raise Conflict(f"A running A/B test is already called “{name}” ({clash.id}); pick another name.")
            row = ABTestRow(
                id=new_id("ab"),
                workspace_id=ws.id,
                name=name,
                metric=metric,
                status="running",
                started_at=now,
                idempotency_key=idempotency_key,
            )
            variant_rows = [
                ABVariantRow(
                    workspace_id=ws.id, test_id=row.id, position=i, name=n, share=s, exposures=0, conversions=0
                )
                for i, (n, s) in enumerate(zip(names, shares, strict=True))
            ]
            session.add(row)
            session.add_all(variant_rows)
            session.flush()
            return _ab_test(row, variant_rows)

    def ab_tests(self, ws: Workspace) -> list[ABTest]:
        with self._db.transaction() as session:
            rows = session.scalars(
                select(ABTestRow).where(ABTestRow.workspace_id == ws.id).order_by(ABTestRow.started_at)
            ).all()
            return [_ab_test(row, self._variant_rows(session, row.id)) for row in rows]

    def get_ab_test(self, ws: Workspace, test_id: str) -> ABTest:
        with self._db.transaction() as session:
            row = self._test_row(session, ws, test_id)
            return _ab_test(row, self._variant_rows(session, row.id))

    def ab_test_results(self, ws: Workspace, test_id: str, *, now: datetime | None = None) -> ABTestResults:
        """The test's numbers, its sample-ratio check and Bayesian probabilities, and a verdict. A planned test
        follows the fixed-horizon stopping rule and, once decided, announces its winner (once)."""
        test = self.get_ab_test(ws, test_id)
        exposures = [v.exposures for v in test.variants]
        sample_ratio = None
        if sum(exposures):
            check = experiments.sample_ratio_check(exposures, [v.share for v in test.variants])
            sample_ratio = SampleRatio(
                chi_square=round(check.chi_square, 4), p_value=round(check.p_value, 6), mismatch=check.mismatch
            )
        best = (
            dict(
                zip(
                    (v.name for v in test.variants),
                    (round(p, 4) for p in experiments.probability_to_beat_monte_carlo(
                        [v.conversions for v in test.variants], exposures
                    )),
                    strict=True,
                )
            )
            if all(exposures)
            else {}
        )
        stored = self._analytics.plan(ws.id, test.id)
        if stored is None:
            result = _unplanned_verdict(test)
            if sample_ratio is not None and sample_ratio.mismatch and result.significant:
                result.verdict += (
                    f" Caution: the traffic split does not match the plan (sample-ratio mismatch, "
                    f"p={sample_ratio.p_value:.2g}); check the assignment before acting on it."
                )
            return result.model_copy(update={"sample_ratio": sample_ratio, "probability_to_be_best": best})
        plan, concluded_at, announced = stored
        result = _planned_verdict(test, plan, sample_ratio)
        result = result.model_copy(update={"probability_to_be_best": best, "concluded": concluded_at is not None})
        if concluded_at is not None and announced is not None:  # a concluded test keeps the winner it announced
            return result.model_copy(update={
                "winner": announced,
                "significant": True,
                "verdict": f"Concluded on {concluded_at.date().isoformat()}: “{announced}” won on {test.metric}.",
            })
        if result.winner is not None and concluded_at is None:
            detail = {
                "decision": result.decision,
                "probability_to_be_best": best.get(result.winner),
                "p_value": next((v.p_value for v in test.variants if v.name == result.winner), None),
            }
            announced_now = self._analytics.conclude(
                ws.id, test.id, test_name=test.name, metric=test.metric, winner=result.winner, detail=detail,
                now=now or datetime.now(test.started_at.tzinfo),
            )
            result = result.model_copy(update={"concluded": announced_now})
        return result

    def ab_test_plan(self, ws: Workspace, test_id: str) -> ABPlan | None:
        stored = self._analytics.plan(ws.id, test_id)
        if stored is None:
            return None
        plan = stored[0]
        return ABPlan(
            baseline_rate=plan.baseline_rate,
            minimum_detectable_effect=plan.minimum_detectable_effect,
            alpha=plan.alpha,
            power=plan.power,
            sample_size_per_variant=plan.sample_size_per_variant,
        )

    def on_experiment_concluded(self, event: object) -> None:
        """Revenue acts on an announced winner: the test stops taking new traffic decisions (status concluded)."""
        data = getattr(event, "data", {}) or {}
        test_id = data.get("experiment_id")
        if not test_id:
            return
        with self._db.transaction() as session:
            row = session.get(ABTestRow, str(test_id))
            if row is not None and row.workspace_id == getattr(event, "workspace_id", None):
                row.status = "concluded"

    def record_ab_results(
        self, ws: Workspace, test_id: str, variant: str, *, exposures: int, conversions: int
    ) -> ABTest:
        """Add observed exposures and conversions for one variant (the tracking pixel's or the simulator's)."""
        if exposures < 0 or conversions < 0:
            raise InvalidInput("exposures and conversions cannot be negative.")
        with self._db.transaction() as session:
            row = self._test_row(session, ws, test_id)
            variants = self._variant_rows(session, row.id)
            target = next((v for v in variants if v.name.lower() == variant.strip().lower()), None)
            if target is None:
                raise NotFound(
                    f"Test {test_id} has no variant {variant!r}; its variants are "
                    f"{', '.join(v.name for v in variants)}."
                )
            if target.conversions + conversions > target.exposures + exposures:
                raise InvalidInput("A variant cannot have more conversions than exposures.")
            target.exposures += exposures
            target.conversions += conversions
            session.flush()
            return _ab_test(row, variants)

    def assign_variant(self, ws: Workspace, test_id: str, visitor_id: str) -> str:
        """The variant a visitor sees: sha256 of (test, visitor) placed on the split, so it never changes."""
        test = self.get_ab_test(ws, test_id)
        names, shares = [v.name for v in test.variants], [v.share for v in test.variants]
        return experiments.assign(test.id, visitor_id, names, shares)

    # Email ----------------------------------------------------------------------------------------
    def segment_recipients(self, ws: Workspace, segment: str) -> list[Subscriber]:
        """Subscribed members of a segment (a tag, or 'all'); an empty segment is a clear error."""
        members = self._email.segment_members(ws.id, segment)
        if not members:
            known = ", ".join(f"{s.name} ({s.subscribed})" for s in self._email.segments(ws.id)) or "none yet"
            raise InvalidInput(
                f"The segment {segment!r} has no subscribed members; segments with subscribers: {known}, or 'all'."
            )
        return members

    def email_sequence(self, ws: Workspace, name_or_id: str) -> EmailSequence:
        return self._email.get_sequence(ws.id, name_or_id)

    def start_email_sequence(
        self,
        ws: Workspace,
        *,
        sequence: str,
        segment: str | None,
        subscriber_ids: list[str] | None,
        idempotency_key: str,
    ) -> EnrolmentBatch:
        if bool(segment) == bool(subscriber_ids):
            raise InvalidInput("Give exactly one of segment or subscriber_ids.")
        found = self._email.get_sequence(ws.id, sequence)
        if segment:
            ids = [s.id for s in self.segment_recipients(ws, segment)]
        else:
            members = [self._email.get_subscriber(ws.id, s) for s in dict.fromkeys(subscriber_ids or [])]
            if not any(m.status == "subscribed" for m in members):
                raise InvalidInput("None of those subscribers can receive email (unsubscribed or bounced).")
            ids = [m.id for m in members]
        return self._email.enrol(ws.id, found.id, ids, idempotency_key=idempotency_key)

    def campaign_content(
        self, ws: Workspace, *, draft_id: str | None, subject: str | None, body: str | None
    ) -> tuple[str, str]:
        """The subject and body to send: from a newsletter draft (through Content Studio) or given directly."""
        if draft_id and (subject or body):
            raise InvalidInput("Give draft_id or subject and body, not both.")
        if draft_id:
            draft = self._content.get_draft(ws, draft_id)
            if draft.kind != "newsletter" and draft.platform != "email":
                raise InvalidInput(
                    f"Draft {draft_id} is a {draft.platform} post, not a newsletter; draft one with draft_newsletter."
                )
            subject = draft.title or draft.topic
            body = draft.text
        if not subject or not subject.strip() or not body or not body.strip():
            raise InvalidInput("A campaign needs a subject and a body (or the draft_id of a newsletter draft).")
        return subject.strip(), body

    def send_email_campaign(
        self,
        ws: Workspace,
        *,
        draft_id: str | None,
        subject: str | None,
        body: str | None,
        segment: str,
        send_at: datetime | None,
        now: datetime,
        idempotency_key: str,
    ) -> Campaign:
        subject, body = self.campaign_content(ws, draft_id=draft_id, subject=subject, body=body)
        if send_at is not None and send_at <= now:
            raise InvalidInput(
                f"send_at {send_at.isoformat()} is in the past; choose a later time or leave it out to send now."
            )
        self.segment_recipients(ws, segment)
        return self._email.create_campaign(
            ws.id, subject, body, segment.strip().lower(), send_at=send_at, idempotency_key=idempotency_key
        )

    # Lookups --------------------------------------------------------------------------------------
    def _prices(self, ws: Workspace) -> dict[str, Price]:
        return {p.id: p for p in self._payments.list_prices(ws.id)}

    @staticmethod
    def _test_row(session: Session, ws: Workspace, test_id: str) -> ABTestRow:
        row = session.get(ABTestRow, test_id.strip())
        if row is None or row.workspace_id != ws.id:
            raise NotFound(f"No A/B test {test_id!r} in this workspace; start_ab_test returns the id.")
        return row

    @staticmethod
    def _variant_rows(session: Session, test_id: str) -> list[ABVariantRow]:
        return list(
            session.scalars(select(ABVariantRow).where(ABVariantRow.test_id == test_id).order_by(ABVariantRow.position))
        )


# Pure rules (tested through the tools; no I/O) ----------------------------------------------------------
def monthly_amount(price: Price) -> Fraction:
    """A recurring price's monthly value in minor units: yearly ÷ 12; one-time prices have none."""
    if price.interval == "month":
        return Fraction(price.unit_amount)
    if price.interval == "year":
        return Fraction(price.unit_amount, 12)
    return Fraction(0)


def was_billing(sub: Subscription, at: datetime) -> bool:
    """Whether a subscription was paying at a moment: started, out of its trial, not yet canceled."""
    if sub.created > at or (sub.canceled_at is not None and sub.canceled_at <= at):
        return False
    if sub.trial_end is not None:
        return sub.trial_end <= at
    return sub.status != "trialing"


def churned_between(sub: Subscription, start: datetime, end: datetime) -> bool:
    """Canceled in [start, end] after having paid (a canceled trial is not churn)."""
    if sub.canceled_at is None or not start <= sub.canceled_at <= end:
        return False
    return sub.trial_end is None or sub.canceled_at >= sub.trial_end


def main_currency(mrr: dict[str, Fraction], revenue: dict[str, int]) -> str:
    for totals in (mrr, revenue):
        positive = {code: value for code, value in totals.items() if value > 0}
        if positive:
            return min(positive, key=lambda code: (-positive[code], code))
    return "usd"


def credit(model: AttributionModel, touches: list[Touchpoint], purchased_at: datetime) -> list[tuple[str, float]]:
    """How one purchase is shared among the touches before it; no touches means it was direct."""
    journey = [attribution_rules.Touch(channel=t.channel, occurred_at=t.occurred_at) for t in touches]
    return attribution_rules.credit(model, journey, purchased_at, half_life_days=TIME_DECAY_HALF_LIFE_DAYS)


def risk_signals(sub: Subscription, engagement: tuple[int, int] | None, now: datetime) -> list[tuple[int, str]]:
    """Points and a reason per churn signal. engagement: (emails received, opened) in the last 90 days."""
    return churn_rules.risk_signals(
        churn_rules.ChurnFacts(
            status=sub.status,
            cancel_at_period_end=sub.cancel_at_period_end,
            started_at=sub.created,
            emails_received=engagement[0] if engagement else None,
            emails_opened=engagement[1] if engagement else None,
        ),
        now,
    )


def subscription_history(sub: Subscription, price: Price) -> rm.SubscriptionHistory:
    """A provider subscription as analytics sees it: one plan (the provider keeps no plan history), its trial,
    and the moment billing stopped. A trial without an end date has not been paid yet."""
    far_future = datetime.max.replace(tzinfo=sub.created.tzinfo)
    trial_end = sub.trial_end or (far_future if sub.status == "trialing" else None)
    plans = (
        [rm.PlanChange(sub.created, price.unit_amount, price.currency, price.interval)]
        if price.interval is not None
        else []
    )
    ended = sub.canceled_at if sub.canceled_at is not None else (sub.created if sub.status == "canceled" else None)
    return rm.SubscriptionHistory(sub.id, sub.customer_id, sub.created, plans, trial_end=trial_end, ended_at=ended)


def _movements_view(moves: rm.MrrMovements, currency: str) -> MrrMovementsView:
    def money(value: Fraction) -> Money:
        return Money(amount=round(value), currency=currency)

    return MrrMovementsView(
        start_mrr=money(moves.start_mrr),
        end_mrr=money(moves.end_mrr),
        new=money(moves.new),
        expansion=money(moves.expansion),
        contraction=money(moves.contraction),
        churned=money(moves.churned),
        net_new=money(moves.net_new),
        new_customers=moves.new_customers,
        churned_customers=moves.churned_customers,
    )


def _rounded(value: float | None) -> float | None:
    return round(value, 4) if value is not None else None


def _currency_breakdown(code: str, mrr: Fraction, revenue: int, paying: int) -> CurrencyBreakdown:
    return CurrencyBreakdown(
        currency=code,
        mrr=Money(amount=round(mrr), currency=code),
        arr=Money(amount=round(mrr * 12), currency=code),
        revenue=Money(amount=revenue, currency=code),
        arpu=Money(amount=round(mrr / paying), currency=code) if paying else None,
        active_subscribers=paying,
    )


def _two_proportion_p_value(conv_a: int, n_a: int, conv_b: int, n_b: int) -> float | None:
    if not n_a or not n_b:
        return None
    _, p = experiments.two_proportion_z(conv_a, n_a, conv_b, n_b)
    value = float(p)
    return None if math.isnan(value) else value


def _plan(
    baseline_rate: float | None, mde: float | None, alpha: float, power: float, *, treatments: int
) -> experiments.ExperimentPlan | None:
    """The fixed-horizon plan, checked before anything is written; alpha is split over the treatments."""
    if baseline_rate is None and mde is None:
        return None
    if baseline_rate is None or mde is None:
        raise InvalidInput(
            "Give both baseline_rate and minimum_detectable_effect to plan the sample size (or neither)."
        )
    plan = experiments.ExperimentPlan(baseline_rate, mde, alpha / max(treatments, 1), power)
    plan.sample_size_per_variant  # noqa: B018 - raises a clear InvalidInput for an impossible plan
    return plan


def _unplanned_verdict(test: ABTest) -> ABTestResults:
    """A test started without a planned sample size: a minimum of exposures, then the z-test at 5 %."""
    control, others = test.variants[0], test.variants[1:]
    if min(v.exposures for v in test.variants) < AB_MIN_EXPOSURES:
        return ABTestResults(
            test=test,
            significant=False,
            winner=None,
            verdict=f"Too early: every variant needs at least {AB_MIN_EXPOSURES} exposures "
            f"before the results mean anything.",
            decision="too_early",
        )
    better = [
        v for v in others if v.p_value is not None and v.p_value < AB_ALPHA and (v.rate or 0) > (control.rate or 0)
    ]
    if better:
        best = max(better, key=lambda v: v.rate or 0)
        return ABTestResults(
            test=test,
            significant=True,
            winner=best.name,
            verdict=f"“{best.name}” beats the control “{control.name}” on {test.metric} "
            f"({best.rate:.1%} vs {control.rate:.1%}, p={best.p_value:.3f}).",
            decision="winner",
        )
    worse = [v for v in others if v.p_value is not None and v.p_value < AB_ALPHA]
    if others and len(worse) == len(others):
        return ABTestResults(
            test=test,
            significant=True,
            winner=control.name,
            verdict=f"The control “{control.name}” beats every variant on {test.metric}.",
            decision="control_wins",
        )
    return ABTestResults(
        test=test,
        significant=False,
        winner=None,
        verdict="No significant difference yet (p ≥ 0.05): keep the test running or call it a tie. "
        "(No sample size was planned: start tests with baseline_rate and minimum_detectable_effect for a "
        "fixed-horizon decision.)",
        decision="no_difference",
    )


def _planned_verdict(test: ABTest, plan: experiments.ExperimentPlan, sample_ratio: SampleRatio | None) -> ABTestResults:
    control, others = test.variants[0], test.variants[1:]
    shown = ABPlan(
        baseline_rate=plan.baseline_rate,
        minimum_detectable_effect=plan.minimum_detectable_effect,
        alpha=plan.alpha,
        power=plan.power,
        sample_size_per_variant=plan.sample_size_per_variant,
    )
    if sample_ratio is not None and sample_ratio.mismatch:
        return ABTestResults(
            test=test,
            significant=False,
            winner=None,
            verdict=f"Not trustworthy: the exposures do not match the planned split (sample-ratio mismatch, "
            f"p={sample_ratio.p_value:.2g}). Fix the assignment or logging and restart the test.",
            plan=shown,
            decision="sample_ratio_mismatch",
            sample_ratio=sample_ratio,
        )
    # The treatment with the smallest p-value is the one the decision is about.
    candidates = [v for v in others if v.p_value is not None]
    leader = min(candidates, key=lambda v: (v.p_value or 1.0, -(v.rate or 0))) if candidates else others[0]
    better = (leader.rate or 0) > (control.rate or 0)
    decision = experiments.stopping_decision(plan, [v.exposures for v in test.variants], leader.p_value, better)
    winner = None
    if decision.decision in ("winner", "stop_early") and better:
        winner = leader.name
    elif decision.decision in ("control_wins", "stop_early") and not better:
        winner = control.name
    if winner is not None:
        verdict = (
            f"“{winner}” wins on {test.metric} ({decision.reason}); "
            f"{leader.name} {leader.rate or 0:.1%} vs control {control.rate or 0:.1%}."
        )
    else:
        verdict = decision.reason[0].upper() + decision.reason[1:] + "."
    return ABTestResults(
        test=test,
        significant=winner is not None,
        winner=winner,
        verdict=verdict,
        plan=shown,
        decision=decision.decision,
        sample_ratio=sample_ratio,
    )


def _ab_test(row: ABTestRow, variants: list[ABVariantRow]) -> ABTest:
    control = variants[0]
    control_rate = control.conversions / control.exposures if control.exposures else None
    shown = []
    for variant in variants:
        rate = variant.conversions / variant.exposures if variant.exposures else None
        is_control = variant is control
        lift = (rate - control_rate) / control_rate if rate is not None and control_rate and not is_control else None
        p_value = (
            None
            if is_control
            else _two_proportion_p_value(control.conversions, control.exposures, variant.conversions, variant.exposures)
        )
        shown.append(
            ABVariant(
                name=variant.name,
                share=variant.share,
                exposures=variant.exposures,
                conversions=variant.conversions,
                rate=round(rate, 4) if rate is not None else None,
                lift_vs_control=round(lift, 4) if lift is not None else None,
                p_value=round(p_value, 4) if p_value is not None else None,
            )
        )
    return ABTest(
        id=row.id, name=row.name, metric=row.metric, status=row.status, started_at=row.started_at, variants=shown
    )


def _touchpoint(row: TouchpointRow) -> Touchpoint:
    return Touchpoint.model_validate(row, from_attributes=True)


def _charges_total(charges: Iterable[Charge]) -> dict[str, int]:
    totals: dict[str, int] = defaultdict(int)
    for charge in charges:
        if charge.status == "succeeded":
            totals[charge.currency] += charge.amount
    return totals


_ATTRIBUTION_METHOD = {
    "first_touch": "Each purchase is credited to the customer's first touch in the 90 days before it.",
    "last_touch": "Each purchase is credited to the customer's last touch before it.",
    "linear": "Each purchase is shared equally among the customer's touches in the 90 days before it.",
    "time_decay": "Each purchase is shared among the touches in the 90 days before it, a touch's weight halving "
    "for every 7 days between it and the purchase.",
}
