"""Executing a workflow run: its steps, in order, each attempt recorded as a step run.

Steps are compiled into a flat program (branches become conditional jumps), so a run is just a cursor into
that program: a run that waits (a wait step, or a retry's delay) stores its cursor, queues a job for when it
should continue, and the job's worker picks it up from there. Tool steps go through `tools.invoke` (the
idempotency ledger, keyed by run, position and attempt, so a run resumed after a crash replays instead of
acting twice). Goal steps start a Command Center run whose id is derived from (run, position, attempt): a step
executed again after its worker died finds that run and resumes or reads it instead of starting a second one.
A goal's text is the template's own words only; `{{event.x}}` values are handed over as quoted, untrusted
data beside it (see `goal_request`), never spliced into the instructions. Code steps call a registered step
function (`automation.functions`). A run that fails after its retries starts the workflow's error workflow,
with the failure as its event.

A run's correlation id (what its tool calls carry as their run id, and its completion event) is the run id,
unless the run was opened with a `correlation_id` in its context.
"""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, Literal

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from creator_studio.automation.definitions import (
    BranchStep,
    CodeStep,
    Condition,
    ConditionStep,
    GoalStep,
    ToolStep,
    WaitStep,
    WorkflowDefinition,
    parse_duration,
)
from creator_studio.automation.functions import StepContext, StepFailed, get_step_function, invoke_workflow_tool
from creator_studio.automation.jobs import JobStore, NewJob
from creator_studio.automation.metrics import MetricSource
from creator_studio.automation.models import WorkflowRow, WorkflowRunRow, WorkflowStepRunRow, WorkflowVersionRow
from creator_studio.errors import NotFound, StudioError
from creator_studio.events.schemas import Event
from creator_studio.logs import get_logger
from creator_studio.prompts import quote_untrusted
from creator_studio.prompts import render as render_prompt
from creator_studio.store.db import new_id

if TYPE_CHECKING:
    from creator_studio.runs.runner import Runner, RunOutcome
    from creator_studio.studio import Studio

log = get_logger("automation.engine")

EVENT_NAMESPACE = uuid.UUID("5b0d7a52-8c1e-4f0a-9d43-7a1f3c2e9b10")
GOAL_RUN_NAMESPACE = uuid.UUID("0f6e3c1a-7d24-4b8e-a5c9-2e81d4b7f360")
# A condition on a metric reads it over this window.
CONDITION_WINDOW = timedelta(days=7)
_PLACEHOLDER = re.compile(r"\{\{\s*([A-Za-z_][A-Za-z0-9_.]*)\s*\}\}")


@dataclass(frozen=True)
class Instruction:
    op: Literal["step", "branch", "jump"]
    step: Any = None
    target: int = -1  # branch: where the else part starts; jump: where to continue


def compile_steps(steps: list[Any]) -> list[Instruction]:
    program: list[Instruction] = []

    def emit(items: list[Any]) -> None:
        for step in items:
            if not isinstance(step, BranchStep):
                program.append(Instruction("step", step))
                continue
            branch_at = len(program)
            program.append(Instruction("branch", step))
            emit(step.then)
            jump_at = len(program)
            if step.else_:
                program.append(Instruction("jump"))
            program[branch_at] = Instruction("branch", step, target=len(program))
            if step.else_:
                emit(step.else_)
                program[jump_at] = Instruction("jump", target=len(program))

    emit(steps)
    return program


def lookup(context: dict[str, Any], path: str) -> Any:
    """`event.customer.email` in the run's context; None when any part is missing."""
    value: Any = context
    for part in path.split("."):
        if not isinstance(value, dict) or part not in value:
            return None
        value = value[part]
    return value


def render(value: Any, context: dict[str, Any]) -> Any:
    """Fill `{{event.x}}` placeholders; a string that is exactly one placeholder keeps the value's type."""
    if isinstance(value, str):
        whole = _PLACEHOLDER.fullmatch(value.strip())
        if whole:
            return lookup(context, whole.group(1))
        return _PLACEHOLDER.sub(lambda m: "" if (v := lookup(context, m.group(1))) is None else str(v), value)
    if isinstance(value, list):
        return [render(item, context) for item in value]
    if isinstance(value, dict):
        return {key: render(item, context) for key, item in value.items()}
    return value


def goal_run_id(run_id: str, position: int, attempt: int) -> str:
    """The Command Center run of a goal step's attempt: the same (run, position, attempt) always names it."""
    return "run_wf" + uuid.uuid5(GOAL_RUN_NAMESPACE, f"{run_id}:{position}:{attempt}").hex[:20]


def goal_request(goal: str, context: dict[str, Any]) -> tuple[str, str]:
    """A goal step's instruction text and what the Command Center is given.

    The instruction keeps only the template's own words: each `{{event.x}}` becomes the reference `[event.x]`.
    The values (a comment's text, a lead's name: written by other people) follow as quoted, untrusted data
    (`prompts.quote_untrusted`), so nothing in them can pose as an instruction."""
    values: dict[str, Any] = {}

    def reference(match: re.Match[str]) -> str:
        values[match.group(1)] = lookup(context, match.group(1))
        return f"[{match.group(1)}]"

    instruction = " ".join(_PLACEHOLDER.sub(reference, goal).split())
    if not values:
        return instruction, instruction
    data = "; ".join(
        f"[{path}] = " + quote_untrusted(value if isinstance(value, str) else json.dumps(value, ensure_ascii=False))
        for path, value in values.items())
    return instruction, render_prompt("automation/goal_with_data", goal=instruction, data=data).strip()


def holds(condition: Condition, actual: Any) -> bool:
    expected = condition.value
    if condition.op == "==":
        return bool(actual == expected)
    if condition.op == "!=":
        return bool(actual != expected)
    if isinstance(actual, bool) or not isinstance(actual, int | float) or not isinstance(expected, int | float):
        return False  # an ordering on something missing or not a number does not hold
    return {"<": actual < expected, "<=": actual <= expected, ">": actual > expected,
            ">=": actual >= expected}[condition.op]


RunResult = Literal["succeeded", "failed", "skipped", "waiting", "cancelled"]


class WorkflowEngine:
    def __init__(self, studio: Studio, jobs: JobStore, metrics: MetricSource,
                 environment: Mapping[str, Any] | None = None) -> None:
        self.studio = studio
        self.jobs = jobs
        self.metrics = metrics
        # Objects code steps may use (`StepContext.need`): the simulated world when the sandbox drives the runs.
        self.environment: dict[str, Any] = dict(environment or {})
        self._runner: Runner | None = None

    def close(self) -> None:
        if self._runner is not None:
            self._runner.close()

    @property
    def runner(self) -> Runner:
        if self._runner is None:
            from creator_studio.runs.runner import Runner

            self._runner = Runner(self.studio)
        return self._runner

    # Starting ---------------------------------------------------------------------------------------
    def open_run(self, *, workspace_id: str, workflow_id: str, trigger: str, key: str,
                 context: dict[str, Any] | None, now: datetime) -> str:
        """The run for `key`, created on first use (so a job fired twice continues one run, not two)."""
        with self.studio.db.transaction() as session:
            existing = session.scalar(select(WorkflowRunRow).where(WorkflowRunRow.idempotency_key == key))
            if existing is not None:
                return existing.id
            workflow = session.get(WorkflowRow, workflow_id)
            if workflow is None or workflow.workspace_id != workspace_id:
                raise StudioError(f"There is no workflow {workflow_id!r} in workspace {workspace_id!r}.")
            row = WorkflowRunRow(id=new_id("wfrun"), workspace_id=workspace_id, workflow_id=workflow_id,
                                 workflow_version=workflow.version, trigger=trigger, status="queued", queued_at=now,
                                 idempotency_key=key, context=context or {}, cursor=0)
            session.add(row)
            session.flush()
            return row.id

    def status(self, run_id: str) -> str:
        with self.studio.db.transaction() as session:
            run = session.get(WorkflowRunRow, run_id)
            if run is None:
                raise StudioError(f"There is no workflow run {run_id!r}.")
            return run.status

    # Executing --------------------------------------------------------------------------------------
    def execute(self, run_id: str) -> RunResult:
        """Run from the stored cursor until the run ends or waits."""
        with self.studio.db.transaction() as session:
            run = session.get(WorkflowRunRow, run_id)
            if run is None:
                raise StudioError(f"There is no workflow run {run_id!r}.")
            if run.status in ("succeeded", "failed", "skipped", "cancelled"):
                # A job run again after its worker died: the run ended, but its event may not have been sent.
                finished = (run.workspace_id, run.workflow_id, run.status, run.started_at or run.queued_at,
                            run.finished_at or run.queued_at, correlation_of(run.id, run.context))
            else:
                finished = None
        if finished is not None:
            workspace_id, workflow_id, status, started, ended, correlation_id = finished
            self._publish_completed(run_id, workspace_id, workflow_id, status, started, ended, correlation_id)
            return status  # type: ignore[return-value]
        with self.studio.db.transaction() as session:
            run = session.get(WorkflowRunRow, run_id)
            assert run is not None
            workflow = session.get(WorkflowRow, run.workflow_id)
            assert workflow is not None
            stored = session.get(WorkflowVersionRow, (run.workflow_id, run.workflow_version))
            raw = stored.definition if stored is not None else workflow.definition
            definition = WorkflowDefinition.model_validate(raw, context={"stored": True})
            now = self.studio.now()
            run.status = "running"
            run.started_at = run.started_at or now
            cursor, context = run.cursor, dict(run.context or {})
            workspace_id, workflow_name = run.workspace_id, workflow.name
        program = compile_steps(definition.steps)
        ws = self.studio.workspaces.get(workspace_id)
        while cursor < len(program):
            instruction = program[cursor]
            if instruction.op == "jump":
                cursor = instruction.target
                continue
            step = instruction.step
            started = self.studio.now()
            if instruction.op == "branch":
                taken = self._holds(step.if_, workspace_id, context)
                self._record_step(run_id, cursor, step, attempt=1, status="succeeded", started=started,
                                  output={"branch": "then" if taken else "else"})
                cursor = cursor + 1 if taken else instruction.target
                continue
            if isinstance(step, ConditionStep):
                if self._holds(step.if_, workspace_id, context):
                    self._record_step(run_id, cursor, step, attempt=1, status="succeeded", started=started)
                    cursor += 1
                    continue
                self._record_step(run_id, cursor, step, attempt=1, status="skipped", started=started,
                                  output={"reason": "condition did not hold"})
                return self._finish(run_id, "skipped", cursor=cursor, context=context, definition=definition)
            if isinstance(step, WaitStep):
                resume_at = started + parse_duration(step.duration)
                self._record_step(run_id, cursor, step, attempt=1, status="succeeded", started=started,
                                  output={"resume_at": resume_at.isoformat()})
                return self._wait(run_id, workspace_id, cursor + 1, context, resume_at, f"wait:{cursor}")
            attempts: dict[str, int] = dict(context.get("_attempts", {}))
            attempt = attempts.get(str(cursor), 0) + 1
            try:
                output = self._perform(step, ws, run_id, cursor, attempt, context)
            except StepFailed as exc:
                self._record_step(run_id, cursor, step, attempt=attempt, status="failed", started=started,
                                  error=exc.message)
                if attempt <= step.retries:
                    attempts[str(cursor)] = attempt
                    context = {**context, "_attempts": attempts}
                    delay = parse_duration(step.retry_delay, allow_seconds=True) * 2 ** (attempt - 1)
                    log.info("workflow step failed; retrying later",
                             extra={"run_id": run_id, "position": cursor, "attempt": attempt})
                    return self._wait(run_id, workspace_id, cursor, context, started + delay,
                                      f"retry:{cursor}:{attempt}")
                error = f"step {cursor + 1} ({step.describe()}) failed after {attempt} attempt(s): {exc.message}"
                return self._finish(run_id, "failed", cursor=cursor, context=context, definition=definition,
                                    error=error, workflow_name=workflow_name)
            self._record_step(run_id, cursor, step, attempt=attempt, status="succeeded", started=started,
                              output=output)
            context = {**context, "steps": {**context.get("steps", {}), str(cursor): output}}
            if isinstance(step, CodeStep):
                context["results"] = {**context.get("results", {}), step.function: output}
            cursor += 1
            with self.studio.db.transaction() as session:  # progress is durable step by step
                row = session.get(WorkflowRunRow, run_id)
                assert row is not None
                row.cursor, row.context = cursor, context
        return self._finish(run_id, "succeeded", cursor=cursor, context=context, definition=definition)

    def _holds(self, condition: Condition, workspace_id: str, context: dict[str, Any]) -> bool:
        if condition.field.startswith("event."):
            return holds(condition, lookup(context, condition.field))
        value = self.metrics.read(workspace_id, condition.field, window=CONDITION_WINDOW, now=self.studio.now())
        return holds(condition, value)

    def _perform(self, step: Any, ws: Any, run_id: str, cursor: int, attempt: int,
                 context: dict[str, Any]) -> dict[str, Any]:
        if isinstance(step, ToolStep):
            outcome = invoke_workflow_tool(self.studio, ws, step.tool, render(step.args, context),
                                           agent="automation", run_id=correlation_of(run_id, context),
                                           key=f"wf:{run_id}:{cursor}:{attempt}")
            if not outcome.ok:
                raise StepFailed(outcome.error or f"{step.tool} failed")
            return {"tool": step.tool, "summary": outcome.summary, "replayed": outcome.replayed}
        if isinstance(step, GoalStep):
            result = self._run_goal(ws.id, goal_run_id(run_id, cursor, attempt), step.goal, context)
            if result.status == "failed":
                raise StepFailed(result.error or "the goal's run failed")
            # A run waiting for approvals is handed to the creator: the workflow does not block on it.
            return {"goal_run_id": result.run_id, "status": result.status, "answer": result.answer}
        if isinstance(step, CodeStep):
            function = get_step_function(step.function)
            step_context = StepContext(
                studio=self.studio, workspace=ws, run_id=run_id, correlation_id=correlation_of(run_id, context),
                position=cursor, attempt=attempt, args=render(step.args, context), event=context.get("event") or {},
                results=dict(context.get("results", {})), environment=self.environment)
            try:
                return function(step_context)
            except StudioError as exc:  # a tool or service refused: the creator's message, not a crash
                raise StepFailed(exc.message) from exc
        raise StepFailed(f"unknown step type {type(step).__name__}")

    def _run_goal(self, workspace_id: str, goal_run: str, goal: str, context: dict[str, Any]) -> RunOutcome:
        """Start the goal's Command Center run under its fixed id, or pick up the one an earlier, crashed
        execution of this step started: resumed if it had not finished, read if it had."""
        try:
            record = self.studio.runs.get(goal_run)
        except NotFound:
            record = None
        if record is None:
            from creator_studio.runs.runner import MAX_GOAL_CHARS

            instruction, request = goal_request(goal, context)
            if not instruction:
                raise StepFailed("the goal is empty once its placeholders are taken out")
            if len(request) > MAX_GOAL_CHARS:
                raise StepFailed(f"the goal with its event data is {len(request)} characters long; the Command "
                                 f"Center takes at most {MAX_GOAL_CHARS}: use fewer or shorter placeholders")
            try:
                # Through the run store and `Runner.resume`: a run stored before its first checkpoint starts
                # from its goal, exactly as a run whose process died does.
                self.studio.runs.create(run_id=goal_run, workspace_id=workspace_id, goal=request,
                                        model=self.studio.models.name, source="workflow")
            except IntegrityError:
                log.info("goal run already started by another execution", extra={"run_id": goal_run})
        elif record.status != "running":
            # Finished, failed, cancelled or waiting for approvals: nothing to redo, its outcome is the result.
            log.info("goal step re-executed; its run already exists", extra={"run_id": goal_run,
                                                                            "status": record.status})
            return self.runner.outcome(goal_run)
        return self.runner.resume(goal_run)

    # Recording --------------------------------------------------------------------------------------
    def _record_step(self, run_id: str, position: int, step: Any, *, attempt: int, status: str,
                     started: datetime, output: dict[str, Any] | None = None, error: str | None = None) -> None:
        with self.studio.db.transaction() as session:
            session.add(WorkflowStepRunRow(id=new_id("wfstep"), run_id=run_id, position=position,
                                           step_type=step.type, label=step.describe()[:300], attempt=attempt,
                                           status=status, output=output, error=error, started_at=started,
                                           finished_at=self.studio.now()))

    def _wait(self, run_id: str, workspace_id: str, cursor: int, context: dict[str, Any], resume_at: datetime,
              reason: str) -> RunResult:
        with self.studio.db.transaction() as session:
            row = session.get(WorkflowRunRow, run_id)
            assert row is not None
            row.status, row.cursor, row.context = "waiting", cursor, context
        self.jobs.enqueue([NewJob(workspace_id=workspace_id, kind="workflow_run", key=f"{run_id}:{reason}",
                                  payload={"run_id": run_id}, due_at=resume_at)], now=self.studio.now())
        return "waiting"

    def _finish(self, run_id: str, status: Literal["succeeded", "failed", "skipped"], *, cursor: int,
                context: dict[str, Any], definition: WorkflowDefinition, error: str | None = None,
                workflow_name: str = "") -> RunResult:
        now = self.studio.now()
        with self.studio.db.transaction() as session:
            row = session.get(WorkflowRunRow, run_id)
            assert row is not None
            row.status, row.cursor, row.context = status, cursor, context
            row.finished_at, row.error = now, error
            workspace_id, workflow_id = row.workspace_id, row.workflow_id
            started = row.started_at or now
        self._publish_completed(run_id, workspace_id, workflow_id, status, started, now,
                                correlation_of(run_id, context))
        if status == "failed" and definition.on_error:
            self._start_error_workflow(workspace_id, definition.on_error, run_id, workflow_id, workflow_name,
                                       error or "", now)
        return status

    def _publish_completed(self, run_id: str, workspace_id: str, workflow_id: str, status: str, started: datetime,
                           ended: datetime, correlation_id: str) -> None:
        # A fixed event id per run: a worker that dies after this and is replaced publishes the same event,
        # which the audit log stores once.
        self.studio.events.publish_event(Event(
            id=str(uuid.uuid5(EVENT_NAMESPACE, f"{run_id}:completed")), type="system.workflow_completed",
            workspace_id=workspace_id, occurred_at=ended, source="automation", correlation_id=correlation_id,
            data={"workflow_id": workflow_id, "run_id": run_id, "status": status,
                  "duration_ms": int(max((ended - started).total_seconds(), 0) * 1000)}))

    def _start_error_workflow(self, workspace_id: str, name: str, run_id: str, workflow_id: str,
                              workflow_name: str, error: str, now: datetime) -> None:
        with self.studio.db.transaction() as session:
            handler = session.scalar(select(WorkflowRow).where(WorkflowRow.workspace_id == workspace_id,
                                                               WorkflowRow.name == name))
            handler_id = handler.id if handler is not None and handler.id != workflow_id else None
        if handler_id is None:
            log.warning("error workflow not found; the failure is only recorded",
                        extra={"run_id": run_id, "workspace_id": workspace_id, "error_workflow": name})
            return
        context = {"event": {"failed_run_id": run_id, "workflow_id": workflow_id, "workflow_name": workflow_name,
                             "error": error}}
        self.jobs.enqueue([NewJob(workspace_id=workspace_id, kind="workflow_run", key=f"{run_id}:on_error",
                                  payload={"workflow_id": handler_id, "trigger": "error", "context": context},
                                  due_at=now)], now=now)


def correlation_of(run_id: str, context: dict[str, Any] | None) -> str:
    given = (context or {}).get("correlation_id")
    return given if isinstance(given, str) and given else run_id
