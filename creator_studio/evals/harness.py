"""Running eval trials: each on its own copy of the sandbox world, with its own Studio and Runner.

A trial starts the goal with `Runner.start`, approves every pending approval as `eval-harness` (so the checks
can tell a real pause from a policy or auto-approval), resumes until the run finishes, and records what it
observed. Trials run in a thread pool when `concurrency > 1`; they share nothing but the process-wide
embedding model, which loads once before the first trial.
"""

from __future__ import annotations

import re
import shutil
import time
import uuid
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from creator_studio.evals.cases import LoadedCase
from creator_studio.evals.checks import evaluate_trial
from creator_studio.evals.judge import judge_brand_fit, judged_text
from creator_studio.evals.metrics import case_result
from creator_studio.evals.results import (
    CaseResult,
    JudgeVerdict,
    Observation,
    ObservedApproval,
    ObservedCall,
    TrialResult,
)
from creator_studio.evals.worlds import EVAL_NOW, WORKSPACE_ID, WorldTemplates
from creator_studio.runs.approvals import ApprovalDecision
from creator_studio.runs.runner import Runner, RunOutcome
from creator_studio.settings import Settings
from creator_studio.studio import Studio

DECIDED_BY = "eval-harness"
# A run that keeps asking after this many approval rounds is stuck; the trial fails instead of looping.
MAX_APPROVAL_ROUNDS = 25
TrialCallback = Callable[[TrialResult], None]


@dataclass(frozen=True)
class EvalConfig:
    settings: Settings  # model and endpoint for the runs; home and database are replaced per trial
    trials: int = 1  # default k; a case's own `trials` wins
    concurrency: int = 1
    judge: bool = False
    now: datetime = EVAL_NOW


class Harness:
    def __init__(self, config: EvalConfig, workdir: Path) -> None:
        self.config = config
        self.workdir = workdir
        self.templates = WorldTemplates(workdir, config.settings, now=config.now)

    def trials_of(self, loaded: LoadedCase) -> int:
        return loaded.case.trials or self.config.trials

    def prepare(self, cases: Sequence[LoadedCase]) -> None:
        """Build every world the cases use and load the embedding model, before any trial is timed."""
        for world in dict.fromkeys(c.case.world for c in cases):
            self.templates.template(world)
        from creator_studio.providers.llm.offline.routing import route_goal

        route_goal("warm up the shared sentence encoder", floor=self.config.settings.out_of_scope_floor)

    def run(self, cases: Sequence[LoadedCase], on_trial: TrialCallback | None = None) -> list[CaseResult]:
        """Every trial of every case; results in case order whatever order the trials finished in."""
        self.prepare(cases)
        jobs = [(loaded, index) for loaded in cases for index in range(1, self.trials_of(loaded) + 1)]

        def work(job: tuple[LoadedCase, int]) -> TrialResult:
            result = self.run_trial(*job)
            if on_trial is not None:
                on_trial(result)
            return result

        if self.config.concurrency <= 1:
            results = [work(job) for job in jobs]
        else:
            with ThreadPoolExecutor(max_workers=self.config.concurrency, thread_name_prefix="eval") as pool:
                results = list(pool.map(work, jobs))
        by_case: dict[str, list[TrialResult]] = {}
        for result in results:
            by_case.setdefault(result.case_id, []).append(result)
        return [case_result(c.case, c.source, by_case.get(c.case.id, [])) for c in cases]

    def run_trial(self, loaded: LoadedCase, index: int) -> TrialResult:
        case = loaded.case
        home = self.workdir / "trials" / f"{_safe(case.id)}-{index}-{uuid.uuid4().hex[:8]}"
        studio = self.templates.open_fresh(case.world, home)
        runner: Runner | None = None
        judge: JudgeVerdict | None = None
        try:
            runner = Runner(studio)
            observation = observe(runner, case.goal)
            if self.config.judge and observation.status == "completed":
                judge = self._judge(studio, case.goal, observation)
        finally:
            if runner is not None:
                runner.close()
            studio.close()
            shutil.rmtree(home, ignore_errors=True)
        checks, scores, diff = evaluate_trial(case, observation)
        return TrialResult(case_id=case.id, trial=index, passed=all(c.passed for c in checks), checks=checks,
                           scores=scores, diff=diff, observation=observation, judge=judge)

    def _judge(self, studio: Studio, goal: str, observation: Observation) -> JudgeVerdict | None:
        content = judged_text(observation)
        if content is None:
            return None
        brand = studio.workspaces.get(WORKSPACE_ID).brand_voice
        return judge_brand_fit(studio.models.chat_model(), brand, goal, content)


def observe(runner: Runner, goal: str) -> Observation:
    """Run `goal` to the end, approving every pause; never raises for a failing run."""
    started = time.perf_counter()
    try:
        outcome = runner.start(goal, workspace_id=WORKSPACE_ID, source="eval")
        rounds = 0
        while outcome.status == "waiting_approval":
            rounds += 1
            if rounds > MAX_APPROVAL_ROUNDS:
                return _observation(outcome, time.perf_counter() - started,
                                    error=f"still asking for approval after {MAX_APPROVAL_ROUNDS} rounds")
            for approval in outcome.pending_approvals:
                runner.decide(approval.id, ApprovalDecision(decision="approve", decided_by=DECIDED_BY),
                              workspace_id=outcome.workspace_id, resume=False)
            outcome = runner.resume(outcome.run_id)
    except Exception as exc:  # the trial fails with the reason; the other trials go on
        message = getattr(exc, "message", None) or f"{type(exc).__name__}: {exc}"
        return Observation(status="error", error=message, latency_s=time.perf_counter() - started)
    return _observation(outcome, time.perf_counter() - started)


def _observation(outcome: RunOutcome, latency_s: float, *, error: str | None = None) -> Observation:
    return Observation(
        run_id=outcome.run_id, status="stuck" if error else outcome.status, answer=outcome.answer,
        error=error or outcome.error, agents=list(outcome.agents),
        calls=[ObservedCall(agent=c.agent, tool=c.tool, arguments=c.arguments, status=c.status)
               for c in outcome.tool_calls],
        approvals=[ObservedApproval(tool=a.tool, status=a.status, decided_by=a.decided_by)
                   for a in outcome.approvals],
        model_calls=outcome.model.calls, prompt_tokens=outcome.model.prompt_tokens,
        completion_tokens=outcome.model.completion_tokens, latency_s=round(latency_s, 4))


def _safe(case_id: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "_", case_id)[:60]
