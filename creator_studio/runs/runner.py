"""Starting, resuming and reporting runs: the one way the CLI, the API, schedules and evals drive the graph.

A run is a LangGraph thread (thread_id = run id) checkpointed in SQLite, or in PostgreSQL when the app
data is there. It stops when it finishes or when
it waits for approvals; approvals are rows in the approvals table, and a run resumes once every approval
of a pending interrupt is decided. A run whose process died resumes from its last checkpoint.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Callable
from contextlib import suppress
from typing import Any

from langchain_core.runnables import RunnableConfig
from langgraph.checkpoint.base import BaseCheckpointSaver
from langgraph.checkpoint.sqlite import SqliteSaver
from langgraph.types import Command, Interrupt
from pydantic import BaseModel

from creator_studio.errors import InvalidInput, StudioError
from creator_studio.graphs.command_center import build_graph
from creator_studio.logs import get_logger
from creator_studio.runs.approvals import Approval, ApprovalBatch, ApprovalDecision
from creator_studio.runs.records import RunRecord, Step, Usage, usage_of
from creator_studio.settings import Settings
from creator_studio.store.db import new_id
from creator_studio.studio import Studio

log = get_logger("runs.runner")
EventHandler = Callable[[dict[str, Any]], None]
MAX_GOAL_CHARS = 4000


class ToolCallView(BaseModel):
    agent: str
    tool: str
    arguments: dict[str, Any]
    status: str
    summary: str
    duration_ms: float


class ModelUsageView(BaseModel):
    name: str
    offline: bool
    calls: int
    prompt_tokens: int
    completion_tokens: int
    latency_ms: float


class RunOutcome(BaseModel):
    run_id: str
    workspace_id: str
    status: str
    goal: str
    answer: str | None
    error: str | None
    agents: list[str]
    route: dict[str, Any]
    tool_calls: list[ToolCallView]
    approvals: list[Approval]
    model: ModelUsageView
    steps: list[Step]

    @property
    def pending_approvals(self) -> list[Approval]:
        return [a for a in self.approvals if a.status == "pending"]


class Runner:
    def __init__(self, studio: Studio) -> None:
        self.studio = studio
        self._close_checkpointer: Callable[[], None]
        self.checkpointer: BaseCheckpointSaver[Any]
        self.checkpointer, self._close_checkpointer = _build_checkpointer(studio.settings)
        self.graph = build_graph(studio, self.checkpointer)
        self._lock = threading.Lock()

    def close(self) -> None:
        self._close_checkpointer()

    # Entry points ---------------------------------------------------------------------------------------
    def start(self, goal: str, *, workspace_id: str | None = None, auto_approve: bool = False,
              on_event: EventHandler | None = None, source: str = "cli") -> RunOutcome:
        goal = " ".join((goal or "").split())
        if not goal:
            raise InvalidInput("The goal is empty: say what you want done, e.g. "
                               "\"Draft a LinkedIn post about my course\".")
        if len(goal) > MAX_GOAL_CHARS:
            raise InvalidInput(f"The goal is {len(goal)} characters long; keep it under {MAX_GOAL_CHARS}.")
        workspace = self.studio.workspaces.get(workspace_id or self.studio.settings.workspace)
        run_id = new_id("run")
        self.studio.runs.create(run_id=run_id, workspace_id=workspace.id, goal=goal,
                                model=self.studio.models.name, source=source)
        initial = {"run_id": run_id, "workspace_id": workspace.id, "goal": goal, "results": []}
        return self._drive(run_id, initial, auto_approve=auto_approve, on_event=on_event, fresh=True)

    def resume(self, run_id: str, *, auto_approve: bool = False, on_event: EventHandler | None = None
               ) -> RunOutcome:
        """Continue a run: after approvals were decided, or after its process died mid-way."""
        record = self.studio.runs.get(run_id)
        if record.status in ("completed", "cancelled"):
            return self.outcome(run_id)
        snapshot = self.graph.get_state(self._config(run_id))
        if not snapshot.next and not _interrupts(snapshot.tasks):
            if snapshot.values.get("answer") is not None:
                self.studio.runs.update(run_id, status="completed", answer=snapshot.values["answer"])
                return self.outcome(run_id)
            # Killed before the first checkpoint: start the same run again from its goal.
            initial = {"run_id": run_id, "workspace_id": record.workspace_id, "goal": record.goal, "results": []}
            return self._drive(run_id, initial, auto_approve=auto_approve, on_event=on_event)
        return self._drive(run_id, None, auto_approve=auto_approve, on_event=on_event)

    def decide(self, approval_id: str, decision: ApprovalDecision, *, workspace_id: str | None = None,
               resume: bool = True, on_event: EventHandler | None = None) -> RunOutcome:
        """Record a decision on one approval; the run resumes once its whole batch is decided."""
        approval = self.studio.approvals.get(approval_id, workspace_id)
        if decision.decision == "edit":
            self._check_edit(approval, decision)
        self.studio.approvals.decide(approval_id, decision)
        if resume:
            return self.resume(approval.run_id, on_event=on_event)
        return self.outcome(approval.run_id)

    def cancel(self, run_id: str) -> RunOutcome:
        record = self.studio.runs.get(run_id)
        if record.status == "completed":
            raise InvalidInput(f"Run {run_id} already completed; there is nothing to cancel.")
        for approval in self.studio.approvals.list(record.workspace_id, run_id=run_id):
            self.studio.approvals.decide(approval.id, ApprovalDecision(decision="reject", reason="run cancelled",
                                                                       decided_by="system"))
        self.studio.runs.update(run_id, status="cancelled")
        return self.outcome(run_id)

    # Driving the graph ----------------------------------------------------------------------------------
    def _config(self, run_id: str) -> RunnableConfig:
        return {"configurable": {"thread_id": run_id}, "recursion_limit": 100}

    def _drive(self, run_id: str, graph_input: Any, *, auto_approve: bool, on_event: EventHandler | None,
               fresh: bool = False) -> RunOutcome:
        config = self._config(run_id)
        mark_running = not fresh  # a new run is created running: no second write before its first pass
        while True:
            if mark_running:
                self.studio.runs.update(run_id, status="running")
            mark_running = True
            try:
                # durability="async": a step's checkpoint is written while the next step runs. A process killed
                # in between resumes from the checkpoint before; what that re-runs is not done twice, because
                # every model reply is in the run record before the graph goes on (replayed, not re-asked) and
                # every tool result is in the idempotency ledger (replayed, not re-run). Interrupts and the
                # end of a run are always flushed before stream() returns.
                for mode, chunk in self.graph.stream(graph_input, config, stream_mode=["custom", "updates"],
                                                     durability="async"):
                    if mode == "custom" and on_event is not None and isinstance(chunk, dict):
                        on_event(chunk)
            except StudioError as exc:
                self.studio.runs.update(run_id, status="failed", error=exc.message)
                return self.outcome(run_id)
            except Exception as exc:
                log.exception("run failed", extra={"run_id": run_id})
                self.studio.runs.update(run_id, status="failed", error=f"{type(exc).__name__}: {exc}")
                return self.outcome(run_id)
            snapshot = self.graph.get_state(config)
            pending = _interrupts(snapshot.tasks)
            if not pending:
                self.studio.runs.update(run_id, status="completed", answer=snapshot.values.get("answer") or "")
                return self.outcome(run_id)
            batches = [ApprovalBatch.model_validate(i.value) for i in pending]
            for batch in batches:
                for request in batch.requests:
                    _approval, created = self.studio.approvals.open_once(request)
                    if created and on_event is not None:
                        on_event({"type": "approval_requested", "agent": request.agent, "tool": request.tool,
                                  "approval_id": request.approval_id, "preview": request.preview})
                    if auto_approve:
                        self.studio.approvals.decide(request.approval_id, ApprovalDecision(
                            decision="approve", decided_by="auto-approve"))
            resume_map = self._resume_map(pending)
            if not resume_map:
                self.studio.runs.update(run_id, status="waiting_approval")
                if on_event is not None:
                    on_event({"type": "waiting_approval", "run_id": run_id})
                return self.outcome(run_id)
            graph_input = Command(resume=resume_map)

    def _resume_map(self, pending: list[Interrupt]) -> dict[str, Any]:
        resume: dict[str, Any] = {}
        for item in pending:
            batch = ApprovalBatch.model_validate(item.value)
            approvals = [self.studio.approvals.get(r.approval_id) for r in batch.requests]
            if any(a.status == "pending" for a in approvals):
                continue
            resume[item.id] = {"decisions": {a.id: _decision_of(a).model_dump() for a in approvals}}
        return resume

    def _check_edit(self, approval: Approval, decision: ApprovalDecision) -> None:
        from creator_studio.tools.base import ToolContext
        from creator_studio.tools.invoke import get_tool

        if not decision.arguments:
            raise InvalidInput("An edit needs the new arguments, e.g. --set publish_at=2026-12-01T09:00:00+01:00.")
        spec = get_tool(approval.tool)
        ws = self.studio.workspaces.get(approval.workspace_id)
        ctx = ToolContext(studio=self.studio, workspace=ws, agent=approval.agent, now=self.studio.now())
        spec.validate({**approval.arguments, **decision.arguments}, ctx)  # raises InvalidInput naming the field

    # Reporting --------------------------------------------------------------------------------------------
    def outcome(self, run_id: str) -> RunOutcome:
        record: RunRecord = self.studio.runs.get(run_id)
        steps = self.studio.runs.steps(run_id)
        usage: Usage = usage_of(steps)
        # Parallel agents interleave in time; list calls by sub-task (plan order), then in the order each ran.
        tool_steps = sorted((s for s in steps if s.kind == "tool"), key=lambda s: (_subtask_order(s.step_key),
                                                                                     s.started_at))
        tool_calls = [ToolCallView(agent=s.agent, tool=s.tool or "", arguments=s.arguments, status=s.status,
                                   summary=s.summary, duration_ms=s.duration_ms) for s in tool_steps]
        return RunOutcome(
            run_id=record.id, workspace_id=record.workspace_id, status=record.status, goal=record.goal,
            answer=record.answer, error=record.error, agents=list(record.route.get("agents", [])),
            route=record.route, tool_calls=tool_calls,
            approvals=self.studio.approvals.list(record.workspace_id, status=None, run_id=run_id),
            model=ModelUsageView(name=record.model, offline=record.model == "offline", calls=usage.model_calls,
                                 prompt_tokens=usage.prompt_tokens, completion_tokens=usage.completion_tokens,
                                 latency_ms=usage.model_latency_ms),
            steps=steps)


def _build_checkpointer(settings: Settings) -> tuple[BaseCheckpointSaver[Any], Callable[[], None]]:
    """Checkpoints live beside the app data: PostgreSQL when the database URL is PostgreSQL, else SQLite."""
    url = settings.sqlalchemy_url()
    if url.startswith("postgresql"):
        from langgraph.checkpoint.postgres import PostgresSaver
        from psycopg.rows import dict_row
        from psycopg_pool import ConnectionPool

        # psycopg wants a plain libpq URL; these connection settings are the ones PostgresSaver documents.
        conninfo = "postgresql://" + url.split("://", 1)[1]
        pool: ConnectionPool[Any] = ConnectionPool(
            conninfo, min_size=1, max_size=8, open=True,
            kwargs={"autocommit": True, "prepare_threshold": 0, "row_factory": dict_row})
        saver = PostgresSaver(pool)
        with pool.connection() as conn:
            # Several workers may start at once: the advisory lock keeps setup's migrations from racing.
            conn.execute("SELECT pg_advisory_lock(7007001)")
            try:
                saver.setup()
            finally:
                conn.execute("SELECT pg_advisory_unlock(7007001)")
        return saver, pool.close
    path = settings.checkpoint_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    connection = sqlite3.connect(str(path), check_same_thread=False)
    connection.execute("PRAGMA journal_mode=WAL")

    def close() -> None:
        with suppress(sqlite3.Error):
            connection.close()

    return SqliteSaver(connection), close


def _subtask_order(step_key: str) -> tuple[int, str]:
    subtask = step_key.split(":", 1)[0]
    digits = subtask.lstrip("t")
    return (int(digits), subtask) if digits.isdigit() else (1_000_000, subtask)


def _interrupts(tasks: Any) -> list[Interrupt]:
    return [item for t in tasks for item in t.interrupts]


def _decision_of(approval: Approval) -> ApprovalDecision:
    kind = {"approved": "approve", "rejected": "reject", "edited": "edit"}[approval.status]
    arguments = approval.final_arguments if approval.status == "edited" else None
    return ApprovalDecision(decision=kind, arguments=arguments, reason=approval.reason,
                            decided_by=approval.decided_by or "creator")
