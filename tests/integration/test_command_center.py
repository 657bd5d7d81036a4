"""The Command Center graph end to end with the offline model: routing, approvals, parallelism, budgets."""

from __future__ import annotations

import time
from datetime import datetime

import pytest

from creator_studio.runs.approvals import ApprovalDecision
from creator_studio.runs.runner import Runner
from creator_studio.studio import Studio
from creator_studio.tools.base import ToolContext
from creator_studio.tools.invoke import invoke_tool

pytestmark = pytest.mark.integration

SCHEDULE_GOAL = "Draft a Bluesky post about my new course and schedule it for Friday 9am"


def _tools(outcome: object) -> list[str]:
    return [c.tool for c in outcome.tool_calls]  # type: ignore[attr-defined]


def test_single_agent_goal_drafts_and_schedules_at_friday_nine(runner: Runner, studio: Studio,
                                                              ctx: ToolContext) -> None:
    outcome = runner.start(SCHEDULE_GOAL, auto_approve=True)
    assert outcome.status == "completed"
    assert outcome.agents == ["content"]
    assert _tools(outcome) == ["draft_post", "schedule_post"]
    assert all(c.arguments["platform"] == "bluesky" for c in outcome.tool_calls)
    [approval] = outcome.approvals
    assert approval.tool == "schedule_post" and approval.status == "approved"
    assert outcome.model.calls >= 2 and outcome.model.prompt_tokens > 0
    calendar = invoke_tool(ctx, "get_content_calendar", {})
    scheduled = [e for e in calendar.result["entries"] if e["kind"] == "scheduled"]  # type: ignore[index]
    assert len(scheduled) == 1
    local = datetime.fromisoformat(scheduled[0]["at"]).astimezone(ctx.zone)
    assert (local.strftime("%A"), local.hour, local.minute) == ("Friday", 9, 0)
    assert local.date().isoformat() == "2026-11-27"  # the Friday after Wednesday 25 November


def test_side_effect_waits_for_approval_then_runs_once_approved(runner: Runner, ctx: ToolContext) -> None:
    outcome = runner.start(SCHEDULE_GOAL)
    assert outcome.status == "waiting_approval"
    [pending] = outcome.pending_approvals
    assert pending.tool == "schedule_post" and "Bluesky" in pending.preview and "09:00" in pending.preview
    assert _tools(outcome) == ["draft_post"]  # nothing scheduled before the decision
    assert not _scheduled(ctx)
    outcome = runner.decide(pending.id, ApprovalDecision(decision="approve"))
    assert outcome.status == "completed"
    assert len(_scheduled(ctx)) == 1
    again = runner.resume(outcome.run_id)  # resuming a finished run changes nothing
    assert again.status == "completed" and len(_scheduled(ctx)) == 1


def test_rejected_action_does_not_happen_and_the_agent_says_so(runner: Runner, ctx: ToolContext) -> None:
    outcome = runner.start(SCHEDULE_GOAL)
    [pending] = outcome.pending_approvals
    outcome = runner.decide(pending.id, ApprovalDecision(decision="reject", reason="wrong day"))
    assert outcome.status == "completed"
    assert not _scheduled(ctx)
    assert "schedule_post" in (outcome.answer or "") and "rejected" in (outcome.answer or "")
    assert outcome.approvals[0].status == "rejected" and outcome.approvals[0].reason == "wrong day"


def test_edited_approval_runs_with_the_new_arguments(runner: Runner, ctx: ToolContext) -> None:
    outcome = runner.start(SCHEDULE_GOAL)
    [pending] = outcome.pending_approvals
    outcome = runner.decide(pending.id, ApprovalDecision(decision="edit", arguments={
        "publish_at": "2026-11-30T18:30:00+01:00"}))
    assert outcome.status == "completed"
    [entry] = _scheduled(ctx)
    assert datetime.fromisoformat(entry["at"]).astimezone(ctx.zone).strftime("%a %H:%M") == "Mon 18:30"
    assert outcome.approvals[0].status == "edited"


def test_an_invalid_edit_is_refused_with_the_field_named(runner: Runner, ctx: ToolContext) -> None:
    from creator_studio.errors import InvalidInput

    outcome = runner.start(SCHEDULE_GOAL)
    [pending] = outcome.pending_approvals
    with pytest.raises(InvalidInput, match="publish_at"):
        runner.decide(pending.id, ApprovalDecision(decision="edit", arguments={"publish_at": "2020-01-01T09:00:00Z"}))
    assert runner.studio.approvals.get(pending.id).status == "pending"
    assert not _scheduled(ctx)


def test_policy_auto_approves_named_tools_without_pausing(runner: Runner, studio: Studio, ctx: ToolContext) -> None:
    studio.workspaces.update("default", auto_approve=["schedule_post"])
    outcome = runner.start(SCHEDULE_GOAL)
    assert outcome.status == "completed"
    assert outcome.approvals[0].decided_by == "policy"
    assert len(_scheduled(ctx)) == 1


def test_out_of_scope_goal_calls_no_tools(runner: Runner) -> None:
    outcome = runner.start("What's the capital of France?")
    assert outcome.status == "completed"
    assert outcome.agents == [] and outcome.tool_calls == []
    assert outcome.model.calls == 0
    assert "outside what I do" in (outcome.answer or "")


def test_empty_goal_is_refused_before_anything_is_written(runner: Runner, studio: Studio) -> None:
    from creator_studio.errors import InvalidInput

    with pytest.raises(InvalidInput, match="goal is empty"):
        runner.start("   ")
    assert studio.runs.recent("default") == []


def test_independent_subtasks_run_in_parallel(runner: Runner, studio: Studio, monkeypatch: pytest.MonkeyPatch
                                             ) -> None:
    """Two agents' read tools each take 0.6 s; overlapping intervals prove they ran at the same time."""
    from creator_studio.content.service import ContentService

    original = ContentService.calendar

    def slow_calendar(self: ContentService, *args: object, **kwargs: object) -> object:
        time.sleep(0.6)
        return original(self, *args, **kwargs)  # type: ignore[arg-type]

    comments = type(studio.engagement).comments

    def slow_comments(self: object, *args: object, **kwargs: object) -> object:
        time.sleep(0.6)
        return comments(self, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(ContentService, "calendar", slow_calendar)
    monkeypatch.setattr(type(studio.engagement), "comments", slow_comments)
    started = time.perf_counter()
    outcome = runner.start("show my content calendar and list the new comments on mastodon", auto_approve=True)
    elapsed = time.perf_counter() - started
    assert sorted(outcome.agents) == ["content", "engagement"]
    calls = {c.tool: c for c in outcome.steps if c.kind == "tool"}
    calendar, listing = calls["get_content_calendar"], calls["list_comments"]
    assert calendar.started_at < listing.ended_at and listing.started_at < calendar.ended_at
    assert elapsed < 1.2 + 2.0  # serial would be at least 1.2 s of tool time plus overhead


def test_budget_stops_a_run_cleanly_with_an_explanation(studio: Studio) -> None:
    studio.settings.max_model_calls = 1
    runner = Runner(studio)
    try:
        outcome = runner.start(SCHEDULE_GOAL, auto_approve=True)
    finally:
        runner.close()
    assert outcome.status == "completed"
    assert "limit of 1 model calls" in (outcome.answer or "") and "STUDIO_MAX_MODEL_CALLS" in (outcome.answer or "")
    assert outcome.model.calls <= 2  # the one allowed turn plus the writer call its tool made


def test_two_agents_with_a_dependency_hand_over_the_draft(runner: Runner, studio: Studio) -> None:
    outcome = runner.start("Draft a newsletter about the January cohort and send it to the waitlist",
                           auto_approve=True)
    assert outcome.status == "completed", outcome.error
    assert outcome.agents == ["content", "revenue"]
    send = next(c for c in outcome.tool_calls if c.tool == "send_email_campaign")
    draft = next(c for c in outcome.tool_calls if c.tool == "draft_newsletter")
    assert send.status == "ok", send.summary
    assert send.arguments["draft_id"] in draft.summary


def _scheduled(ctx: ToolContext) -> list[dict[str, str]]:
    calendar = invoke_tool(ctx, "get_content_calendar", {})
    return [e for e in calendar.result["entries"] if e["kind"] == "scheduled"]  # type: ignore[index]
