"""Running one cross-module workflow in the simulated world: ten steps, one correlation id, one event each.

Each workflow is an Automation Lab template (`automation/templates/<name>.yaml`): ten `code` steps that call
this package's registered step functions, with `wait` steps between them. `run_in_world` saves the template in
the workspace, opens a run with the workflow's correlation id and lets a worker execute it; when the run waits,
the world's clock moves to the wait's end (an hour at a time, so the audience lives through it). Every step is
a step run (`studio workflows runs`), every tool call carries the correlation id as its run id, and each step
function reads the earlier steps' results.

A step calls the product's real tools (`StepContext.call`: validation, the idempotency ledger, the events the
tools publish themselves) and ends with the event that says it happened (`mark`). Tools whose own event is the
step's event (`publish_post` → content.published) carry the workflow's correlation id through their run id.
Side-effect tools run only if the workspace policy auto-approves them (`Workspace.auto_approve`): the simulated
month has no person to ask, so a tool outside the policy stops the workflow with a clear error.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from creator_studio.automation.functions import StepContext
from creator_studio.errors import StudioError
from creator_studio.events.schemas import Event
from creator_studio.sandbox.world import World
from creator_studio.studio import Studio
from creator_studio.workspaces.service import Workspace

SOURCE = "workflow"


class WorkflowStepFailed(StudioError):
    code = "workflow_step_failed"


@dataclass(frozen=True)
class StepSpec:
    name: str
    module: str
    event: str  # the event type that records the step
    marked: bool = True  # False: the step's event is published by a tool or the world, not by the workflow


@dataclass
class WorkflowReport:
    workflow: str
    correlation_id: str
    run_id: str = ""
    starting_post_id: str | None = None
    attributed_revenue_cents: int = 0
    facts: dict[str, Any] = field(default_factory=dict)


def world_of(ctx: StepContext) -> World:
    world = ctx.need("world")
    if not isinstance(world, World):
        raise StudioError("the run's 'world' is not a simulated World")
    return world


def mark(ctx: StepContext, workflow: str, steps: list[StepSpec], number: int, data: dict[str, Any]) -> Event:
    """Record step `number` as its event, carrying the workflow's correlation id."""
    spec = steps[number - 1]
    return ctx.studio.events.publish(spec.event, ctx.workspace.id, {
        **data, "workflow": workflow, "workflow_step": number, "step_name": spec.name, "module": spec.module},
        source=SOURCE, correlation_id=ctx.correlation_id)


def started_at(ctx: StepContext, first_step: str) -> datetime:
    """When the workflow's first step ran (in the world's time): the window its later steps look at."""
    return datetime.fromisoformat(ctx.result(first_step)["started_at"])


def run_in_world(studio: Studio, ws: Workspace, world: World, *, template: str, workflow: str,
                 correlation_id: str) -> WorkflowReport:
    """Run `template` as an Automation Lab workflow in `world` until it ends; its report, from its steps'
    results. A failed run raises `WorkflowStepFailed` with the engine's error (which step, and why)."""
    from creator_studio.automation.templates import load_template
    from creator_studio.automation.worker import Worker, WorkerOptions

    saved, _ = studio.automation.save_workflow(ws, load_template(template), now=studio.now())
    worker = Worker(studio, WorkerOptions(worker_id=f"simulated-world-{world.seed}", consume_events=False,
                                          schedule=False))
    worker.engine.environment["world"] = world
    try:
        run_id = worker.engine.open_run(workspace_id=ws.id, workflow_id=saved.id, trigger="manual",
                                        key=f"world:{ws.id}:{correlation_id}",
                                        context={"correlation_id": correlation_id}, now=studio.now())
        from creator_studio.automation.jobs import NewJob

        worker.jobs.enqueue([NewJob(workspace_id=ws.id, kind="workflow_run", key=f"world:{run_id}",
                                    payload={"run_id": run_id}, due_at=studio.now())], now=studio.now())

        def advance_to(due: datetime) -> None:
            while world.now < due:
                world.advance(hours=1)

        status = worker.run_to_end(run_id, advance_to=advance_to)
    finally:
        worker.engine.close()
    runs = {r.id: r for r in studio.automation.runs(ws, workflow_id=saved.id, limit=500)}
    if status != "succeeded":
        error = runs[run_id].error if run_id in runs else None
        raise WorkflowStepFailed(f"{workflow}: the run ended {status}: {error or 'see `studio workflows runs`'}")
    report = WorkflowReport(workflow=workflow, correlation_id=correlation_id, run_id=run_id)
    for step in studio.automation.step_runs(ws, run_id):
        output = step.output or {}
        if "starting_post_id" in output:
            report.starting_post_id = output["starting_post_id"]
        if "attributed_revenue_cents" in output:
            report.attributed_revenue_cents = int(output["attributed_revenue_cents"])
        report.facts.update(output.get("facts", {}))
    return report


def steps_in_order(events: list[Event], steps: list[StepSpec]) -> list[Event]:
    """The event of each step, in order (what the tests and the demo check): a later step's event must come
    after an earlier one's. Raises AssertionError naming the first step that is missing or out of order."""
    found: list[Event] = []
    start = 0
    for number, spec in enumerate(steps, start=1):
        for index in range(start, len(events)):
            event = events[index]
            if event.type == spec.event and (not spec.marked or event.data.get("workflow_step") == number):
                found.append(event)
                start = index + 1
                break
        else:
            raise AssertionError(f"step {number} ({spec.name}) has no {spec.event} event after step {number - 1}")
    return found
