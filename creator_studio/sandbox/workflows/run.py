"""Running one cross-module workflow in the simulated world: ten steps, one correlation id, one event each.

A step calls the product's real tools (through `invoke_tool`: validation, the idempotency ledger, the events the
tools publish themselves) and ends with the event that says it happened. Tools whose own event is the step's
event (`publish_post` → content.published) get the workflow's correlation id as their run id. Side-effect tools
run only if the workspace policy auto-approves them (`Workspace.auto_approve`): the simulated month has no
person to ask, so a tool outside the policy stops the workflow with a clear error instead of acting.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from creator_studio.errors import StudioError
from creator_studio.events.schemas import Event
from creator_studio.sandbox.world import World
from creator_studio.studio import Studio
from creator_studio.tools.base import ToolContext
from creator_studio.tools.invoke import get_tool, invoke_tool
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
    starting_post_id: str | None = None
    attributed_revenue_cents: int = 0
    facts: dict[str, Any] = field(default_factory=dict)


class WorkflowRun:
    def __init__(self, studio: Studio, ws: Workspace, world: World, name: str, steps: list[StepSpec],
                 correlation_id: str) -> None:
        if len(steps) != 10:
            raise ValueError(f"workflow {name} must have ten steps, got {len(steps)}")
        self.studio, self.ws, self.world, self.name, self.steps = studio, ws, world, name, steps
        self.correlation_id = correlation_id
        self.report = WorkflowReport(workflow=name, correlation_id=correlation_id)
        self._calls = 0

    def call(self, tool: str, args: dict[str, Any], *, agent: str) -> dict[str, Any]:
        """One real tool call; its result as JSON. A failure or a missing approval stops the workflow."""
        spec = get_tool(tool)
        if spec.side_effect and tool not in self.ws.auto_approve:
            raise WorkflowStepFailed(f"{self.name}: {tool} needs approval and the workspace policy does not "
                                     f"auto-approve it; add it with `studio workspace` auto_approve or approve it")
        self._calls += 1
        ctx = ToolContext(studio=self.studio, workspace=self.ws, agent=agent, now=self.world.now,
                          run_id=self.correlation_id, idempotency_key=f"{self.correlation_id}:{self._calls}:{tool}",
                          journal=True)
        outcome = invoke_tool(ctx, tool, args)
        if not outcome.ok or outcome.result is None:
            raise WorkflowStepFailed(f"{self.name}: {tool} failed: {outcome.error}")
        return outcome.result

    def step(self, number: int, data: dict[str, Any]) -> Event:
        """Record step `number` as its event, carrying the workflow's correlation id."""
        spec = self.steps[number - 1]
        return self.studio.events.publish(spec.event, self.ws.id, {
            **data, "workflow": self.name, "workflow_step": number, "step_name": spec.name, "module": spec.module},
            source=SOURCE, correlation_id=self.correlation_id)

    def finish(self) -> WorkflowReport:
        self.studio.events.publish("system.workflow_completed", self.ws.id, {
            "workflow_id": self.name, "run_id": self.correlation_id, "status": "succeeded",
            "starting_post_id": self.report.starting_post_id,
            "attributed_revenue_cents": self.report.attributed_revenue_cents}, source=SOURCE,
            correlation_id=self.correlation_id)
        return self.report


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
