"""P1 in worker processes: per eval case, write its script and replay it on both systems.

Model calls and tokens do not depend on timing, so P1 spreads the cases over a few processes (each with its own
worlds and embedding model); the timed figures (P2, P3) run afterwards, one run at a time, in the parent.
"""

from __future__ import annotations

import multiprocessing
import tempfile
import time
from collections.abc import Sequence
from concurrent.futures import Future, ProcessPoolExecutor, wait
from dataclasses import dataclass, field
from pathlib import Path

from benchmarks.common import world_templates
from benchmarks.oracle import CaseScript
from benchmarks.recording import NotScriptable, record_script
from benchmarks.systems import Measurement, run_ours, run_supervisor
from creator_studio.evals.cases import LoadedCase
from creator_studio.evals.worlds import WorldTemplates

_worker: dict[str, object] = {}


@dataclass
class CaseOutcome:
    case_id: str
    script: CaseScript | None = None
    skipped: str | None = None  # why there is no script
    measurements: list[Measurement] = field(default_factory=list)  # ours, baseline (+ ours pre-router off)


def _init(root: str) -> None:
    from creator_studio.providers.llm.offline.routing import route_goal

    workdir = Path(tempfile.mkdtemp(dir=root))
    _worker["workdir"] = workdir
    _worker["templates"] = world_templates(workdir)
    route_goal("warm up the shared sentence encoder", floor=0.3)


def replay_case(job: tuple[LoadedCase, bool]) -> CaseOutcome:
    loaded, also_without_prerouter = job
    templates = _worker["templates"]
    workdir = _worker["workdir"]
    assert isinstance(templates, WorldTemplates) and isinstance(workdir, Path)
    try:
        script = record_script(templates, loaded, workdir)
    except NotScriptable as exc:
        return CaseOutcome(case_id=loaded.case.id, skipped=str(exc))
    measurements = [run_ours(templates, script, workdir), run_supervisor(templates, script, workdir)]
    if also_without_prerouter:
        measurements.append(run_ours(templates, script, workdir, pre_router=False))
    return CaseOutcome(case_id=loaded.case.id, script=script, measurements=measurements)


def replay_all(jobs: Sequence[tuple[LoadedCase, bool]], root: Path, workers: int, budget_s: float | None
               ) -> list[CaseOutcome]:
    """Outcomes of the jobs finished within `budget_s` (None: all), in job order. `workers` <= 1: in this process.
    Jobs not started when the budget runs out are dropped (the caller reports how many ran)."""
    if workers <= 1:
        _init(str(root))
        deadline = None if budget_s is None else time.monotonic() + budget_s
        outcomes = []
        for job in jobs:
            if deadline is not None and time.monotonic() > deadline:
                break
            outcomes.append(replay_case(job))
        return outcomes
    deadline = None if budget_s is None else time.monotonic() + budget_s
    # spawn, not fork: the parent may already hold the embedding model's threads
    context = multiprocessing.get_context("spawn")
    pool = ProcessPoolExecutor(max_workers=workers, mp_context=context, initializer=_init, initargs=(str(root),))
    futures: list[Future[CaseOutcome]] = [pool.submit(replay_case, job) for job in jobs]
    try:
        wait(futures, timeout=None if deadline is None else max(0.0, deadline - time.monotonic()))
    finally:
        pool.shutdown(wait=True, cancel_futures=True)  # the ones already running finish
    return [f.result() for f in futures if f.done() and not f.cancelled()]
