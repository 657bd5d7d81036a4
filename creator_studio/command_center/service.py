"""The Command Center's own rules: the cross-module dashboard summary and the creator's growth targets.

The summary is built only from the other modules' public service methods (never their tables), so each
module stays the owner of its numbers. Follower counts come from the social provider's accounts, which the
caller passes in (the service is constructed without the provider).
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Literal, get_args

from pydantic import BaseModel, Field
from sqlalchemy import select

from creator_studio.analytics.service import AnalyticsService
from creator_studio.automation.service import AutomationService
from creator_studio.command_center.models import TargetRow
from creator_studio.content.service import ContentService, PostPerformance
from creator_studio.engagement.service import EngagementService
from creator_studio.errors import InvalidInput
from creator_studio.providers.payments.base import CURRENCY_DECIMALS, Money
from creator_studio.providers.social.base import Account
from creator_studio.revenue.service import RevenueService
from creator_studio.store.db import Database, new_id
from creator_studio.workspaces.service import Workspace

TargetMetric = Literal["followers", "engagement_rate", "mrr", "newsletter_subscribers", "revenue", "posts_per_week"]
TARGET_METRICS: tuple[str, ...] = get_args(TargetMetric)
# Counts of people are whole numbers; a rate is a fraction (0.05 = 5%).
_WHOLE_NUMBER_METRICS = {"followers", "newsletter_subscribers"}
# How far ahead the dashboard counts scheduled posts.
SCHEDULE_HORIZON = timedelta(days=365)


class FollowerCount(BaseModel):
    platform: str
    handle: str
    followers: int


class AudienceTile(BaseModel):
    total_followers: int
    by_platform: list[FollowerCount]


class ContentTile(BaseModel):
    posts_published: int
    posts_per_week: float
    average_engagement_rate: float | None
    best_post: PostPerformance | None
    scheduled_posts: int  # waiting to be published, from now on
    next_scheduled_at: datetime | None


class EngagementTile(BaseModel):
    comments: int
    unanswered_questions: int
    spam_comments: int
    positive: int
    neutral: int
    negative: int
    engagement_rate: float


class RevenueTile(BaseModel):
    currency: str  # the main currency; amounts below are in it
    mrr: Money
    revenue: Money  # successful payments in the period
    active_subscribers: int
    new_subscribers: int
    churned_subscribers: int
    churn_rate: float | None
    newsletter_subscribers: int


class AutomationTile(BaseModel):
    active_workflows: int
    paused_workflows: int
    health: Literal["healthy", "degraded"]
    health_reasons: list[str]
    failed_runs_last_24h: int
    next_workflow: str | None
    next_workflow_at: datetime | None


class Target(BaseModel):
    metric: str
    target: float
    by: date | None
    updated_at: datetime


class TargetProgress(BaseModel):
    metric: str
    target: float
    by: date | None
    current: float | None  # None: no module reports this metric
    measured: str  # "now" or the period it is measured over, e.g. "last 30d"
    progress: float | None  # current / target
    met: bool | None
    days_left: int | None


class AlertView(BaseModel):
    metric: str
    day: date
    value: float
    expected: float
    robust_z: float


class InsightsTile(BaseModel):
    """Analytics on top of the module numbers: how MRR moved, what is trending, what looked abnormal."""

    metrics_as_of: datetime | None = Field(
        description="Event-fed metrics include everything recorded before this moment (rolled up periodically)."
    )
    net_new_mrr: Money | None
    new_mrr: Money | None
    churned_mrr: Money | None
    ltv: Money | None
    customer_churn_rate: float | None
    trending_topics: list[str]
    alerts: list[AlertView]


class DashboardSummary(BaseModel):
    period: str
    since: datetime
    generated_at: datetime
    audience: AudienceTile
    content: ContentTile
    engagement: EngagementTile
    revenue: RevenueTile
    automation: AutomationTile
    targets: list[TargetProgress]
    insights: InsightsTile | None = None


class CommandCenterService:
    def __init__(
        self,
        db: Database,
        *,
        content: ContentService,
        engagement: EngagementService,
        revenue: RevenueService,
        automation: AutomationService,
        analytics: AnalyticsService | None = None,
    ) -> None:
        self._db = db
        self._analytics = analytics
        self._content = content
        self._engagement = engagement
        self._revenue = revenue
        self._automation = automation

    # Dashboard --------------------------------------------------------------------------------------
    def dashboard(
        self, ws: Workspace, *, accounts: list[Account], period: str, since: datetime, now: datetime
    ) -> DashboardSummary:
        audience = _audience(accounts)
        content = self._content_tile(ws, since=since, now=now)
        engagement = self._engagement_tile(ws, since=since)
        revenue = self._revenue_tile(ws, since=since, now=now)
        automation = self._automation_tile(ws, now=now)
        current = _current_values(audience=audience, content=content, engagement=engagement, revenue=revenue)
        return DashboardSummary(
            period=period,
            since=since,
            generated_at=now,
            audience=audience,
            content=content,
            engagement=engagement,
            revenue=revenue,
            automation=automation,
            targets=[_progress(t, current, period, ws, now) for t in self._target_rows(ws)],
            insights=self._insights_tile(ws, since=since, now=now),
        )

    def _insights_tile(self, ws: Workspace, *, since: datetime, now: datetime) -> InsightsTile:
        metrics = self._revenue.metrics(ws, since=since, now=now)
        moves = metrics.movements
        trending = self._engagement.audience_insights(ws, since=since, now=now).trending_topics
        alerts = self._analytics.recent_alerts(ws.id, since=since) if self._analytics is not None else []
        return InsightsTile(
            metrics_as_of=self._analytics.store.as_of(ws.id) if self._analytics is not None else None,
            net_new_mrr=moves.net_new if moves else None,
            new_mrr=moves.new if moves else None,
            churned_mrr=moves.churned if moves else None,
            ltv=metrics.ltv,
            customer_churn_rate=metrics.customer_churn_rate,
            trending_topics=[t.topic for t in trending if t.status in ("rising", "new")],
            alerts=[
                AlertView(metric=a.metric, day=a.day.date(), value=a.value, expected=a.expected, robust_z=a.robust_z)
                for a in alerts
            ],
        )

    def _content_tile(self, ws: Workspace, *, since: datetime, now: datetime) -> ContentTile:
        posts = self._content.performance(ws, since=since)  # best first
        upcoming = [
            e
            for e in self._content.calendar(ws, now, now + SCHEDULE_HORIZON)
            if e.kind == "scheduled" and e.status == "scheduled"
        ]
        weeks = max((now - since) / timedelta(days=7), 1 / 7)  # at least one day, so a fresh month is not ÷0
        return ContentTile(
            posts_published=len(posts),
            posts_per_week=round(len(posts) / weeks, 2),
            average_engagement_rate=round(sum(p.engagement_rate for p in posts) / len(posts), 4) if posts else None,
            best_post=posts[0] if posts else None,
            scheduled_posts=len(upcoming),
            next_scheduled_at=min((e.at for e in upcoming), default=None),
        )

    def _engagement_tile(self, ws: Workspace, *, since: datetime) -> EngagementTile:
        insights = self._engagement.audience_insights(ws, since=since)
        return EngagementTile(
            comments=insights.comments,
            unanswered_questions=insights.unanswered_questions,
            spam_comments=insights.spam_comments,
            positive=insights.sentiment_mix.positive,
            neutral=insights.sentiment_mix.neutral,
            negative=insights.sentiment_mix.negative,
            engagement_rate=insights.engagement_rate,
        )

    def _automation_tile(self, ws: Workspace, *, now: datetime) -> AutomationTile:
        health = self._automation.system_health(ws, now=now)
        scheduled = sorted(
            (w for w in self._automation.list_workflows(ws, status="active") if w.next_run_at),
            key=lambda w: (w.next_run_at, w.name),
        )
        return AutomationTile(
            active_workflows=health.workflows_by_status.get("active", 0),
            paused_workflows=health.workflows_by_status.get("paused", 0),
            health=health.status,
            health_reasons=health.reasons,
            failed_runs_last_24h=len(health.failed_runs_last_24h),
            next_workflow=scheduled[0].name if scheduled else None,
            next_workflow_at=scheduled[0].next_run_at if scheduled else None,
        )

    def _revenue_tile(self, ws: Workspace, *, since: datetime, now: datetime) -> RevenueTile:
        metrics = self._revenue.metrics(ws, since=since, now=now)
        try:
            newsletter = len(self._revenue.segment_recipients(ws, "all"))
        except InvalidInput:  # the revenue service reports an empty list as an error for senders
            newsletter = 0
        return RevenueTile(
            currency=metrics.currency,
            mrr=metrics.mrr,
            revenue=metrics.revenue,
            active_subscribers=metrics.active_subscribers,
            new_subscribers=metrics.new_subscribers,
            churned_subscribers=metrics.churned_subscribers,
            churn_rate=metrics.churn_rate,
            newsletter_subscribers=newsletter,
        )

    # Targets ----------------------------------------------------------------------------------------
    def set_target(
        self,
        ws: Workspace,
        *,
        metric: str,
        target: float,
        by: date | None,
        accounts: list[Account],
        period: str,
        since: datetime,
        now: datetime,
    ) -> TargetProgress:
        """Create or replace the target for one metric; returns it with the current value where known."""
        if metric not in TARGET_METRICS:
            raise InvalidInput(f"metric: {metric!r} is not a target metric; use one of {', '.join(TARGET_METRICS)}.")
        if not target > 0:
            raise InvalidInput(f"target: {target:g} must be above zero.")
        if metric == "engagement_rate" and target > 1:
            raise InvalidInput(f"target: engagement_rate is a fraction (0.05 means 5%); {target:g} is above 1.")
        if metric in _WHOLE_NUMBER_METRICS and target != int(target):
            raise InvalidInput(f"target: {metric} counts people, so give a whole number (got {target:g}).")
        today = now.astimezone(ws.zone).date()
        if by is not None and by <= today:
            raise InvalidInput(f"by: {by.isoformat()} is not in the future; give a date after {today.isoformat()}.")
        with self._db.transaction() as session:
            row = session.scalar(select(TargetRow).where(TargetRow.workspace_id == ws.id, TargetRow.metric == metric))
            if row is None:
                row = TargetRow(id=new_id("target"), workspace_id=ws.id, metric=metric, created_at=now)
                session.add(row)
            row.target, row.by, row.updated_at = target, by, now
            session.flush()
        current = _current_values(
            audience=_audience(accounts),
            content=self._content_tile(ws, since=since, now=now),
            engagement=self._engagement_tile(ws, since=since),
            revenue=self._revenue_tile(ws, since=since, now=now),
        )
        return _progress(row, current, period, ws, now)

    def targets(self, ws: Workspace) -> list[Target]:
        return [
            Target(metric=r.metric, target=r.target, by=r.by, updated_at=r.updated_at) for r in self._target_rows(ws)
        ]

    def _target_rows(self, ws: Workspace) -> list[TargetRow]:
        with self._db.transaction() as session:
            return list(
                session.scalars(select(TargetRow).where(TargetRow.workspace_id == ws.id).order_by(TargetRow.metric))
            )


def _audience(accounts: list[Account]) -> AudienceTile:
    by_platform = [FollowerCount(platform=a.platform, handle=a.handle, followers=a.followers) for a in accounts]
    return AudienceTile(total_followers=sum(a.followers for a in accounts), by_platform=by_platform)


def _current_values(
    *, audience: AudienceTile, content: ContentTile, engagement: EngagementTile, revenue: RevenueTile
) -> dict[str, float]:
    """Today's value of each target metric; money in the main currency's major unit (29.0 is $29)."""
    return {
        "followers": float(audience.total_followers),
        "engagement_rate": engagement.engagement_rate,
        "posts_per_week": content.posts_per_week,
        "mrr": _major_units(revenue.mrr),
        "revenue": _major_units(revenue.revenue),
        "newsletter_subscribers": float(revenue.newsletter_subscribers),
    }


def _major_units(money: Money) -> float:
    return money.amount / 10 ** CURRENCY_DECIMALS.get(money.currency, 2)


def _progress(row: TargetRow, current: dict[str, float], period: str, ws: Workspace, now: datetime) -> TargetProgress:
    value = current.get(row.metric)
    measured = "now" if row.metric in ("followers", "mrr", "newsletter_subscribers") else f"last {period}"
    return TargetProgress(
        metric=row.metric,
        target=row.target,
        by=row.by,
        current=value,
        measured=measured,
        progress=round(value / row.target, 4) if value is not None else None,
        met=value >= row.target if value is not None else None,
        days_left=(row.by - now.astimezone(ws.zone).date()).days if row.by else None,
    )
