"""Revenue Center tools (tools.md § revenue). Thin: validate, call the revenue service, shape the result."""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated, Any, Literal

from pydantic import BeforeValidator, Field, field_validator, model_validator

from creator_studio.analytics.experiments import DEFAULT_POWER
from creator_studio.providers.email.base import Campaign, EnrolmentBatch
from creator_studio.providers.payments.base import (
    CURRENCY_DECIMALS,
    Coupon,
    PaymentLink,
    Price,
    Product,
    to_minor_units,
)
from creator_studio.revenue.service import (
    AB_METRICS,
    ABMetric,
    ABPlan,
    ABTest,
    ABTestResults,
    Attribution,
    AttributionModel,
    ChurnRisk,
    Forecast,
    Funnel,
    IntervalArg,
    RevenueMetrics,
)
from creator_studio.tools.base import ToolArgs, ToolContext, ToolResult, tool
from creator_studio.tools.types import FutureDatetime, Period

_INTERVAL_ALIASES = {
    "monthly": "month",
    "mo": "month",
    "yearly": "year",
    "annual": "year",
    "annually": "year",
    "one-time": "none",
    "one_time": "none",
    "onetime": "none",
    "once": "none",
    "lifetime": "none",
}
_METRIC_ALIASES = {
    "conversion": "conversion_rate",
    "conversions": "conversion_rate",
    "purchase_rate": "conversion_rate",
    "purchases": "conversion_rate",
    "sales": "conversion_rate",
    "clicks": "click_rate",
    "ctr": "click_rate",
    "opens": "open_rate",
    "signups": "signup_rate",
    "checkouts": "checkout_rate",
}


def _lower(aliases: dict[str, str]) -> BeforeValidator:
    """Accept the words people use ("monthly", "CTR") for the names the tool expects."""

    def normalise(value: Any) -> Any:
        if isinstance(value, str):
            lowered = value.strip().lower()
            return aliases.get(lowered, lowered)
        return value

    return BeforeValidator(normalise)


IntervalInput = Annotated[IntervalArg, _lower(_INTERVAL_ALIASES)]
MetricInput = Annotated[ABMetric, _lower(_METRIC_ALIASES)]
ModelInput = Annotated[
    AttributionModel,
    _lower(
        {
            "first": "first_touch",
            "last": "last_touch",
            "first-touch": "first_touch",
            "last-touch": "last_touch",
            "time-decay": "time_decay",
        }
    ),
]


# Reads ----------------------------------------------------------------------------------------------
class MetricsArgs(ToolArgs):
    period: Period | None = Field(default=None, description="Like 7d, 30d, 90d, mtd, ytd (default 30d).")


class MetricsResult(ToolResult):
    metrics: RevenueMetrics


@tool("revenue")
def get_revenue_metrics(ctx: ToolContext, args: MetricsArgs) -> MetricsResult:
    """MRR, ARR, paying subscribers, new and churned subscribers, churn rate, revenue and ARPU for a period.
    Amounts are in the main currency (the one with most MRR); other currencies are listed separately."""
    period = args.period or "30d"
    metrics = ctx.studio.revenue.metrics(ctx.workspace, since=ctx.period_start(period), now=ctx.now)
    churn = f"{metrics.churn_rate:.1%}" if metrics.churn_rate is not None else "n/a"
    return MetricsResult(
        summary=f"MRR {metrics.mrr.formatted} from {metrics.active_subscribers} paying "
        f"subscribers; {period}: revenue {metrics.revenue.formatted}, "
        f"{metrics.new_subscribers} new, {metrics.churned_subscribers} churned "
        f"(churn {churn}).",
        metrics=metrics,
    )


class FunnelArgs(ToolArgs):
    funnel: str = Field(
        default="default",
        max_length=50,
        description="default (post views → link clicks → signups → checkouts → purchases) or "
        "email (delivered → opened → clicked → purchases).",
    )
    period: Period | None = Field(default=None, description="Default 30d.")


class FunnelResult(ToolResult):
    funnel: Funnel


@tool("revenue")
def analyze_funnel(ctx: ToolContext, args: FunnelArgs) -> FunnelResult:
    """Count each step of a funnel over a period, the conversion between steps and the weakest step."""
    funnel = ctx.studio.revenue.funnel(
        ctx.workspace, name=args.funnel, since=ctx.period_start(args.period or "30d"), now=ctx.now
    )
    steps = " → ".join(f"{s.label} {s.count:,}" for s in funnel.steps)
    weakest = (
        f" Weakest step: {funnel.weakest_step} ({funnel.weakest_conversion:.1%})."
        if funnel.weakest_step is not None and funnel.weakest_conversion is not None
        else ""
    )
    return FunnelResult(summary=f"{steps}.{weakest}", funnel=funnel)


class AttributionArgs(ToolArgs):
    period: Period | None = Field(default=None, description="Purchases in this period (default 30d).")
    model: ModelInput = Field(
        default="last_touch", description="first_touch, last_touch, linear or time_decay (7-day half-life)."
    )


class AttributionResult(ToolResult):
    attribution: Attribution


@tool("revenue")
def get_attribution(ctx: ToolContext, args: AttributionArgs) -> AttributionResult:
    """Which channels (platforms, email) the purchases of a period came from, under an attribution model."""
    attribution = ctx.studio.revenue.attribution(
        ctx.workspace, model=args.model, since=ctx.period_start(args.period or "30d"), now=ctx.now
    )
    if not attribution.purchases:
        return AttributionResult(summary="No purchases in that period to attribute.", attribution=attribution)
    top = ", ".join(f"{c.channel} {c.share:.0%}" for c in attribution.channels[:3])
    return AttributionResult(
        summary=f"{attribution.purchases} purchases by {args.model.replace('_', ' ')}: {top}.", attribution=attribution
    )


class ForecastArgs(ToolArgs):
    months: int = Field(default=3, ge=1, le=24)


class ForecastResult(ToolResult):
    forecast: Forecast


@tool("revenue")
def forecast_revenue(ctx: ToolContext, args: ForecastArgs) -> ForecastResult:
    """Forecast MRR for the next months from the trend of the last six, with a plain low–high range."""
    forecast = ctx.studio.revenue.forecast(ctx.workspace, months=args.months, now=ctx.now)
    last = forecast.points[-1]
    return ForecastResult(
        summary=f"MRR in {args.months} month(s): about {last.mrr.formatted} "
        f"(range {last.low.formatted}–{last.high.formatted}); trend "
        f"{forecast.monthly_change.formatted} a month.",
        forecast=forecast,
    )


class ChurnRiskArgs(ToolArgs):
    limit: int = Field(default=10, ge=1, le=200)


class ChurnRiskResult(ToolResult):
    at_risk: list[ChurnRisk]


@tool("revenue")
def detect_churn_risk(ctx: ToolContext, args: ChurnRiskArgs) -> ChurnRiskResult:
    """Subscribers most likely to cancel, highest score first, with the reasons behind each score (failed
    payment, set to cancel, not opening emails, new member)."""
    at_risk = ctx.studio.revenue.churn_risk(ctx.workspace, limit=args.limit, now=ctx.now)
    if not at_risk:
        return ChurnRiskResult(summary="No subscriber shows a churn signal.", at_risk=[])
    top = at_risk[0]
    return ChurnRiskResult(
        summary=f"The {len(at_risk)} subscribers most at risk; highest: {top.name} "
        f"(score {top.score}: {top.reasons[0]}).",
        at_risk=at_risk,
    )


class ABResultsArgs(ToolArgs):
    test_id: str = Field(min_length=1, max_length=64)


class ABResultsResult(ToolResult):
    results: ABTestResults


@tool("revenue")
def get_ab_test_results(ctx: ToolContext, args: ABResultsArgs) -> ABResultsResult:
    """Exposures, conversions and rates per variant of an A/B test, with significance and the winner, a
    sample-ratio-mismatch check and each variant's Bayesian probability to be best. A test started with a
    planned sample size gets no verdict before it is reached (no peeking)."""
    results = ctx.studio.revenue.ab_test_results(ctx.workspace, args.test_id, now=ctx.now)
    return ABResultsResult(summary=f"“{results.test.name}”: {results.verdict}", results=results)


# Side effects ---------------------------------------------------------------------------------------
class StartABTestArgs(ToolArgs):
    name: str = Field(min_length=1, max_length=200)
    variants: list[Annotated[str, Field(min_length=1, max_length=200)]] = Field(
        min_length=2, max_length=10, description="At least two variant names; the first is the control."
    )
    metric: MetricInput = Field(description=f"One of {', '.join(AB_METRICS)}.")
    split: list[float] | None = Field(default=None, description="Traffic shares summing to 1; default equal.")
    baseline_rate: float | None = Field(
        default=None, gt=0, lt=1, description="The control's expected rate (0.04 = 4 %), to plan the sample size."
    )
    minimum_detectable_effect: float | None = Field(
        default=None, gt=0, le=10, description="The smallest relative lift worth detecting: 0.2 = +20 %."
    )
    power: float | None = Field(default=None, gt=0.5, lt=1, description="Chance to detect that lift (default 0.8).")

    @model_validator(mode="after")
    def _split_matches(self) -> StartABTestArgs:
        if self.split is not None:
            if len(self.split) != len(self.variants):
                raise ValueError(f"split has {len(self.split)} shares for {len(self.variants)} variants")
            if any(s <= 0 for s in self.split) or abs(sum(self.split) - 1) > 1e-6:
                raise ValueError("split shares must be positive and sum to 1")
        return self


class ABTestResult(ToolResult):
    test: ABTest
    plan: ABPlan | None = Field(
        default=None, description="The planned sample size, when a baseline rate and an MDE were given."
    )


def _preview_ab_test(ctx: ToolContext, args: StartABTestArgs) -> str:
    shares = args.split or [1 / len(args.variants)] * len(args.variants)
    split = ", ".join(f"“{v}” {s:.0%}" for v, s in zip(args.variants, shares, strict=True))
    return f"Start the A/B test “{args.name}” measuring {args.metric}: {split}."


@tool("revenue", side_effect=True, preview=_preview_ab_test)
def start_ab_test(ctx: ToolContext, args: StartABTestArgs) -> ABTestResult:
    """Start an A/B test between named variants (the first is the control) on one metric, with a traffic split.
    Returns the test id for get_ab_test_results."""
    test = ctx.studio.revenue.start_ab_test(
        ctx.workspace,
        name=args.name,
        variants=args.variants,
        metric=args.metric,
        split=args.split,
        idempotency_key=ctx.require_idempotency_key(),
        now=ctx.now,
        baseline_rate=args.baseline_rate,
        minimum_detectable_effect=args.minimum_detectable_effect,
        power=args.power if args.power is not None else DEFAULT_POWER,
    )
    plan = ctx.studio.revenue.ab_test_plan(ctx.workspace, test.id)
    planned = f"; it needs {plan.sample_size_per_variant:,} exposures per variant before a verdict" if plan else ""
    return ABTestResult(
        summary=f"Started the A/B test “{test.name}” ({test.id}) with {len(test.variants)} variants on "
        f"{test.metric}{planned}.",
        test=test,
        plan=plan,
    )


class CreateProductArgs(ToolArgs):
    name: str = Field(min_length=1, max_length=250)
    price: Decimal = Field(description="In major units: 29 means $29.00.")
    currency: str = Field(default="usd", description="ISO 4217 code, like usd, eur, gbp.")
    interval: IntervalInput = Field(default="none", description="month, year, or none for a one-time price.")

    @field_validator("price")
    @classmethod
    def _positive(cls, value: Decimal) -> Decimal:
        if not value.is_finite() or value <= 0:
            raise ValueError("price must be greater than 0, in major units (29 means $29.00)")
        return value

    @field_validator("currency")
    @classmethod
    def _known_currency(cls, value: str) -> str:
        code = value.strip().lower()
        if code not in CURRENCY_DECIMALS:
            raise ValueError(f"currency {value!r} is not a supported ISO 4217 code (like usd, eur, gbp)")
        return code


class ProductResult(ToolResult):
    product: Product
    price: Price


def _preview_product(ctx: ToolContext, args: CreateProductArgs) -> str:
    shown = Price(
        id="",
        product_id="",
        unit_amount=to_minor_units(args.price, args.currency),
        currency=args.currency,
        interval=None if args.interval == "none" else args.interval,
        active=True,
        created=ctx.now,
    )
    return f"Create product “{args.name}” at {shown.describe()}"


@tool("revenue", side_effect=True, preview=_preview_product)
def create_product(ctx: ToolContext, args: CreateProductArgs) -> ProductResult:
    """Create a product and its price in the payments account (Stripe): one-time, monthly or yearly.
    Returns the product and price ids (use them with create_payment_link)."""
    created = ctx.studio.revenue.create_product(
        ctx.workspace,
        name=args.name,
        price=args.price,
        currency=args.currency,
        interval=args.interval,
        idempotency_key=ctx.require_idempotency_key(),
    )
    ctx.studio.events.publish("revenue.product_created", ctx.workspace.id, {
        "product_id": created.product.id, "name": created.product.name, "price_id": created.price.id,
        "amount_cents": created.price.unit_amount, "currency": created.price.currency},
        source="revenue", correlation_id=ctx.run_id, key=ctx.require_idempotency_key())
    return ProductResult(
        summary=f"Created “{created.product.name}” at {created.description} "
        f"({created.product.id}, {created.price.id}).",
        product=created.product,
        price=created.price,
    )


class PaymentLinkArgs(ToolArgs):
    product_id: str | None = Field(default=None, max_length=64, description="Uses the product's default price.")
    price_id: str | None = Field(default=None, max_length=64)

    @model_validator(mode="after")
    def _one_target(self) -> PaymentLinkArgs:
        if bool(self.product_id) == bool(self.price_id):
            raise ValueError("give exactly one of product_id or price_id")
        return self


class PaymentLinkToolResult(ToolResult):
    link: PaymentLink
    product: Product
    price: Price


def _preview_link(ctx: ToolContext, args: PaymentLinkArgs) -> str:
    product, price = ctx.studio.revenue.find_price(ctx.workspace, product_id=args.product_id, price_id=args.price_id)
    return f"Create a payment link for “{product.name}” at {price.describe()}"


@tool("revenue", side_effect=True, preview=_preview_link)
def create_payment_link(ctx: ToolContext, args: PaymentLinkArgs) -> PaymentLinkToolResult:
    """Create a shareable checkout link for a product (its default price) or a specific price."""
    created = ctx.studio.revenue.create_payment_link(
        ctx.workspace, product_id=args.product_id, price_id=args.price_id, idempotency_key=ctx.require_idempotency_key()
    )
    return PaymentLinkToolResult(
        summary=f"Payment link for “{created.product.name}” ({created.price.describe()}): {created.link.url}",
        link=created.link,
        product=created.product,
        price=created.price,
    )


class DiscountArgs(ToolArgs):
    percent_off: float = Field(gt=0, le=100, description="Above 0 and at most 100.")
    duration: Literal["once", "repeating", "forever"] = Field(
        default="once", description="once (first payment), repeating (needs duration_in_months) or forever."
    )
    duration_in_months: int | None = Field(default=None, ge=1, le=36)
    product_id: str | None = Field(default=None, max_length=64, description="Limit to one product; default all.")
    name: str | None = Field(default=None, max_length=100, description="Shown to buyers, like “Launch week”.")

    @model_validator(mode="after")
    def _months_with_repeating(self) -> DiscountArgs:
        if self.duration == "repeating" and self.duration_in_months is None:
            raise ValueError("duration_in_months is required when duration is 'repeating'")
        if self.duration != "repeating" and self.duration_in_months is not None:
            raise ValueError("duration_in_months only applies to duration 'repeating'")
        return self


class DiscountToolResult(ToolResult):
    coupon: Coupon
    product: Product | None


def _describe_discount(percent_off: float, duration: str, months: int | None) -> str:
    how_long = {"once": "on the first payment", "forever": "on every payment", "repeating": f"for {months} months"}[
        duration
    ]
    return f"{percent_off:g}% off {how_long}"


def _preview_discount(ctx: ToolContext, args: DiscountArgs) -> str:
    target = "all products"
    if args.product_id:
        product, _ = ctx.studio.revenue.find_price(ctx.workspace, product_id=args.product_id, price_id=None)
        target = f"“{product.name}”"
    return (
        f"Create a discount of {_describe_discount(args.percent_off, args.duration, args.duration_in_months)} "
        f"on {target}"
    )


@tool("revenue", side_effect=True, preview=_preview_discount)
def create_discount(ctx: ToolContext, args: DiscountArgs) -> DiscountToolResult:
    """Create a percentage discount (a Stripe coupon) for all products or one product."""
    created = ctx.studio.revenue.create_discount(
        ctx.workspace,
        percent_off=args.percent_off,
        duration=args.duration,
        duration_in_months=args.duration_in_months,
        product_id=args.product_id,
        name=args.name,
        idempotency_key=ctx.require_idempotency_key(),
    )
    target = f"“{created.product.name}”" if created.product else "all products"
    return DiscountToolResult(
        summary=f"Created the discount {created.coupon.id}: "
        f"{_describe_discount(args.percent_off, args.duration, args.duration_in_months)}"
        f" on {target}.",
        coupon=created.coupon,
        product=created.product,
    )


class SequenceArgs(ToolArgs):
    sequence: str = Field(min_length=1, max_length=100, description="The sequence's name (like welcome) or id.")
    segment: str | None = Field(default=None, max_length=100, description="A subscriber tag, or 'all'.")
    subscriber_ids: list[str] | None = Field(default=None, min_length=1, max_length=1000)

    @model_validator(mode="after")
    def _one_audience(self) -> SequenceArgs:
        if bool(self.segment) == bool(self.subscriber_ids):
            raise ValueError("give exactly one of segment or subscriber_ids")
        return self


class SequenceResult(ToolResult):
    enrolment: EnrolmentBatch


def _preview_sequence(ctx: ToolContext, args: SequenceArgs) -> str:
    sequence = ctx.studio.revenue.email_sequence(ctx.workspace, args.sequence)
    if args.segment:
        audience = (
            f"the {len(ctx.studio.revenue.segment_recipients(ctx.workspace, args.segment))} subscribed "
            f"members of “{args.segment}”"
        )
    else:
        audience = f"{len(args.subscriber_ids or [])} subscribers"
    days = max(s.delay_days for s in sequence.steps)
    return (
        f"Enrol {audience} in the email sequence “{sequence.name}” ({len(sequence.steps)} emails over "
        f"{days} days; anyone already enrolled is skipped)."
    )


@tool("revenue", side_effect=True, preview=_preview_sequence)
def start_email_sequence(ctx: ToolContext, args: SequenceArgs) -> SequenceResult:
    """Enrol a segment's subscribers (or given subscribers) in a named email drip sequence; each subscriber is
    enrolled once, and unsubscribed or bounced addresses are skipped."""
    batch = ctx.studio.revenue.start_email_sequence(
        ctx.workspace,
        sequence=args.sequence,
        segment=args.segment,
        subscriber_ids=args.subscriber_ids,
        idempotency_key=ctx.require_idempotency_key(),
    )
    skipped = len(batch.already_enrolled) + len(batch.not_subscribed)
    return SequenceResult(
        summary=f"Enrolled {len(batch.enrolled)} subscribers in “{batch.sequence.name}”"
        f"{f'; skipped {skipped} already enrolled or not subscribed' if skipped else ''}.",
        enrolment=batch,
    )


class CampaignArgs(ToolArgs):
    draft_id: str | None = Field(default=None, max_length=64, description="A newsletter draft from draft_newsletter.")
    subject: str | None = Field(default=None, max_length=300)
    body: str | None = Field(default=None, max_length=100_000)
    segment: str = Field(min_length=1, max_length=100, description="A subscriber tag (like newsletter) or 'all'.")
    send_at: FutureDatetime | None = Field(default=None, description="ISO 8601 with time zone; leave out to send now.")

    @model_validator(mode="after")
    def _one_body(self) -> CampaignArgs:
        if self.draft_id and (self.subject or self.body):
            raise ValueError("give draft_id or subject and body, not both")
        if not self.draft_id and not (self.subject and self.body):
            raise ValueError("give a draft_id, or both subject and body")
        return self


class CampaignResult(ToolResult):
    campaign: Campaign


def _preview_campaign(ctx: ToolContext, args: CampaignArgs) -> str:
    subject, body = ctx.studio.revenue.campaign_content(
        ctx.workspace, draft_id=args.draft_id, subject=args.subject, body=args.body
    )
    count = len(ctx.studio.revenue.segment_recipients(ctx.workspace, args.segment))
    when = (
        f"on {args.send_at.astimezone(ctx.zone):%a %d %b %Y %H:%M} ({ctx.workspace.timezone})"
        if args.send_at
        else "now"
    )
    return f"Email “{subject}” to {count} subscribed members of “{args.segment}” {when}:\n{body}"


@tool("revenue", side_effect=True, preview=_preview_campaign)
def send_email_campaign(ctx: ToolContext, args: CampaignArgs) -> CampaignResult:
    """Email a newsletter draft (or a subject and body) to a segment's subscribed members, now or at send_at."""
    campaign = ctx.studio.revenue.send_email_campaign(
        ctx.workspace,
        draft_id=args.draft_id,
        subject=args.subject,
        body=args.body,
        segment=args.segment,
        send_at=args.send_at,
        now=ctx.now,
        idempotency_key=ctx.require_idempotency_key(),
    )
    if campaign.status == "scheduled" and campaign.send_at is not None:
        when = campaign.send_at.astimezone(ctx.zone).strftime("%A %d %B %H:%M")
        summary = (
            f"Scheduled “{campaign.subject}” for the “{campaign.segment}” segment on {when} ({ctx.workspace.timezone})."
        )
    else:
        summary = f"Sent “{campaign.subject}” to {campaign.recipients} subscribers in “{campaign.segment}”."
    return CampaignResult(summary=summary, campaign=campaign)
