"""Automation Lab tools (tools.md § automation). Thin: validate, call the service, shape the result."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import Field, field_validator, model_validator

from creator_studio.automation.definitions import (
    CronTrigger,
    OnceTrigger,
    Step,
    Trigger,
    WorkflowDefinition,
    check_cron,
    check_steps,
    describe_cron,
)
from creator_studio.automation.service import SystemHealth, Workflow, WorkflowRun, WorkflowStatusChange
from creator_studio.tools.base import ToolArgs, ToolContext, ToolResult, tool
from creator_studio.tools.types import FutureDatetime


def _when(ctx: ToolContext, moment: datetime | None) -> str:
    if moment is None:
        return "no scheduled time"
    return f"{moment.astimezone(ctx.zone).strftime('%a %d %b %Y %H:%M')} ({ctx.workspace.timezone})"


def _trigger_text(ctx: ToolContext, trigger: Trigger) -> str:
    return trigger.describe(ctx.zone)


def _next_text(ctx: ToolContext, next_run_at: datetime | None) -> str:
    return f"; next run {_when(ctx, next_run_at)}" if next_run_at else ""


class WorkflowsResult(ToolResult):
    workflows: list[Workflow]


class WorkflowResult(ToolResult):
    workflow: Workflow


# Reading -------------------------------------------------------------------------------------------------


class ListWorkflowsArgs(ToolArgs):
    status: Literal["active", "paused"] | None = None


@tool("automation")
def list_workflows(ctx: ToolContext, args: ListWorkflowsArgs) -> WorkflowsResult:
    """List the workspace's workflows (optionally only active or paused ones) with their triggers, steps,
    next run and last run."""
    workflows = ctx.studio.automation.list_workflows(ctx.workspace, status=args.status)
    if not workflows:
        which = f"{args.status} " if args.status else ""
        return WorkflowsResult(summary=f"There are no {which}workflows yet.", workflows=[])
    active = sum(1 for w in workflows if w.status == "active")
    return WorkflowsResult(
        summary=f"{len(workflows)} workflow(s): {active} active, {len(workflows) - active} "
        f"paused ({', '.join(w.name for w in workflows)}).",
        workflows=workflows,
    )


class WorkflowRunsArgs(ToolArgs):
    workflow_id: str | None = None
    status: Literal["queued", "running", "waiting", "succeeded", "failed", "skipped", "cancelled"] | None = None


class WorkflowRunsResult(ToolResult):
    runs: list[WorkflowRun]


@tool("automation")
def get_workflow_runs(ctx: ToolContext, args: WorkflowRunsArgs) -> WorkflowRunsResult:
    """Recent runs of all workflows or of one, newest first, optionally only in one status (e.g. failed),
    with the error of each failed run."""
    runs = ctx.studio.automation.runs(ctx.workspace, workflow_id=args.workflow_id, status=args.status)
    if not runs:
        return WorkflowRunsResult(summary="No workflow runs match.", runs=[])
    failed = [r for r in runs if r.status == "failed"]
    latest = runs[0]
    summary = f"{len(runs)} run(s); latest: {latest.workflow_name} {latest.status} at {_when(ctx, latest.queued_at)}"
    if failed:
        summary += f"; {len(failed)} failed (latest error: {failed[0].error})"
    return WorkflowRunsResult(summary=summary + ".", runs=runs)


class SystemHealthArgs(ToolArgs):
    pass


class SystemHealthResult(ToolResult):
    health: SystemHealth


@tool("automation")
def get_system_health(ctx: ToolContext, args: SystemHealthArgs) -> SystemHealthResult:
    """Is automation healthy? Checks the database, workflows by status, failed runs in the last 24 hours,
    overdue schedules and runs stuck in the queue, and gives the reasons when degraded."""
    health = ctx.studio.automation.system_health(ctx.workspace, now=ctx.now)
    counts = ", ".join(f"{n} {status}" for status, n in health.workflows_by_status.items())
    if health.status == "healthy":
        summary = f"Automation is healthy: {counts or 'no'} workflows, no failed runs in the last 24 h."
    else:
        summary = "Automation is degraded: " + "; ".join(health.reasons) + "."
    return SystemHealthResult(summary=summary, health=health)


# Creating ------------------------------------------------------------------------------------------------


class CreateWorkflowArgs(ToolArgs):
    name: str = Field(min_length=1, max_length=120, description="A name the creator recognises.")
    trigger: Trigger = Field(
        description='What starts it: {"type": "cron", "cron": "0 9 * * 1"}, '
        '{"type": "event", "event": "revenue.payment_failed"} or '
        '{"type": "threshold", "metric": "engagement_rate", "op": "<", '
        '"value": 0.02, "window": "7d"}.'
    )
    steps: list[Step] = Field(
        description='What it does, in order: {"type": "tool", "tool": ..., "args": {...}}, '
        '{"type": "goal", "goal": ...}, {"type": "wait", "duration": "2d"}, '
        '{"type": "condition", "if": {"field": ..., "op": ..., "value": ...}}.'
    )

    @field_validator("steps")
    @classmethod
    def _check_steps(cls, value: list[Any]) -> list[Any]:
        return check_steps(value)


def _steps_text(steps: list[Any]) -> str:
    return "; ".join(f"{i}. {step.describe()}" for i, step in enumerate(steps, start=1))


def _preview_create(ctx: ToolContext, args: CreateWorkflowArgs) -> str:
    next_run = ctx.studio.automation.next_run_at(ctx.workspace, args.trigger, ctx.now)
    return (
        f"Create the workflow “{args.name}” (active), started {_trigger_text(ctx, args.trigger)}"
        f"{_next_text(ctx, next_run)}.\nSteps: {_steps_text(args.steps)}"
    )


@tool("automation", side_effect=True, preview=_preview_create)
def create_workflow(ctx: ToolContext, args: CreateWorkflowArgs) -> WorkflowResult:
    """Create a workflow: a trigger (a cron schedule, an event like revenue.payment_failed, or a metric
    threshold) and the steps to run (tool calls, goals, waits, conditions). It starts active."""
    workflow = ctx.studio.automation.create_workflow(
        ctx.workspace,
        name=args.name,
        definition=WorkflowDefinition(trigger=args.trigger, steps=args.steps),
        idempotency_key=ctx.require_idempotency_key(),
        now=ctx.now,
    )
    return WorkflowResult(
        summary=f"Created the workflow “{workflow.name}” ({workflow.id}), started "
        f"{_trigger_text(ctx, workflow.trigger)}{_next_text(ctx, workflow.next_run_at)}.",
        workflow=workflow,
    )


class ScheduleGoalArgs(ToolArgs):
    goal: str = Field(min_length=3, max_length=2000, description="What the Command Center should do then.")
    cron: str | None = Field(default=None, description="Repeat on this cron schedule, e.g. '0 9 * * 1'.")
    at: FutureDatetime | None = Field(default=None, description="Or run once at this time (ISO 8601).")

    @field_validator("cron")
    @classmethod
    def _check_cron(cls, value: str | None) -> str | None:
        return None if value is None else check_cron(value)

    @model_validator(mode="after")
    def _one_time(self) -> ScheduleGoalArgs:
        if (self.cron is None) == (self.at is None):
            raise ValueError("give exactly one of cron (repeating, e.g. '0 9 * * 1') or at (one time)")
        return self


def _preview_schedule_goal(ctx: ToolContext, args: ScheduleGoalArgs) -> str:
    if args.cron is not None:
        when = f"{describe_cron(args.cron)} ({ctx.workspace.timezone})"
        next_run = ctx.studio.automation.next_run_at(ctx.workspace, CronTrigger(cron=args.cron), ctx.now)
        return f"Run the goal “{args.goal}” {when}{_next_text(ctx, next_run)}."
    assert args.at is not None
    return f"Run the goal “{args.goal}” once, at {_when(ctx, args.at)}."


@tool("automation", side_effect=True, preview=_preview_schedule_goal)
def schedule_goal(ctx: ToolContext, args: ScheduleGoalArgs) -> WorkflowResult:
    """Schedule a goal for the team to pursue on its own later: repeating (cron) or once (at). It becomes a
    workflow with one goal step, so it can be listed, paused and resumed like any workflow."""
    workflow = ctx.studio.automation.schedule_goal(
        ctx.workspace,
        goal=args.goal,
        cron=args.cron,
        at=args.at,
        idempotency_key=ctx.require_idempotency_key(),
        now=ctx.now,
    )
    repeat = "" if isinstance(workflow.trigger, OnceTrigger) else f", {_trigger_text(ctx, workflow.trigger)}"
    return WorkflowResult(
        summary=f"Scheduled “{args.goal}” as workflow {workflow.id}{repeat}; "
        f"first run {_when(ctx, workflow.next_run_at)}.",
        workflow=workflow,
    )


# Changing status and running -----------------------------------------------------------------------------


class WorkflowIdArgs(ToolArgs):
    workflow_id: str = Field(min_length=1, description="The id from list_workflows, e.g. wf_1a2b3c4d5e6f.")


class StatusChangeResult(ToolResult):
    change: WorkflowStatusChange


def _preview_pause(ctx: ToolContext, args: WorkflowIdArgs) -> str:
    workflow = ctx.studio.automation.get_workflow(ctx.workspace, args.workflow_id)
    if workflow.status == "paused":
        return f"“{workflow.name}” is already paused: nothing will change."
    return f"Pause the workflow “{workflow.name}”: it will not run until resumed."


@tool("automation", side_effect=True, preview=_preview_pause)
def pause_workflow(ctx: ToolContext, args: WorkflowIdArgs) -> StatusChangeResult:
    """Pause a workflow so that its trigger no longer starts it (pausing a paused one changes nothing)."""
    change = ctx.studio.automation.pause_workflow(
        ctx.workspace, args.workflow_id, idempotency_key=ctx.require_idempotency_key(), now=ctx.now
    )
    name = change.workflow.name
    summary = (
        f"Paused “{name}”; it will not run until resumed."
        if change.changed
        else f"“{name}” was already paused; nothing changed."
    )
    return StatusChangeResult(summary=summary, change=change)


def _preview_resume(ctx: ToolContext, args: WorkflowIdArgs) -> str:
    workflow = ctx.studio.automation.get_workflow(ctx.workspace, args.workflow_id)
    if workflow.status == "active":
        return f"“{workflow.name}” is already active: nothing will change."
    next_run = ctx.studio.automation.next_run_at(ctx.workspace, workflow.trigger, ctx.now)
    return (
        f"Resume the workflow “{workflow.name}”, started {_trigger_text(ctx, workflow.trigger)}"
        f"{_next_text(ctx, next_run)}."
    )


@tool("automation", side_effect=True, preview=_preview_resume)
def resume_workflow(ctx: ToolContext, args: WorkflowIdArgs) -> StatusChangeResult:
    """Resume a paused workflow; its schedule restarts from now (missed runs are not caught up)."""
    change = ctx.studio.automation.resume_workflow(
        ctx.workspace, args.workflow_id, idempotency_key=ctx.require_idempotency_key(), now=ctx.now
    )
    workflow = change.workflow
    summary = (
        f"Resumed “{workflow.name}”{_next_text(ctx, workflow.next_run_at)}."
        if change.changed
        else f"“{workflow.name}” was already active; nothing changed."
    )
    return StatusChangeResult(summary=summary, change=change)


class RunResult(ToolResult):
    run: WorkflowRun


def _preview_run(ctx: ToolContext, args: WorkflowIdArgs) -> str:
    workflow = ctx.studio.automation.get_workflow(ctx.workspace, args.workflow_id)
    return f"Queue a manual run of “{workflow.name}” now.\nSteps: {_steps_text(workflow.steps)}"


@tool("automation", side_effect=True, preview=_preview_run)
def run_workflow(ctx: ToolContext, args: WorkflowIdArgs) -> RunResult:
    """Run an active workflow now, whatever its trigger: queues a manual run for the workflow worker."""
    run = ctx.studio.automation.run_workflow(
        ctx.workspace, args.workflow_id, idempotency_key=ctx.require_idempotency_key(), now=ctx.now
    )
    return RunResult(
        summary=f"Queued a manual run of “{run.workflow_name}” ({run.id}); it starts when the "
        f"workflow worker picks it up.",
        run=run,
    )
