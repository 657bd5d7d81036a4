"""Running one scripted case on each system, on its own fresh copy of the seeded sandbox world."""

from __future__ import annotations

import shutil
import sqlite3
import time
import uuid
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from langgraph.checkpoint.sqlite import SqliteSaver

from benchmarks.baseline_supervisor import ToolLog, build_baseline, run_baseline
from benchmarks.common import busy_seconds
from benchmarks.oracle import CaseScript, OracleModel, OracleProvider, OracleSession
from creator_studio.evals.worlds import WORKSPACE_ID, WorldTemplates
from creator_studio.graphs.agent_node import idempotency_key
from creator_studio.providers.llm.embeddings import shared_encoder
from creator_studio.runs.runner import Runner
from creator_studio.studio import Studio
from creator_studio.tools.base import load_all_tools

OURS = "ours"
OURS_NO_PREROUTER = "ours (no pre-router)"
BASELINE = "langgraph-supervisor"
BASELINE_CHECKPOINTED = "langgraph-supervisor + SQLite checkpointer"
# With this threshold the embedding pre-router is never confident enough: every goal takes the routing call.
ALWAYS_ROUTE_WITH_MODEL = 2.0


@dataclass(frozen=True)
class Measurement:
    system: str
    case_id: str
    calls: int
    prompt_tokens: int
    completion_tokens: int
    wall_s: float
    tool_s: float
    executed: tuple[tuple[str, bool], ...]
    answer: str
    problem: str | None  # why the run did not do the scripted work (None: it did)
    encoder_s: float = 0.0  # ours: the pre-router's sentence-encoder passes (part of the overhead)

    @property
    def overhead_s(self) -> float:
        return self.wall_s - self.tool_s


def expected_calls(script: CaseScript) -> Counter[tuple[str, bool]]:
    return Counter((c.name, c.ok) for c in script.calls())


def _problem(script: CaseScript, executed: list[tuple[str, bool]], answer: str, status: str,
             results: dict[int, Any]) -> str | None:
    if status != "completed":
        return f"the run ended {status}"
    if Counter(executed) != expected_calls(script):
        return f"tool calls {sorted(Counter(executed).items())} != scripted {sorted(expected_calls(script).items())}"
    if answer.strip() != script.final_answer(results).strip():
        return "the final answer differs from the scripted one"
    return None


# The studio builds its services on first use; building them before the clock starts keeps that one-off cost
# out of both systems' figures (otherwise it lands in whichever step touches a service first: a tool in the
# baseline, an approval preview in ours).
WARM_SERVICES = ("workspaces", "runs", "approvals", "ledger", "content", "memory", "engagement", "revenue",
                 "analytics", "automation", "events", "command_center")


def _fresh(templates: WorldTemplates, script: CaseScript, workdir: Path, system: str) -> tuple[Studio, Path]:
    home = workdir / f"{system.split()[0]}-{uuid.uuid4().hex[:10]}"
    studio = templates.open_fresh(script.world, home)
    for name in WARM_SERVICES:
        if hasattr(type(studio), name):
            getattr(studio, name)
    return studio, home


def run_ours(templates: WorldTemplates, script: CaseScript, workdir: Path, *, pre_router: bool = True
             ) -> Measurement:
    system = OURS if pre_router else OURS_NO_PREROUTER
    studio, home = _fresh(templates, script, workdir, system)
    runner: Runner | None = None
    try:
        if not pre_router:
            studio.settings = studio.settings.model_copy(update={"router_threshold": ALWAYS_ROUTE_WITH_MODEL})
        session = OracleSession(script)
        studio.models = OracleProvider(OracleModel(session))
        # Approvals: the workspace policy approves every side effect (no pause), the closest to the baseline.
        studio.workspaces.update(WORKSPACE_ID, auto_approve=[n for n, s in load_all_tools().items() if s.side_effect])
        runner = Runner(studio)
        # Each goal is timed as a new one: no embedding of its clauses is left over from an earlier run.
        encoder = shared_encoder()
        encoder.clear_cache()
        encoded_before = encoder.forward_seconds
        started = time.perf_counter()
        outcome = runner.start(script.goal, workspace_id=WORKSPACE_ID, auto_approve=True, source="bench")
        wall = time.perf_counter() - started
        encoder_s = encoder.forward_seconds - encoded_before
        tool_steps = [s for s in outcome.steps if s.kind == "tool" and s.status in ("ok", "error")]
        results = _ledger_results(studio, script, outcome.run_id)
        executed = [(c.tool, c.status == "ok") for c in outcome.tool_calls]
        answer = outcome.answer or ""
        return Measurement(system=system, case_id=script.case_id, calls=session.calls,
                           prompt_tokens=session.prompt_tokens, completion_tokens=session.completion_tokens,
                           wall_s=wall, tool_s=busy_seconds((s.started_at, s.ended_at) for s in tool_steps),
                           executed=tuple(executed), answer=answer,
                           problem=_problem(script, executed, answer, outcome.status, results)
                           or (f"run error: {outcome.error}" if outcome.error else None), encoder_s=encoder_s)
    finally:
        if runner is not None:
            runner.close()
        studio.close()
        shutil.rmtree(home, ignore_errors=True)


def _ledger_results(studio: Studio, script: CaseScript, run_id: str) -> dict[int, Any]:
    """Each scripted call's result in this run of ours (call id bx<index>), from the idempotency ledger."""
    results: dict[int, Any] = {}
    for subtask in script.subtasks:
        for call in subtask.calls():
            entry = studio.ledger.get(WORKSPACE_ID, idempotency_key(run_id, subtask.id, call.call_id))
            results[call.index] = entry.result if entry is not None and entry.status == "succeeded" else None
    return results


def run_supervisor(templates: WorldTemplates, script: CaseScript, workdir: Path, *, checkpointed: bool = False
                   ) -> Measurement:
    system = BASELINE_CHECKPOINTED if checkpointed else BASELINE
    studio, home = _fresh(templates, script, workdir, system)
    connection: sqlite3.Connection | None = None
    try:
        session = OracleSession(script)
        model = OracleModel(session)
        studio.models = OracleProvider(model)  # the tools' writer: the same offline writer as ours
        log = ToolLog()
        saver = None
        if checkpointed:  # the same saver and file settings as ours (runs/runner.py), not in the README
            connection = sqlite3.connect(str(home / "checkpoints.sqlite"), check_same_thread=False)
            connection.execute("PRAGMA journal_mode=WAL")
            saver = SqliteSaver(connection)
        app = build_baseline(studio, model, log, saver)
        started = time.perf_counter()
        status, answer = "completed", ""
        try:
            answer = run_baseline(app, script.goal)
        except Exception as exc:  # reported as the run's problem; the benchmark goes on
            status = f"with {type(exc).__name__}: {exc}"
        wall = time.perf_counter() - started
        return Measurement(system=system, case_id=script.case_id, calls=session.calls,
                           prompt_tokens=session.prompt_tokens, completion_tokens=session.completion_tokens,
                           wall_s=wall, tool_s=busy_seconds(log.intervals), executed=tuple(log.calls),
                           answer=answer, problem=_problem(script, log.calls, answer, status, session.results))
    finally:
        if connection is not None:
            connection.close()
        studio.close()
        shutil.rmtree(home, ignore_errors=True)
