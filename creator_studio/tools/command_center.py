"""Command Center tools (tools.md § command_center): the dashboard summary and growth targets."""

from __future__ import annotations

from datetime import date

from pydantic import Field

from creator_studio.command_center.service import DashboardSummary, TargetMetric, TargetProgress
from creator_studio.content.platforms import DISPLAY_NAMES
from creator_studio.tools.base import ToolArgs, ToolContext, ToolResult, tool
from creator_studio.tools.types import Period

DEFAULT_PERIOD = "30d"


def _value(metric: str, value: float) -> str:
    if metric == "engagement_rate":
        return f"{value:.1%}"
    if metric in ("mrr", "revenue"):
        return f"{value:,.2f}"
    return f"{value:,.0f}" if value == int(value) else f"{value:,.1f}"


def _target_text(progress: TargetProgress) -> str:
    goal = f"{progress.metric} {_value(progress.metric, progress.target)}"
    if progress.by is not None:
        goal += f" by {progress.by.isoformat()}"
    if progress.current is None:
        return f"{goal} (current value not reported yet)"
    return f"{goal} (now {_value(progress.metric, progress.current)}, {progress.progress:.0%})"


class DashboardArgs(ToolArgs):
    period: Period | None = Field(default=None, description="Like 7d, 30d, 90d or mtd (default 30d).")


class DashboardResult(ToolResult):
    dashboard: DashboardSummary


@tool("command_center")
def get_dashboard_summary(ctx: ToolContext, args: DashboardArgs) -> DashboardResult:
    """One summary across the studio for a period: followers per platform, posts and the best post, scheduled
    posts, comments and sentiment, workflows and automation health, progress towards targets, and analytics
    insights (net new MRR, LTV, trending topics, anomaly alerts, and how fresh the event-fed metrics are)."""
    period = args.period or DEFAULT_PERIOD
    dashboard = ctx.studio.command_center.dashboard(
        ctx.workspace,
        accounts=ctx.studio.social.accounts(ctx.workspace.id),
        period=period,
        since=ctx.period_start(period),
        now=ctx.now,
    )
    content, automation = dashboard.content, dashboard.automation
    parts = [
        f"{dashboard.audience.total_followers:,} followers on {len(dashboard.audience.by_platform)} platform(s)",
        f"{content.posts_published} posts",
    ]
    if content.best_post is not None:
        best = content.best_post
        parts.append(
            f"best: {DISPLAY_NAMES[best.platform]} “{best.topic or best.post_id}” at {best.engagement_rate:.1%}"
        )
    parts.append(f"{content.scheduled_posts} scheduled")
    parts.append(f"{dashboard.engagement.unanswered_questions} unanswered question(s)")
    parts.append(f"MRR {dashboard.revenue.mrr.formatted}")
    parts.append(f"{automation.active_workflows} active workflow(s), automation {automation.health}")
    insights = dashboard.insights
    if insights is not None and insights.net_new_mrr is not None and insights.net_new_mrr.amount:
        parts.append(f"net new MRR {insights.net_new_mrr.formatted}")
    if insights is not None and insights.alerts:
        parts.append(f"{len(insights.alerts)} anomaly alert(s), latest on {insights.alerts[0].metric}")
    if dashboard.targets:
        parts.append("targets: " + ", ".join(_target_text(t) for t in dashboard.targets))
    return DashboardResult(summary=f"Last {period}: " + "; ".join(parts) + ".", dashboard=dashboard)


class SetTargetArgs(ToolArgs):
    metric: TargetMetric
    target: float = Field(
        gt=0,
        description="The value to reach: engagement_rate is a fraction (0.05 = 5%), mrr and revenue are in the "
        "main currency (2500 = $2,500).",
    )
    by: date | None = Field(default=None, description="The day to reach it by (a future date, YYYY-MM-DD).")


class SetTargetResult(ToolResult):
    target: TargetProgress


@tool("command_center")
def set_target(ctx: ToolContext, args: SetTargetArgs) -> SetTargetResult:
    """Set (or replace) the creator's target for one metric, optionally with a date to reach it by; the
    dashboard summary then shows progress towards it."""
    progress = ctx.studio.command_center.set_target(
        ctx.workspace,
        metric=args.metric,
        target=args.target,
        by=args.by,
        accounts=ctx.studio.social.accounts(ctx.workspace.id),
        period=DEFAULT_PERIOD,
        since=ctx.period_start(DEFAULT_PERIOD),
        now=ctx.now,
    )
    return SetTargetResult(summary=f"Target set: {_target_text(progress)}.", target=progress)
