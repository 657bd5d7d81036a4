"""Running one scripted case on each system, on its own fresh copy of the seeded sandbox world."""

from __future__ import annotations

import shutil
import time
import uuid
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from benchmarks.baseline_supervisor import ToolLog, build_baseline, run_baseline
from benchmarks.common import busy_seconds
from benchmarks.oracle import CaseScript, OracleModel, OracleProvider, OracleSession
from creator_studio.evals.worlds import WORKSPACE_ID, WorldTemplates
from creator_studio.runs.runner import Runner
from creator_studio.studio import Studio
from creator_studio.tools.base import load_all_tools

OURS = "ours"
OURS_NO_PREROUTER = "ours (no pre-router)"
BASELINE = "langgraph-supervisor"
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

    @property
    def overhead_s(self) -> float:
        return self.wall_s - self.tool_s


def expected_calls(script: CaseScript) -> Counter[tuple[str, bool]]:
    return Counter((c.name, c.ok) for c in script.calls())


def _problem(script: CaseScript, executed: list[tuple[str, bool]], answer: str, status: str) -> str | None:
    if status != "completed":
        return f"the run ended {status}"
    if Counter(executed) != expected_calls(script):
        return f"tool calls {sorted(Counter(executed).items())} != scripted {sorted(expected_calls(script).items())}"
    if answer.strip() != script.final_answer().strip():
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
        started = time.perf_counter()
        outcome = runner.start(script.goal, workspace_id=WORKSPACE_ID, auto_approve=True, source="bench")
        wall = time.perf_counter() - started
        tool_steps = [s for s in outcome.steps if s.kind == "tool" and s.status in ("ok", "error")]
        executed = [(c.tool, c.status == "ok") for c in outcome.tool_calls]
        answer = outcome.answer or ""
        return Measurement(system=system, case_id=script.case_id, calls=session.calls,
                           prompt_tokens=session.prompt_tokens, completion_tokens=session.completion_tokens,
                           wall_s=wall, tool_s=busy_seconds((s.started_at, s.ended_at) for s in tool_steps),
                           executed=tuple(executed), answer=answer,
                           problem=_problem(script, executed, answer, outcome.status)
                           or (f"run error: {outcome.error}" if outcome.error else None))
    finally:
        if runner is not None:
            runner.close()
        studio.close()
        shutil.rmtree(home, ignore_errors=True)


def run_supervisor(templates: WorldTemplates, script: CaseScript, workdir: Path) -> Measurement:
    studio, home = _fresh(templates, script, workdir, BASELINE)
    try:
        session = OracleSession(script)
        model = OracleModel(session)
        studio.models = OracleProvider(model)  # the tools' writer: the same offline writer as ours
        log = ToolLog()
        app = build_baseline(studio, model, log)
        started = time.perf_counter()
        status, answer = "completed", ""
        try:
            answer = run_baseline(app, script.goal)
        except Exception as exc:  # reported as the run's problem; the benchmark goes on
            status = f"with {type(exc).__name__}: {exc}"
        wall = time.perf_counter() - started
        return Measurement(system=BASELINE, case_id=script.case_id, calls=session.calls,
                           prompt_tokens=session.prompt_tokens, completion_tokens=session.completion_tokens,
                           wall_s=wall, tool_s=busy_seconds(log.intervals), executed=tuple(log.calls),
                           answer=answer, problem=_problem(script, log.calls, answer, status))
    finally:
        studio.close()
        shutil.rmtree(home, ignore_errors=True)
