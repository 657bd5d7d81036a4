"""Step functions: named Python steps a workflow's `code` steps call (like n8n's Code node).

A function is registered under a name (`@step_function("acquisition.publish_across_platforms")`) and gets a
`StepContext`: the studio and workspace, the run's correlation id (passed as the run id of every tool call it
makes, so the tools' own events carry it), the results of the run's earlier steps, its rendered `args`, and the
objects the run was started with (`environment`: the simulated world in the sandbox). What it returns (a JSON
mapping) is the step's result, stored with the run and readable by later steps. A function that cannot go on
raises `StepFailed` with a message for the creator; the engine records it and applies the step's retries.

Tool calls go through `StepContext.call`: `invoke_tool` (validation, the idempotency ledger keyed by run,
position, attempt and call number, so a step re-run after a crash replays its calls instead of acting twice),
and side-effect tools only when the workspace policy auto-approves them (a workflow has nobody to ask).
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from creator_studio.studio import Studio
    from creator_studio.tools.invoke import ToolOutcome
    from creator_studio.workspaces.service import Workspace

# The modules that register step functions when imported (the sandbox's cross-module workflows).
FUNCTION_MODULES = (
    "creator_studio.sandbox.workflows.acquisition",
    "creator_studio.sandbox.workflows.revenue_optimisation",
    "creator_studio.sandbox.workflows.community",
)


class StepFailed(Exception):
    """A step could not do its work; the message says why (and what to do)."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


@dataclass
class StepContext:
    studio: Studio
    workspace: Workspace
    run_id: str  # the workflow run
    correlation_id: str  # what the run's events and tool calls carry (the run id unless it was given one)
    position: int
    attempt: int
    args: dict[str, Any]
    event: dict[str, Any]  # what triggered the run
    results: dict[str, dict[str, Any]]  # earlier code steps' results, by function name
    environment: Mapping[str, Any] = field(default_factory=dict)
    _calls: int = 0

    @property
    def now(self) -> datetime:
        return self.studio.now()

    def result(self, function: str) -> dict[str, Any]:
        """The result of an earlier step; a workflow whose steps are out of order fails with a clear error."""
        if function not in self.results:
            raise StepFailed(f"this step needs the result of {function}, which has not run earlier in this workflow")
        return self.results[function]

    def need(self, name: str) -> Any:
        """An object the run was started with (e.g. `world`)."""
        if name not in self.environment:
            raise StepFailed(f"this step needs the {name!r} the run is started with; run this workflow where it "
                             f"exists (the simulated world: `studio demo --days 30`)")
        return self.environment[name]

    def call(self, tool: str, args: dict[str, Any], *, agent: str) -> dict[str, Any]:
        """One tool call; its result. A failure or a side effect outside the policy fails the step."""
        from creator_studio.tools.invoke import get_tool

        spec = get_tool(tool)
        if spec.side_effect and tool not in self.workspace.auto_approve:
            raise StepFailed(f"{tool} needs approval and the workspace policy does not auto-approve it; add it to "
                             f"the workspace's auto_approve list or run the step yourself")
        self._calls += 1
        outcome = invoke_workflow_tool(
            self.studio, self.workspace, tool, args, agent=agent, run_id=self.correlation_id,
            key=f"wf:{self.run_id}:{self.position}:{self.attempt}:{self._calls}:{tool}")
        if not outcome.ok or outcome.result is None:
            raise StepFailed(f"{tool} failed: {outcome.error}")
        return outcome.result


def invoke_workflow_tool(studio: Studio, workspace: Workspace, tool: str, args: dict[str, Any], *, agent: str,
                         run_id: str, key: str) -> ToolOutcome:
    """A workflow's tool call (a `tool` step's, or one inside a `code` step): journaled under the run's
    correlation id, with an idempotency key unique to the step and attempt, so a step re-run after a crash
    replays the call instead of acting twice."""
    from creator_studio.tools.base import ToolContext
    from creator_studio.tools.invoke import invoke_tool

    ctx = ToolContext(studio=studio, workspace=workspace, agent=agent, now=studio.now(), run_id=run_id,
                      journal=True, idempotency_key=key)
    return invoke_tool(ctx, tool, args)


StepFunction = Callable[[StepContext], dict[str, Any]]
_REGISTRY: dict[str, StepFunction] = {}


def step_function(name: str) -> Callable[[StepFunction], StepFunction]:
    """Register `fn` under `name` (group.name); a second function under the same name is a mistake."""

    def register(fn: StepFunction) -> StepFunction:
        existing = _REGISTRY.get(name)
        if existing is not None and existing is not fn:
            raise ValueError(f"step function {name!r} is registered twice ({existing.__module__}, {fn.__module__})")
        _REGISTRY[name] = fn
        return fn

    return register


def load_step_functions() -> dict[str, StepFunction]:
    for module in FUNCTION_MODULES:
        importlib.import_module(module)
    return dict(_REGISTRY)


def get_step_function(name: str) -> StepFunction:
    functions = load_step_functions()
    if name not in functions:
        raise StepFailed(f"there is no step function {name!r} (the workflow was saved with a function that has "
                         f"since been removed)")
    return functions[name]
