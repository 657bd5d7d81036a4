from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from creator_studio.automation.definitions import CronSchedule, WorkflowDefinition
from creator_studio.automation.service import AutomationService
from creator_studio.sandbox.automation_world import DEFINITIONS, PAYMENT_FOLLOW_UP, WEEKLY_PLAN
from creator_studio.sandbox.seed import DEFAULT_BRAND
from creator_studio.store.db import Database
from creator_studio.studio import Studio
from creator_studio.tools.base import TOOLS, ToolContext, load_all_tools
from creator_studio.tools.invoke import get_tool, invoke_tool

pytestmark = pytest.mark.unit

BERLIN = ZoneInfo("Europe/Berlin")
GOAL_STEP = {"type": "goal", "goal": "plan this week's content"}


def keyed(ctx: ToolContext, key: str, *, now: datetime | None = None) -> ToolContext:
    return replace(ctx, idempotency_key=key, now=now or ctx.now)


def workflows(ctx: ToolContext, **args: Any) -> list[dict[str, Any]]:
    outcome = invoke_tool(ctx, "list_workflows", args)
    assert outcome.ok, outcome.error
    return outcome.result["workflows"]  # type: ignore[index]


def runs(ctx: ToolContext, **args: Any) -> list[dict[str, Any]]:
    outcome = invoke_tool(ctx, "get_workflow_runs", args)
    assert outcome.ok, outcome.error
    return outcome.result["runs"]  # type: ignore[index]


def by_name(ctx: ToolContext, name: str) -> dict[str, Any]:
    return next(w for w in workflows(ctx) if w["name"] == name)


def local(value: str) -> datetime:
    return datetime.fromisoformat(value).astimezone(BERLIN)


# Reads ----------------------------------------------------------------------------------------------------


def test_seeded_workflows_are_listed_with_their_schedule(ctx: ToolContext) -> None:
    listed = workflows(ctx)
    assert {w["name"] for w in listed} == {WEEKLY_PLAN, PAYMENT_FOLLOW_UP}
    plan = by_name(ctx, WEEKLY_PLAN)
    assert plan["status"] == "active" and plan["version"] == 1
    assert plan["trigger"] == {"type": "cron", "cron": "0 9 * * 1", "timezone": "Europe/Berlin", "missed": "skip"}
    assert plan["steps"] == [{**GOAL_STEP, "retries": 0, "retry_delay": "1m"}]
    # Wednesday 25 November 15:00 in Berlin: the next Monday 09:00 is the 30th.
    assert local(plan["next_run_at"]) == datetime(2026, 11, 30, 9, 0, tzinfo=BERLIN)
    assert plan["last_run_status"] == "succeeded"
    follow_up = by_name(ctx, PAYMENT_FOLLOW_UP)
    assert follow_up["trigger"]["event"] == "revenue.payment_failed" and follow_up["next_run_at"] is None
    assert follow_up["last_run_status"] == "failed"
    assert workflows(ctx, status="paused") == []
    assert len(workflows(ctx, status="active")) == 2


def test_list_workflows_rejects_an_unknown_status(ctx: ToolContext) -> None:
    outcome = invoke_tool(ctx, "list_workflows", {"status": "sleeping"})
    assert not outcome.ok and "status" in (outcome.error or "")


def test_workflow_runs_filter_by_workflow_and_status(ctx: ToolContext) -> None:
    all_runs = runs(ctx)
    assert len(all_runs) == 4
    assert [r["queued_at"] for r in all_runs] == sorted((r["queued_at"] for r in all_runs), reverse=True)
    failed = runs(ctx, status="failed")
    assert len(failed) == 1
    assert failed[0]["workflow_name"] == PAYMENT_FOLLOW_UP and "unsubscribed" in failed[0]["error"]
    plan_runs = runs(ctx, workflow_id=by_name(ctx, WEEKLY_PLAN)["id"])
    assert len(plan_runs) == 2 and {r["trigger"] for r in plan_runs} == {"cron"}
    assert all(local(r["queued_at"]).hour == 9 and local(r["queued_at"]).weekday() == 0 for r in plan_runs)


def test_workflow_runs_bad_input_names_the_problem(ctx: ToolContext) -> None:
    unknown = invoke_tool(ctx, "get_workflow_runs", {"workflow_id": "wf_nope"})
    assert not unknown.ok and "wf_nope" in (unknown.error or "")
    bad_status = invoke_tool(ctx, "get_workflow_runs", {"status": "exploded"})
    assert not bad_status.ok and "status" in (bad_status.error or "")


def test_system_health_reports_the_recent_failure_then_recovers(ctx: ToolContext) -> None:
    outcome = invoke_tool(ctx, "get_system_health", {})
    assert outcome.ok, outcome.error
    health = outcome.result["health"]  # type: ignore[index]
    assert health["status"] == "degraded" and health["database_reachable"] is True
    assert health["workflows_by_status"] == {"active": 2, "paused": 0}
    assert len(health["failed_runs_last_24h"]) == 1
    assert any(PAYMENT_FOLLOW_UP in reason and "unsubscribed" in reason for reason in health["reasons"])
    last_runs = {w["name"]: w["last_run"]["status"] for w in health["workflows"]}
    assert last_runs == {WEEKLY_PLAN: "succeeded", PAYMENT_FOLLOW_UP: "failed"}
    assert "degraded" in outcome.summary

    two_days_later = invoke_tool(keyed(ctx, "unused", now=ctx.now + timedelta(days=2)), "get_system_health", {})
    assert two_days_later.result["health"]["status"] == "healthy"  # type: ignore[index]
    assert two_days_later.result["health"]["reasons"] == []  # type: ignore[index]


def test_system_health_flags_an_overdue_schedule_and_a_stuck_queue(ctx: ToolContext) -> None:
    plan = by_name(ctx, WEEKLY_PLAN)
    assert invoke_tool(ctx, "run_workflow", {"workflow_id": plan["id"]}).ok
    # Monday 30 November 10:00 in Berlin: the 09:00 run never happened and the manual run never started.
    monday = datetime(2026, 11, 30, 10, 0, tzinfo=BERLIN)
    health = invoke_tool(keyed(ctx, "unused", now=monday), "get_system_health", {}).result["health"]  # type: ignore[index]
    assert health["status"] == "degraded" and health["queued_runs"] == 1
    reasons = " ".join(health["reasons"])
    assert "overdue" in reasons and WEEKLY_PLAN in reasons and "queued" in reasons


def test_system_health_reports_an_unreachable_database(ctx: ToolContext, tmp_path: Path) -> None:
    broken = AutomationService(Database(f"sqlite:///{tmp_path}/missing/dir/studio.db"))
    health = broken.system_health(ctx.workspace, now=ctx.now)
    assert health.status == "degraded" and not health.database_reachable
    assert "database" in health.reasons[0]


# create_workflow ------------------------------------------------------------------------------------------


def test_create_cron_workflow_pins_the_workspace_zone_and_computes_the_next_run(ctx: ToolContext) -> None:
    steps = [
        {"type": "tool", "tool": "draft_post", "args": {"platform": "linkedin", "topic": "weekly recap"}},
        {"type": "wait", "duration": "2h"},
        {"type": "condition", "if": {"field": "engagement_rate", "op": "<", "value": 0.02}},
        {"type": "goal", "goal": "write a follow-up post"},
    ]
    outcome = invoke_tool(
        ctx,
        "create_workflow",
        {"name": "Friday recap", "trigger": {"type": "cron", "cron": "30 16 * * fri"}, "steps": steps},
    )
    assert outcome.ok, outcome.error
    created = by_name(ctx, "Friday recap")
    assert created["id"] == outcome.result["workflow"]["id"]  # type: ignore[index]
    assert created["status"] == "active" and created["version"] == 1
    assert created["trigger"]["timezone"] == "Europe/Berlin"
    assert local(created["next_run_at"]) == datetime(2026, 11, 27, 16, 30, tzinfo=BERLIN)
    no_retries = {"retries": 0, "retry_delay": "1m"}  # the defaults, stored explicitly
    assert created["steps"] == [
        {"type": "tool", "tool": "draft_post", "args": {"platform": "linkedin", "topic": "weekly recap"},
         **no_retries},
        {"type": "wait", "duration": "2h"},
        {"type": "condition", "if": {"field": "engagement_rate", "op": "<", "value": 0.02}},
        {"type": "goal", "goal": "write a follow-up post", **no_retries},
    ]
    assert "Friday at 16:30" in outcome.summary


def test_create_workflow_honours_an_explicit_time_zone(ctx: ToolContext) -> None:
    trigger = {"type": "cron", "cron": "0 9 * * *", "timezone": "America/New_York"}
    assert invoke_tool(ctx, "create_workflow", {"name": "NY morning", "trigger": trigger, "steps": [GOAL_STEP]}).ok
    created = by_name(ctx, "NY morning")
    # 14:00 UTC is 09:00 in New York: the 09:00 run of today is exactly now, so the next is tomorrow's.
    assert datetime.fromisoformat(created["next_run_at"]) == datetime(2026, 11, 26, 14, 0, tzinfo=UTC)


def test_create_event_and_threshold_workflows(ctx: ToolContext) -> None:
    event = {"type": "event", "event": "content.published", "filter": {"platform": "linkedin"}}
    threshold = {"type": "threshold", "metric": "engagement_rate", "op": "<", "value": 0.02, "window": "7d"}
    assert invoke_tool(
        keyed(ctx, "k-event"), "create_workflow", {"name": "Repost", "trigger": event, "steps": [GOAL_STEP]}
    ).ok
    assert invoke_tool(
        keyed(ctx, "k-threshold"),
        "create_workflow",
        {"name": "Slump", "trigger": threshold, "steps": [GOAL_STEP]},
    ).ok
    repost, slump = by_name(ctx, "Repost"), by_name(ctx, "Slump")
    assert repost["trigger"] == event and repost["next_run_at"] is None
    assert slump["trigger"] == threshold and slump["next_run_at"] is None


@pytest.mark.parametrize(
    ("trigger", "steps", "expected"),
    [
        ({"type": "cron", "cron": "0 9 * *"}, [GOAL_STEP], ["trigger", "cron", "5"]),
        ({"type": "cron", "cron": "61 9 * * 1"}, [GOAL_STEP], ["minute", "61"]),
        ({"type": "cron", "cron": "0 0 31 2 *"}, [GOAL_STEP], ["never fires"]),
        (
            {"type": "cron", "cron": "0 9 * * 1", "timezone": "Mars/Olympus"},
            [GOAL_STEP],
            ["timezone", "Mars/Olympus"],
        ),
        ({"type": "event", "event": "payments.failed"}, [GOAL_STEP], ["event", "payments", "namespace"]),
        ({"type": "event", "event": "revenue.payment_fail"}, [GOAL_STEP], ["event", "past tense"]),
        ({"type": "threshold", "metric": "likes", "op": "<", "value": 1}, [GOAL_STEP], ["metric"]),
        ({"type": "sometimes"}, [GOAL_STEP], ["trigger"]),
        ({"type": "cron", "cron": "0 9 * * 1"}, [], ["steps", "at least one step"]),
        (
            {"type": "cron", "cron": "0 9 * * 1"},
            [GOAL_STEP, {"type": "tool", "tool": "post_to_myspace"}],
            ["steps.1", "post_to_myspace"],
        ),
        (
            {"type": "cron", "cron": "0 9 * * 1"},
            [{"type": "tool", "tool": "draft_post", "args": {"colour": "red"}}],
            ["steps.0", "colour"],
        ),
        (
            {"type": "cron", "cron": "0 9 * * 1"},
            [{"type": "wait", "duration": "2d"}],
            ["steps", "tool or goal"],
        ),
        (
            {"type": "cron", "cron": "0 9 * * 1"},
            [GOAL_STEP, {"type": "wait", "duration": "soon"}],
            ["steps.1", "duration"],
        ),
        (
            {"type": "cron", "cron": "0 9 * * 1"},
            [GOAL_STEP, {"type": "condition", "if": {"field": "mood", "op": "==", "value": "good"}}],
            ["steps.1", "mood"],
        ),
    ],
)
def test_create_workflow_bad_input_names_the_problem_and_writes_nothing(
    ctx: ToolContext, trigger: dict[str, Any], steps: list[dict[str, Any]], expected: list[str]
) -> None:
    outcome = invoke_tool(ctx, "create_workflow", {"name": "Broken", "trigger": trigger, "steps": steps})
    assert not outcome.ok
    for fragment in expected:
        assert fragment in (outcome.error or ""), outcome.error
    assert len(workflows(ctx)) == 2


def test_create_workflow_with_a_taken_name_is_a_conflict(ctx: ToolContext) -> None:
    outcome = invoke_tool(
        ctx,
        "create_workflow",
        {"name": WEEKLY_PLAN, "trigger": {"type": "cron", "cron": "0 8 * * 2"}, "steps": [GOAL_STEP]},
    )
    assert not outcome.ok and WEEKLY_PLAN in (outcome.error or "") and "already exists" in (outcome.error or "")
    assert by_name(ctx, WEEKLY_PLAN)["trigger"]["cron"] == "0 9 * * 1"


def test_create_workflow_is_idempotent(studio: Studio, ctx: ToolContext) -> None:
    args = {"name": "Daily check", "trigger": {"type": "cron", "cron": "@daily"}, "steps": [GOAL_STEP]}
    first = invoke_tool(ctx, "create_workflow", args)
    second = invoke_tool(ctx, "create_workflow", args)
    assert first.ok and second.ok and second.replayed
    assert second.result == first.result
    assert [w["name"] for w in workflows(ctx)].count("Daily check") == 1
    # The service itself honours the key too (a resumed run that lost its ledger entry).
    definition = WorkflowDefinition.model_validate({"trigger": args["trigger"], "steps": args["steps"]})
    again = studio.automation.create_workflow(
        ctx.workspace, name="Daily check", definition=definition, idempotency_key="test-key-1", now=ctx.now
    )
    assert again.id == first.result["workflow"]["id"]  # type: ignore[index]
    assert len(workflows(ctx)) == 3


def test_create_workflow_preview_says_what_will_happen(ctx: ToolContext) -> None:
    spec = get_tool("create_workflow")
    args = spec.validate(
        {"name": "Monday plan", "trigger": {"type": "cron", "cron": "0 9 * * 1"}, "steps": [GOAL_STEP]}, ctx
    )
    preview = spec.preview(ctx, args)
    assert "Monday plan" in preview and "every Monday at 09:00" in preview and "Mon 30 Nov 2026 09:00" in preview
    assert "plan this week's content" in preview
    assert len(workflows(ctx)) == 2  # a preview changes nothing


def test_every_automation_side_effect_tool_has_a_preview() -> None:
    load_all_tools()
    for name in ("create_workflow", "schedule_goal", "pause_workflow", "resume_workflow", "run_workflow"):
        assert TOOLS[name].side_effect and TOOLS[name].preview_fn is not None, name
    for name in ("list_workflows", "get_workflow_runs", "get_system_health"):
        assert not TOOLS[name].side_effect, name


def test_seeded_definitions_are_valid_against_the_tool_catalogue() -> None:
    load_all_tools()
    if "start_email_sequence" not in TOOLS:
        pytest.skip("the revenue tools are not registered yet")
    for data in DEFINITIONS.values():
        WorkflowDefinition.model_validate(data)  # the full check, tool names and argument names included


# schedule_goal --------------------------------------------------------------------------------------------


def test_schedule_goal_with_cron_is_a_one_step_workflow(ctx: ToolContext) -> None:
    outcome = invoke_tool(ctx, "schedule_goal", {"goal": "summarise last week's comments", "cron": "0 8 * * 1-5"})
    assert outcome.ok, outcome.error
    created = next(w for w in workflows(ctx) if w["id"] == outcome.result["workflow"]["id"])  # type: ignore[index]
    assert created["steps"] == [{"type": "goal", "goal": "summarise last week's comments", "retries": 0,
                                 "retry_delay": "1m"}]
    assert created["trigger"] == {"type": "cron", "cron": "0 8 * * 1-5", "timezone": "Europe/Berlin",
                                  "missed": "skip"}
    assert local(created["next_run_at"]) == datetime(2026, 11, 26, 8, 0, tzinfo=BERLIN)


def test_schedule_goal_at_a_time_runs_once(ctx: ToolContext) -> None:
    at = datetime(2026, 12, 1, 10, 0, tzinfo=BERLIN)
    outcome = invoke_tool(ctx, "schedule_goal", {"goal": "draft the launch email", "at": at.isoformat()})
    assert outcome.ok, outcome.error
    created = next(w for w in workflows(ctx) if w["id"] == outcome.result["workflow"]["id"])  # type: ignore[index]
    assert created["trigger"]["type"] == "once"
    assert local(created["next_run_at"]) == at
    # The same goal again (another time) gets its own workflow with a distinct name.
    again = invoke_tool(keyed(ctx, "k2"), "schedule_goal", {"goal": "draft the launch email", "cron": "0 9 1 * *"})
    assert again.ok, again.error
    names = [w["name"] for w in workflows(ctx) if "launch email" in w["name"]]
    assert len(names) == 2 and len(set(names)) == 2


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        ({"goal": "recap", "at": "2026-11-20T09:00:00+01:00"}, ["at", "past"]),
        ({"goal": "recap"}, ["exactly one of cron", "at"]),
        ({"goal": "recap", "cron": "0 9 * * 1", "at": "2026-12-20T09:00:00+01:00"}, ["exactly one of cron"]),
        ({"goal": "recap", "cron": "every monday"}, ["cron", "5"]),
        ({"goal": "", "cron": "0 9 * * 1"}, ["goal"]),
    ],
)
def test_schedule_goal_bad_input_names_the_problem_and_writes_nothing(
    ctx: ToolContext, args: dict[str, Any], expected: list[str]
) -> None:
    outcome = invoke_tool(ctx, "schedule_goal", args)
    assert not outcome.ok
    for fragment in expected:
        assert fragment in (outcome.error or ""), outcome.error
    assert len(workflows(ctx)) == 2


def test_schedule_goal_is_idempotent(ctx: ToolContext) -> None:
    args = {"goal": "plan December", "at": "2026-12-01T09:00:00+01:00"}
    first, second = invoke_tool(ctx, "schedule_goal", args), invoke_tool(ctx, "schedule_goal", args)
    assert first.ok and second.ok and second.replayed and second.result == first.result
    assert len(workflows(ctx)) == 3


# pause / resume -------------------------------------------------------------------------------------------


def test_pause_then_resume_recomputes_the_next_run(ctx: ToolContext) -> None:
    plan_id = by_name(ctx, WEEKLY_PLAN)["id"]
    paused = invoke_tool(keyed(ctx, "k-pause"), "pause_workflow", {"workflow_id": plan_id})
    assert paused.ok and paused.result["change"]["changed"] is True  # type: ignore[index]
    assert by_name(ctx, WEEKLY_PLAN)["status"] == "paused" and by_name(ctx, WEEKLY_PLAN)["next_run_at"] is None
    assert [w["name"] for w in workflows(ctx, status="paused")] == [WEEKLY_PLAN]

    # Resumed on Thursday 3 December: the Monday 30 November run is not caught up, the next is 7 December.
    thursday = datetime(2026, 12, 3, 12, 0, tzinfo=BERLIN)
    resumed = invoke_tool(keyed(ctx, "k-resume", now=thursday), "resume_workflow", {"workflow_id": plan_id})
    assert resumed.ok and resumed.result["change"]["changed"] is True  # type: ignore[index]
    plan = by_name(ctx, WEEKLY_PLAN)
    assert plan["status"] == "active"
    assert local(plan["next_run_at"]) == datetime(2026, 12, 7, 9, 0, tzinfo=BERLIN)


def test_pausing_a_paused_workflow_is_a_clear_no_op(ctx: ToolContext) -> None:
    plan_id = by_name(ctx, WEEKLY_PLAN)["id"]
    assert invoke_tool(keyed(ctx, "k1"), "pause_workflow", {"workflow_id": plan_id}).ok
    preview = get_tool("pause_workflow").preview(
        ctx, get_tool("pause_workflow").validate({"workflow_id": plan_id}, ctx)
    )
    assert "already paused" in preview
    again = invoke_tool(keyed(ctx, "k2"), "pause_workflow", {"workflow_id": plan_id})
    assert again.ok and "already paused" in again.summary
    assert again.result["change"]["changed"] is False  # type: ignore[index]
    active_again = invoke_tool(keyed(ctx, "k3"), "resume_workflow", {"workflow_id": plan_id})
    assert active_again.ok
    resumed_twice = invoke_tool(keyed(ctx, "k4"), "resume_workflow", {"workflow_id": plan_id})
    assert resumed_twice.ok and "already active" in resumed_twice.summary


def test_pause_and_resume_are_idempotent(studio: Studio, ctx: ToolContext) -> None:
    plan_id = by_name(ctx, WEEKLY_PLAN)["id"]
    first = invoke_tool(keyed(ctx, "k-pause"), "pause_workflow", {"workflow_id": plan_id})
    assert invoke_tool(keyed(ctx, "k-resume"), "resume_workflow", {"workflow_id": plan_id}).ok
    # The pause's key again: the first result comes back and the workflow is not paused a second time.
    replay = invoke_tool(keyed(ctx, "k-pause"), "pause_workflow", {"workflow_id": plan_id})
    assert replay.ok and replay.replayed and replay.result == first.result
    assert by_name(ctx, WEEKLY_PLAN)["status"] == "active"
    service_replay = studio.automation.pause_workflow(ctx.workspace, plan_id, idempotency_key="k-pause", now=ctx.now)
    assert service_replay.action == "pause" and service_replay.changed is True
    assert by_name(ctx, WEEKLY_PLAN)["status"] == "active"


def test_resuming_a_one_off_goal_whose_time_passed_is_refused(ctx: ToolContext) -> None:
    at = ctx.now + timedelta(hours=2)
    created = invoke_tool(keyed(ctx, "k1"), "schedule_goal", {"goal": "post the recap", "at": at.isoformat()})
    workflow_id = created.result["workflow"]["id"]  # type: ignore[index]
    assert invoke_tool(keyed(ctx, "k2"), "pause_workflow", {"workflow_id": workflow_id}).ok
    late = invoke_tool(
        keyed(ctx, "k3", now=ctx.now + timedelta(days=1)), "resume_workflow", {"workflow_id": workflow_id}
    )
    assert not late.ok and "schedule the goal again" in (late.error or "")
    assert next(w for w in workflows(ctx) if w["id"] == workflow_id)["status"] == "paused"


@pytest.mark.parametrize("tool_name", ["pause_workflow", "resume_workflow", "run_workflow"])
def test_unknown_workflow_ids_are_not_found(ctx: ToolContext, tool_name: str) -> None:
    outcome = invoke_tool(ctx, tool_name, {"workflow_id": "wf_doesnotexist"})
    assert not outcome.ok and "wf_doesnotexist" in (outcome.error or "") and "list_workflows" in (outcome.error or "")
    missing = invoke_tool(ctx, tool_name, {})
    assert not missing.ok and "workflow_id" in (missing.error or "")
    assert len(runs(ctx)) == 4 and {w["status"] for w in workflows(ctx)} == {"active"}


# run_workflow ---------------------------------------------------------------------------------------------


def test_run_workflow_queues_a_manual_run(ctx: ToolContext) -> None:
    plan_id = by_name(ctx, WEEKLY_PLAN)["id"]
    outcome = invoke_tool(ctx, "run_workflow", {"workflow_id": plan_id})
    assert outcome.ok, outcome.error
    assert "Queued" in outcome.summary and "worker" in outcome.summary
    queued = runs(ctx, status="queued")
    assert len(queued) == 1
    assert queued[0]["workflow_id"] == plan_id and queued[0]["trigger"] == "manual"
    assert datetime.fromisoformat(queued[0]["queued_at"]) == ctx.now and queued[0]["started_at"] is None
    assert by_name(ctx, WEEKLY_PLAN)["last_run_status"] == "queued"


def test_run_workflow_is_idempotent(studio: Studio, ctx: ToolContext) -> None:
    plan_id = by_name(ctx, WEEKLY_PLAN)["id"]
    first, second = (invoke_tool(ctx, "run_workflow", {"workflow_id": plan_id}) for _ in range(2))
    assert first.ok and second.replayed and second.result == first.result
    again = studio.automation.run_workflow(ctx.workspace, plan_id, idempotency_key="test-key-1", now=ctx.now)
    assert again.id == first.result["run"]["id"]  # type: ignore[index]
    assert len(runs(ctx, status="queued")) == 1


def test_running_a_paused_workflow_is_refused(ctx: ToolContext) -> None:
    plan_id = by_name(ctx, WEEKLY_PLAN)["id"]
    assert invoke_tool(keyed(ctx, "k1"), "pause_workflow", {"workflow_id": plan_id}).ok
    outcome = invoke_tool(keyed(ctx, "k2"), "run_workflow", {"workflow_id": plan_id})
    assert not outcome.ok and "paused" in (outcome.error or "") and "resume" in (outcome.error or "")
    assert runs(ctx, status="queued") == []


# Workspace isolation --------------------------------------------------------------------------------------


def test_another_workspace_sees_none_of_these_workflows(studio: Studio, ctx: ToolContext) -> None:
    other_ws = studio.workspaces.create("other", "Other Studio", "UTC", DEFAULT_BRAND)
    other = replace(ctx, workspace=other_ws, idempotency_key="other-key")
    assert workflows(other) == [] and runs(other) == []
    health = invoke_tool(other, "get_system_health", {}).result["health"]  # type: ignore[index]
    assert health["status"] == "healthy" and health["workflows_by_status"] == {"active": 0, "paused": 0}
    plan_id = by_name(ctx, WEEKLY_PLAN)["id"]
    for tool_name in ("pause_workflow", "run_workflow"):
        outcome = invoke_tool(replace(other, idempotency_key=f"other-{tool_name}"), tool_name, {"workflow_id": plan_id})
        assert not outcome.ok and "no workflow" in (outcome.error or "")
    assert not invoke_tool(other, "get_workflow_runs", {"workflow_id": plan_id}).ok
    # Its own workflow is invisible from the default workspace, and may reuse a name used there.
    assert invoke_tool(
        other,
        "create_workflow",
        {"name": WEEKLY_PLAN, "trigger": {"type": "cron", "cron": "0 9 * * 1"}, "steps": [GOAL_STEP]},
    ).ok
    assert len(workflows(other)) == 1 and len(workflows(ctx)) == 2
    assert by_name(other, WEEKLY_PLAN)["trigger"]["timezone"] == "UTC"


# Cron -----------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("expression", "after", "expected"),
    [
        ("0 9 * * 1", datetime(2026, 11, 25, 15, 0), datetime(2026, 11, 30, 9, 0)),
        ("0 9 * * 1", datetime(2026, 11, 30, 9, 0), datetime(2026, 12, 7, 9, 0)),  # strictly after
        ("*/20 * * * *", datetime(2026, 11, 25, 15, 5), datetime(2026, 11, 25, 15, 20)),
        ("0 0 1 jan *", datetime(2026, 11, 25, 15, 0), datetime(2027, 1, 1, 0, 0)),
        ("0 0 29 2 *", datetime(2026, 11, 25, 15, 0), datetime(2028, 2, 29, 0, 0)),
        (
            "0 12 13 * fri",
            datetime(2026, 11, 25, 15, 0),
            datetime(2026, 11, 27, 12, 0),
        ),  # day of month OR weekday
        ("0 9 * * 7", datetime(2026, 11, 25, 15, 0), datetime(2026, 11, 29, 9, 0)),  # 7 is Sunday
        ("15 10 * * mon-fri", datetime(2026, 11, 27, 11, 0), datetime(2026, 11, 30, 10, 15)),
        # 29 March 2026: 02:30 does not exist in Berlin, the run happens right after the jump.
        ("30 2 * * *", datetime(2026, 3, 28, 12, 0), datetime(2026, 3, 29, 3, 30)),
    ],
)
def test_cron_next_run(expression: str, after: datetime, expected: datetime) -> None:
    result = CronSchedule.parse(expression).next_after(after.replace(tzinfo=BERLIN), BERLIN)
    assert result.astimezone(BERLIN).replace(tzinfo=None) == expected
    assert result.tzinfo == UTC


def test_cron_runs_once_when_the_clocks_go_back() -> None:
    schedule = CronSchedule.parse("30 2 * * *")
    first = schedule.next_after(datetime(2026, 10, 24, 12, 0, tzinfo=UTC), BERLIN)
    assert first == datetime(2026, 10, 25, 0, 30, tzinfo=UTC)  # 02:30 CEST, the first of the two
    second = schedule.next_after(first, BERLIN)
    assert second.astimezone(BERLIN).replace(tzinfo=None) == datetime(2026, 10, 26, 2, 30)
