from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any

import pytest

from creator_studio.sandbox.seed import ACCOUNTS, DEFAULT_BRAND
from creator_studio.studio import Studio
from creator_studio.tools.base import TOOLS, ToolContext, load_all_tools
from creator_studio.tools.invoke import invoke_tool

pytestmark = pytest.mark.unit


def dashboard(ctx: ToolContext, **args: Any) -> dict[str, Any]:
    outcome = invoke_tool(ctx, "get_dashboard_summary", args)
    assert outcome.ok, outcome.error
    return outcome.result["dashboard"]  # type: ignore[index]


def dashboard_workflows(ctx: ToolContext) -> list[dict[str, Any]]:
    return invoke_tool(ctx, "list_workflows", {}).result["workflows"]  # type: ignore[index]


def test_dashboard_brings_the_modules_together(studio: Studio, ctx: ToolContext) -> None:
    summary = dashboard(ctx)
    assert summary["period"] == "30d"
    followers = {(f["platform"], f["handle"]): f["followers"] for f in summary["audience"]["by_platform"]}
    assert followers == {(platform, handle): count for platform, handle, count in ACCOUNTS}
    assert summary["audience"]["total_followers"] == sum(count for _, _, count in ACCOUNTS)

    posts = studio.content.performance(ctx.workspace, since=ctx.now - timedelta(days=30))
    content = summary["content"]
    assert content["posts_published"] == len(posts) == 12
    assert content["best_post"]["post_id"] == posts[0].post_id
    assert content["posts_per_week"] == round(12 / (30 / 7), 2)
    assert content["scheduled_posts"] == 0 and content["next_scheduled_at"] is None

    insights = studio.engagement.audience_insights(ctx.workspace, since=ctx.now - timedelta(days=30))
    assert summary["engagement"]["unanswered_questions"] == insights.unanswered_questions
    assert summary["engagement"]["engagement_rate"] == insights.engagement_rate

    metrics = studio.revenue.metrics(ctx.workspace, since=ctx.now - timedelta(days=30), now=ctx.now)
    revenue = summary["revenue"]
    assert revenue["currency"] == metrics.currency
    assert revenue["mrr"]["amount"] == metrics.mrr.amount and revenue["revenue"]["amount"] == metrics.revenue.amount
    assert revenue["active_subscribers"] == metrics.active_subscribers

    automation = summary["automation"]
    assert automation["active_workflows"] == 2 and automation["paused_workflows"] == 0
    assert automation["health"] == "degraded" and automation["failed_runs_last_24h"] == 1
    assert automation["next_workflow"] == "Weekly content plan"
    assert summary["targets"] == []


def test_dashboard_follows_changes_in_other_modules(ctx: ToolContext) -> None:
    publish_at = datetime(2026, 11, 27, 9, 0, tzinfo=ctx.zone)
    scheduled = invoke_tool(
        ctx,
        "schedule_post",
        {"text": "Friday tip: df.info()", "platform": "bluesky", "publish_at": publish_at.isoformat()},
    )
    assert scheduled.ok, scheduled.error
    plan_id = next(w["id"] for w in dashboard_workflows(ctx) if w["name"] == "Weekly content plan")
    assert invoke_tool(replace(ctx, idempotency_key="k-pause"), "pause_workflow", {"workflow_id": plan_id}).ok
    summary = dashboard(ctx)
    assert summary["content"]["scheduled_posts"] == 1
    assert datetime.fromisoformat(summary["content"]["next_scheduled_at"]) == publish_at
    assert summary["automation"]["active_workflows"] == 1 and summary["automation"]["paused_workflows"] == 1


def test_dashboard_period_changes_the_window(ctx: ToolContext) -> None:
    week = dashboard(ctx, period="7d")
    assert week["period"] == "7d" and week["content"]["posts_published"] == 2
    assert week["content"]["best_post"]["platform"] == "mastodon"
    bad = invoke_tool(ctx, "get_dashboard_summary", {"period": "fortnight"})
    assert not bad.ok and "period" in (bad.error or "")


def test_set_target_is_shown_with_progress_in_the_dashboard(studio: Studio, ctx: ToolContext) -> None:
    outcome = invoke_tool(ctx, "set_target", {"metric": "followers", "target": 40000, "by": "2027-01-31"})
    assert outcome.ok, outcome.error
    total = sum(count for _, _, count in ACCOUNTS)
    target = outcome.result["target"]  # type: ignore[index]
    assert target["current"] == total and target["progress"] == round(total / 40000, 4) and target["met"] is False
    assert target["days_left"] == (datetime(2027, 1, 31) - datetime(2026, 11, 25)).days
    assert "40,000" in outcome.summary

    assert invoke_tool(ctx, "set_target", {"metric": "mrr", "target": 2500}).ok
    targets = {t["metric"]: t for t in dashboard(ctx)["targets"]}
    assert set(targets) == {"followers", "mrr"}
    assert targets["followers"]["current"] == total and targets["followers"]["by"] == "2027-01-31"
    assert targets["mrr"]["target"] == 2500 and targets["mrr"]["by"] is None
    mrr = studio.revenue.metrics(ctx.workspace, since=ctx.now - timedelta(days=30), now=ctx.now).mrr
    assert targets["mrr"]["current"] == mrr.amount / 100  # USD cents to dollars
    assert [t.metric for t in studio.command_center.targets(ctx.workspace)] == ["followers", "mrr"]


def test_set_target_replaces_the_metrics_previous_target(studio: Studio, ctx: ToolContext) -> None:
    assert invoke_tool(ctx, "set_target", {"metric": "posts_per_week", "target": 3}).ok
    assert invoke_tool(ctx, "set_target", {"metric": "posts_per_week", "target": 5, "by": "2026-12-31"}).ok
    targets = studio.command_center.targets(ctx.workspace)
    assert len(targets) == 1
    assert targets[0].target == 5 and targets[0].by is not None and targets[0].by.isoformat() == "2026-12-31"


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        ({"metric": "likes", "target": 10}, ["metric", "likes"]),
        ({"metric": "followers", "target": 0}, ["target", "greater than 0"]),
        ({"metric": "followers", "target": -5}, ["target"]),
        ({"metric": "followers", "target": 50000, "by": "2026-11-01"}, ["by", "not in the future"]),
        ({"metric": "followers", "target": 50000, "by": "2026-11-25"}, ["by", "not in the future"]),  # today
        ({"metric": "followers", "target": 50000, "by": "someday"}, ["by"]),
        ({"metric": "engagement_rate", "target": 5}, ["engagement_rate", "fraction"]),
        ({"metric": "followers", "target": 40000.5}, ["whole number"]),
        ({"target": 10}, ["metric"]),
    ],
)
def test_set_target_bad_input_names_the_problem_and_writes_nothing(
    studio: Studio, ctx: ToolContext, args: dict[str, Any], expected: list[str]
) -> None:
    outcome = invoke_tool(ctx, "set_target", args)
    assert not outcome.ok
    for fragment in expected:
        assert fragment in (outcome.error or ""), outcome.error
    assert studio.command_center.targets(ctx.workspace) == []


def test_command_center_tools_are_not_side_effects() -> None:
    load_all_tools()
    assert not TOOLS["get_dashboard_summary"].side_effect and not TOOLS["set_target"].side_effect
    assert TOOLS["set_target"].agent == "command_center"


def test_another_workspace_has_its_own_dashboard_and_targets(studio: Studio, ctx: ToolContext) -> None:
    assert invoke_tool(ctx, "set_target", {"metric": "followers", "target": 40000}).ok
    other_ws = studio.workspaces.create("other", "Other Studio", "UTC", DEFAULT_BRAND)
    other = replace(ctx, workspace=other_ws)
    summary = dashboard(other)
    assert summary["audience"] == {"total_followers": 0, "by_platform": []}
    assert summary["content"]["posts_published"] == 0 and summary["content"]["best_post"] is None
    assert summary["automation"]["active_workflows"] == 0 and summary["targets"] == []
    assert invoke_tool(other, "set_target", {"metric": "followers", "target": 100}).ok
    assert [t.target for t in studio.command_center.targets(other_ws)] == [100]
    assert [t.target for t in studio.command_center.targets(ctx.workspace)] == [40000]
