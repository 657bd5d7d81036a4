"""Orchestration benchmark (issue 12): Creator Studio's Command Center vs langgraph-supervisor, same work.

    .venv/bin/python benchmarks/orchestration.py            # the whole eval suite (what `make bench` runs)
    .venv/bin/python benchmarks/orchestration.py --quick    # every 4th case, fewer repetitions

1. Scripts: every eval case is run once on Creator Studio with the offline planner; a run that passes all the
   case's checks becomes the oracle's script (benchmarks/recording.py). Other cases are listed as skipped.
2. P1: each script is replayed by the oracle on both systems (ours also with the embedding pre-router off, on
   a sample); model calls and prompt tokens per case. A replay that does not do the scripted work is excluded
   and listed. Counts do not depend on timing, so P1 runs in a few worker processes.
3. P2: orchestration overhead per goal (wall time minus time a tool was running), zero-latency oracle, median
   and p95 over a fixed sample of goals, in several repetitions, one run at a time.
4. P3: a goal that fans out to three agents whose tools each take 200 ms: wall time / 200 ms.

The table is printed and written to BENCHMARKS.md (only this benchmark's own section is replaced).
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import random
import shutil
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

if __package__ in (None, ""):  # run as a script: make the repository importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.common import (
    CASES_DIR,
    Spread,
    machine_line,
    median,
    percentile,
    versions_line,
    world_templates,
    write_section,
)
from benchmarks.oracle import CaseScript
from benchmarks.pool import replay_all
from benchmarks.recording import NotScriptable, record_script
from benchmarks.systems import (
    BASELINE,
    BASELINE_CHECKPOINTED,
    OURS,
    OURS_NO_PREROUTER,
    Measurement,
    run_ours,
    run_supervisor,
)
from creator_studio.evals.cases import EvalCase, Expectation, ExpectedCall, LoadedCase, load_cases
from creator_studio.tools.base import load_all_tools

HEADING = "Orchestration vs langgraph-supervisor (issue 12)"
ARTIFACT = Path(__file__).resolve().parent.parent / ".test-artifacts" / "bench-orchestration.json"
FANOUT_TOOL_SECONDS = 0.2
FANOUT_CASE = EvalCase(
    id="bench-fanout-three",
    goal="How did my posts do this week, who are my top engagers, and what's my MRR?",
    expect=Expectation(agents=["content", "engagement", "revenue"],
                       tools=[ExpectedCall(name="get_content_performance"), ExpectedCall(name="find_top_engagers"),
                              ExpectedCall(name="get_revenue_metrics")],
                       trajectory="unordered"),
)


@dataclass
class Options:
    quick: bool
    reps: int  # P2 repetitions
    workers: int  # P1 worker processes
    fanout_reps: int
    p2_goals: int  # P2 goal sample: the first n cases (of the shuffled suite) that replay on both systems
    p1_budget_s: float  # P1 stops starting new cases after this long (0: no limit)
    write: bool


# Running -----------------------------------------------------------------------------------------------------
def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


@contextmanager
def slow_tools(names: Sequence[str], seconds: float) -> Iterator[None]:
    """Make each call of these tools take `seconds` (its real work, then a sleep for the rest), in both systems:
    they share the tool registry."""
    registry = load_all_tools()
    saved = {name: registry[name] for name in names}

    def slowed(fn: Callable[..., object]) -> Callable[..., object]:
        def run(ctx: object, args: object) -> object:
            started = time.perf_counter()
            result = fn(ctx, args)
            time.sleep(max(0.0, seconds - (time.perf_counter() - started)))
            return result
        return run

    for name, spec in saved.items():
        registry[name] = dataclasses.replace(spec, fn=slowed(spec.fn))
    try:
        yield
    finally:
        registry.update(saved)


@dataclass
class Results:
    cases_total: int
    cases_run: int  # P1 cases attempted within the time budget
    scripts: list[CaseScript]
    skipped: list[tuple[str, str]]
    p1: dict[str, list[Measurement]]  # system -> one measurement per replayed case
    no_prerouter: list[Measurement]  # ours with the pre-router off, over the P2 sample
    replay_failures: list[Measurement]
    p2: list[dict[str, list[Measurement]]]  # per repetition: system -> measurements over the sample
    p3: dict[str, list[float]]  # system -> wall / 200 ms per repetition
    p3_tool_s: dict[str, list[float]]  # system -> time a tool was running, per repetition
    p3_problems: list[str]
    seconds: float
    load: tuple[float, float]  # 1-minute load average before and after


def run(options: Options) -> Results:
    started = time.perf_counter()
    load_before = os.getloadavg()[0]
    # tmpfs when there is one: the benchmark compares orchestration, not this machine's disk flushes.
    workdir = Path(tempfile.mkdtemp(prefix="bench-orchestration-", dir="/dev/shm" if Path("/dev/shm").is_dir()
                                    else None))
    try:
        cases = load_cases([CASES_DIR])
        # A fixed shuffle: whatever prefix fits the time budget is a spread over every case file.
        random.Random(12).shuffle(cases)
        budget = f"a {options.p1_budget_s:.0f} s budget" if options.p1_budget_s else "no time limit"
        log(f"P1: scripting and replaying up to {len(cases)} eval cases in {options.workers} worker process(es), "
            f"{budget} ...")
        jobs = [(loaded, i < options.p2_goals) for i, loaded in enumerate(cases)]
        outcomes = replay_all(jobs, workdir, options.workers, options.p1_budget_s or None)
        scripts = [o.script for o in outcomes if o.script is not None]
        skipped = [(o.case_id, o.skipped) for o in outcomes if o.skipped is not None]
        p1: dict[str, list[Measurement]] = {OURS: [], BASELINE: []}
        no_prerouter: list[Measurement] = []
        failures: list[Measurement] = []
        sample: list[CaseScript] = []
        for outcome in outcomes:
            if outcome.script is None:
                continue
            bad = [m for m in outcome.measurements if m.problem]
            if bad:
                failures.extend(bad)
                continue
            for measurement in outcome.measurements:
                (no_prerouter if measurement.system == OURS_NO_PREROUTER else p1[measurement.system]).append(
                    measurement)
            if len(outcome.measurements) == 3:
                sample.append(outcome.script)

        templates = world_templates(workdir / "parent")
        from creator_studio.providers.llm.offline.routing import route_goal

        route_goal("warm up the shared sentence encoder", floor=0.3)  # load the embedding model before timing
        p2: list[dict[str, list[Measurement]]] = []
        for rep in range(options.reps):
            log(f"P2 repetition {rep + 1}/{options.reps} over {len(sample)} goals ...")
            round_: dict[str, list[Measurement]] = {OURS: [], BASELINE: [], BASELINE_CHECKPOINTED: []}
            for script in sample:
                for measurement in (run_ours(templates, script, workdir), run_supervisor(templates, script, workdir),
                                    run_supervisor(templates, script, workdir, checkpointed=True)):
                    round_[measurement.system].append(measurement)
            p2.append(round_)

        log("P3 fan-out ...")
        p3: dict[str, list[float]] = {OURS: [], BASELINE: []}
        p3_tool_s: dict[str, list[float]] = {OURS: [], BASELINE: []}
        p3_problems: list[str] = []
        try:
            fanout = record_script(templates, LoadedCase(case=FANOUT_CASE, source=__file__), workdir)
        except NotScriptable as exc:
            p3_problems.append(f"the fan-out goal could not be scripted: {exc}")
        else:
            with slow_tools([c.name for c in fanout.calls()], FANOUT_TOOL_SECONDS):
                for _ in range(options.fanout_reps):
                    for measurement in (run_ours(templates, fanout, workdir),
                                        run_supervisor(templates, fanout, workdir)):
                        if measurement.problem:
                            p3_problems.append(f"{measurement.system}: {measurement.problem}")
                        p3[measurement.system].append(measurement.wall_s / FANOUT_TOOL_SECONDS)
                        p3_tool_s[measurement.system].append(measurement.tool_s)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    return Results(cases_total=len(cases), cases_run=len(outcomes), scripts=scripts, skipped=skipped, p1=p1,
                   no_prerouter=no_prerouter,
                   replay_failures=failures, p2=p2, p3=p3, p3_tool_s=p3_tool_s, p3_problems=p3_problems,
                   seconds=time.perf_counter() - started, load=(load_before, os.getloadavg()[0]))


# Reporting ---------------------------------------------------------------------------------------------------
def _ratio(ours: float, baseline: float) -> float:
    return ours / baseline if baseline else float("nan")


def _verdict(value: float, goal: float) -> str:
    return "yes" if value <= goal else f"no ({value / goal:.2f}× the goal)"


def _group(script_agents: int) -> str:
    return "out of scope" if script_agents == 0 else ("one agent" if script_agents == 1 else "several agents")


def report(results: Results, options: Options, command: str) -> str:
    p1 = results.p1
    n = len(p1[OURS])
    lines: list[str] = []
    add = lines.append
    add(f"Command: `{command}` (finished in {results.seconds:.0f} s{', --quick' if options.quick else ''})  ")
    add(f"Machine: {machine_line()}; 1-minute load average {results.load[0]:.1f} at the start, "
        f"{results.load[1]:.1f} at the end (the machine is shared)  ")
    add(f"Versions: {versions_line(['langgraph', 'langgraph-supervisor', 'langchain-core', 'creator-studio'])}  ")
    add(f"Measured: {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}")
    add("")
    if n == 0:
        add("No case could be replayed on both systems; nothing to compare.")
        return "\n".join(lines)
    calls = {s: [m.calls for m in p1[s]] for s in p1}
    tokens = {s: [m.prompt_tokens for m in p1[s]] for s in p1}
    per_case_calls = [_ratio(o, b) for o, b in zip(calls[OURS], calls[BASELINE], strict=True)]
    per_case_tokens = [_ratio(o, b) for o, b in zip(tokens[OURS], tokens[BASELINE], strict=True)]
    r_calls = _ratio(sum(calls[OURS]), sum(calls[BASELINE]))
    r_tokens = _ratio(sum(tokens[OURS]), sum(tokens[BASELINE]))
    base_of = {m.case_id: m for m in p1[BASELINE]}
    np_ = results.no_prerouter
    np_calls_o, np_calls_b = sum(m.calls for m in np_), sum(base_of[m.case_id].calls for m in np_)
    np_tok_o, np_tok_b = sum(m.prompt_tokens for m in np_), sum(base_of[m.case_id].prompt_tokens for m in np_)
    r_calls_np, r_tokens_np = _ratio(np_calls_o, np_calls_b), _ratio(np_tok_o, np_tok_b)
    n_np = max(len(np_), 1)

    p2_median = [_ratio(median([m.overhead_s for m in r[OURS]]), median([m.overhead_s for m in r[BASELINE]]))
                 for r in results.p2]
    p2_p95 = [_ratio(percentile([m.overhead_s for m in r[OURS]], 95),
                     percentile([m.overhead_s for m in r[BASELINE]], 95)) for r in results.p2]
    ms = {s: Spread.of([median([m.overhead_s * 1000 for m in r[s]]) for r in results.p2]) for s in (OURS, BASELINE)}
    ms95 = {s: Spread.of([percentile([m.overhead_s * 1000 for m in r[s]], 95) for r in results.p2])
            for s in (OURS, BASELINE)}
    goals = len(results.p2[0][OURS])

    covered = ("all of them" if results.cases_run == results.cases_total else
               f"{results.cases_run} (a fixed random spread) fitted the time budget")
    add(f"Eval cases: {results.cases_total}, of which {covered}; scripted by the oracle: {len(results.scripts)}; "
        f"replayed on both systems doing the scripted work: {n} (P1). "
        f"P2 sample: {goals} goals × {len(results.p2)} repetitions, one run at a time. "
        f"P3: {len(results.p3[OURS])} repetitions. Ratios are ours ÷ baseline, measured in this one run; "
        f"a range is min–max over repetitions.")
    add("")
    add("| figure | ours | langgraph-supervisor | ratio | goal | met |")
    add("|---|---|---|---|---|---|")
    add(f"| P1 model calls per case, mean (pre-router on) | {sum(calls[OURS]) / n:.2f} | "
        f"{sum(calls[BASELINE]) / n:.2f} | {r_calls:.2f} (per case median {median(per_case_calls):.2f}, "
        f"{min(per_case_calls):.2f}–{max(per_case_calls):.2f}) | ≤ 0.5 | {_verdict(r_calls, 0.5)} |")
    add(f"| P1 prompt tokens per case, mean (pre-router on) | {sum(tokens[OURS]) / n:,.0f} | "
        f"{sum(tokens[BASELINE]) / n:,.0f} | {r_tokens:.2f} (per case median {median(per_case_tokens):.2f}, "
        f"{min(per_case_tokens):.2f}–{max(per_case_tokens):.2f}) | ≤ 0.5 | {_verdict(r_tokens, 0.5)} |")
    add(f"| P1 model calls per case, mean (pre-router off; {len(np_)} sampled cases) | {np_calls_o / n_np:.2f} | "
        f"{np_calls_b / n_np:.2f} | {r_calls_np:.2f} | ≤ 0.5 | {_verdict(r_calls_np, 0.5)} |")
    add(f"| P1 prompt tokens per case, mean (pre-router off; {len(np_)} sampled cases) | {np_tok_o / n_np:,.0f} | "
        f"{np_tok_b / n_np:,.0f} | {r_tokens_np:.2f} | ≤ 0.5 | {_verdict(r_tokens_np, 0.5)} |")
    add(f"| P2 orchestration overhead per goal, median (ms) | {ms[OURS].show(1)} | {ms[BASELINE].show(1)} | "
        f"{Spread.of(p2_median).show()} | ≤ 1.0 | {_verdict(median(p2_median), 1.0)} |")
    add(f"| P2 orchestration overhead per goal, p95 (ms) | {ms95[OURS].show(1)} | {ms95[BASELINE].show(1)} | "
        f"{Spread.of(p2_p95).show()} | ≤ 1.0 | {_verdict(median(p2_p95), 1.0)} |")
    ck = [r[BASELINE_CHECKPOINTED] for r in results.p2 if r.get(BASELINE_CHECKPOINTED)]
    if len(ck) == len(results.p2):
        ck_ms = Spread.of([median([m.overhead_s * 1000 for m in c]) for c in ck])
        ck_ratio = [_ratio(median([m.overhead_s for m in r[OURS]]), median([m.overhead_s for m in c]))
                    for r, c in zip(results.p2, ck, strict=True)]
        add(f"| P2 overhead, median (ms), vs langgraph-supervisor compiled with the same SQLite checkpointer "
            f"(like for like; not the README build) | {ms[OURS].show(1)} | {ck_ms.show(1)} | "
            f"{Spread.of(ck_ratio).show()} | ≤ 1.0 | {_verdict(median(ck_ratio), 1.0)} |")
    p2_rest = [_ratio(median([m.overhead_s - m.encoder_s for m in r[OURS]]),
                      median([m.overhead_s for m in r[BASELINE]])) for r in results.p2]
    rest_ms = Spread.of([median([(m.overhead_s - m.encoder_s) * 1000 for m in r[OURS]]) for r in results.p2])
    add(f"| P2 overhead, median (ms), ours without the pre-router's encoder pass (for reading only) | "
        f"{rest_ms.show(1)} | {ms[BASELINE].show(1)} | {Spread.of(p2_rest).show()} | – | – |")
    if results.p3[OURS] and results.p3[BASELINE]:
        ours3, base3 = Spread.of(results.p3[OURS]), Spread.of(results.p3[BASELINE])
        add(f"| P3 fan-out to 3 agents, tools 200 ms each: wall ÷ 200 ms | {ours3.show()} | {base3.show()} | "
            f"{_ratio(ours3.median, base3.median):.2f} | ours ≤ 1.3 | {_verdict(ours3.median, 1.3)} |")
    if results.p3[OURS] and results.p3[BASELINE]:
        busy = {s: Spread.of([t * 1000 for t in results.p3_tool_s[s]]) for s in (OURS, BASELINE)}
        rest = {s: Spread.of([(w * FANOUT_TOOL_SECONDS - t) * 1000 for w, t in
                              zip(results.p3[s], results.p3_tool_s[s], strict=True)]) for s in (OURS, BASELINE)}
        add("")
        add(f"P3 split: time a tool was running {busy[OURS].show(0)} ms ours (the three agents run at once) vs "
            f"{busy[BASELINE].show(0)} ms baseline (one hand-off at a time); the rest of the wall time, "
            f"orchestration, {rest[OURS].show(0)} ms ours vs {rest[BASELINE].show(0)} ms baseline.")
    add("")
    add("P1 by kind of case (calls and prompt tokens, ours ÷ baseline, totals):")
    add("")
    add("| kind | cases | calls ours / baseline | ratio | tokens ours / baseline | ratio |")
    add("|---|---|---|---|---|---|")
    agents_of = {s.case_id: len(s.subtasks) for s in results.scripts}
    for group in ("one agent", "several agents", "out of scope"):
        idx = [i for i, m in enumerate(p1[OURS]) if _group(agents_of[m.case_id]) == group]
        if not idx:
            continue
        co, cb = sum(calls[OURS][i] for i in idx), sum(calls[BASELINE][i] for i in idx)
        to, tb = sum(tokens[OURS][i] for i in idx), sum(tokens[BASELINE][i] for i in idx)
        add(f"| {group} | {len(idx)} | {co / len(idx):.2f} / {cb / len(idx):.2f} | {_ratio(co, cb):.2f} | "
            f"{to / len(idx):,.0f} / {tb / len(idx):,.0f} | {_ratio(to, tb):.2f} |")
    add("")
    add("How it is measured: one scripted oracle chat model drives both systems (the plan / hand-offs, each "
        "agent's tool calls with the case's arguments, the final answers), so both do the same tool calls on "
        "their own fresh copy of the seeded sandbox world and give the same answer; a replay that does not is "
        "excluded. Prompt tokens: tiktoken cl100k_base over the serialized messages and the tool schemas of each "
        "request. Only requests to the oracle are counted: the writer that tools use to draft text is the same "
        "offline writer in both systems. Approvals: ours auto-approves through the workspace policy (recorded in "
        "the approvals table, no pause); the baseline has no approval step, so approval work is only in ours. "
        "Ours keeps its durable SQLite checkpoints, run records and idempotency ledger; the baseline is compiled "
        "without a checkpointer, as in its README, and its tools go through the same ledger path.")
    add("")
    direct = sum(1 for sc in results.scripts for t in sc.subtasks if t.direct)
    subtasks = sum(len(sc.subtasks) for sc in results.scripts)
    encoder_ms = Spread.of([median([m.encoder_s * 1000 for m in r[OURS]]) for r in results.p2])
    add(f"Reading the figures. P1: an agent whose sub-task was planned by the embedding pre-router gets only the "
        f"tools that sub-task needs (and those that can feed them), and stops at those tools: once they all "
        f"succeeded, their results' summaries are its answer, with no request to restate them (OpenAI Agents "
        f"SDK's StopAtTools, LangChain's return_direct); {direct} of {subtasks} scripted sub-tasks ended that way. "
        f"A sub-task the router model planned gets every tool of its agent and ends when its model answers. "
        f"Independent calls go in one turn (parallel tool calls). The baseline, built as its README shows, asks "
        f"the supervisor to hand off, each agent for each turn and again for its final answer, and the "
        f"supervisor for the closing answer. Tool schemas are sent compact in both systems (no per-field "
        f"titles, no `anyOf [X, null]` for optional fields). P2/P3: per goal, ours embeds the goal's clauses "
        f"for the pre-router in one encoder pass ({encoder_ms.show(1)} ms median, on this machine's load; the "
        f"baseline's routing is a zero-latency oracle call here, a model round trip in real use), keeps "
        f"LangGraph SQLite checkpoints (durability async: written while the next step runs; model replies and "
        f"tool results are also in the run record and the idempotency ledger, so a crash repeats nothing), "
        f"records the run, each step and the approvals the policy decided; the baseline, compiled without a "
        f"checkpointer, does none of that.")
    if results.skipped:
        add("")
        add(f"Not scripted ({len(results.skipped)}): the reference run with the offline planner fails the case, so "
            f"there is no correct script to replay: " + ", ".join(c for c, _ in results.skipped) + ".")
    if results.replay_failures:
        add("")
        add(f"Scripted but excluded ({len({m.case_id for m in results.replay_failures})}): "
            + "; ".join(f"{m.case_id} [{m.system}]: {m.problem}" for m in results.replay_failures[:12]))
    if results.p3_problems:
        add("")
        add("P3 problems: " + "; ".join(results.p3_problems[:6]))
    return "\n".join(lines)


def dump_json(results: Results, path: Path) -> None:
    """Every measurement, for looking into a figure (not committed)."""
    def rows(measurements: Sequence[Measurement]) -> list[dict[str, object]]:
        return [{"system": m.system, "case": m.case_id, "calls": m.calls, "prompt_tokens": m.prompt_tokens,
                 "completion_tokens": m.completion_tokens, "wall_s": round(m.wall_s, 4), "tool_s": round(m.tool_s, 4),
                 "problem": m.problem} for m in measurements]

    data = {"p1": {system: rows(ms) for system, ms in results.p1.items()},
            "pre_router_off": rows(results.no_prerouter), "excluded": rows(results.replay_failures),
            "skipped": [{"case": c, "reason": r} for c, r in results.skipped],
            "p2": [{system: rows(ms) for system, ms in round_.items()} for round_ in results.p2],
            "p3_wall_over_200ms": results.p3, "p3_problems": results.p3_problems}
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data, indent=1), encoding="utf-8")


def parse(argv: Sequence[str] | None) -> Options:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--quick", action="store_true", help="a shorter P1 budget, fewer goals and repetitions")
    parser.add_argument("--reps", type=int, default=None, help="P2 repetitions (default 3, quick 2)")
    parser.add_argument("--workers", type=int, default=1,
                        help="P1 worker processes (default 1: the machine is shared; counts do not depend on timing)")
    parser.add_argument("--p1-budget", type=float, default=None,
                        help="seconds after which P1 starts no new case (default 240, quick 120; 0: all cases)")
    parser.add_argument("--no-write", action="store_true", help="print the table only; leave BENCHMARKS.md alone")
    args = parser.parse_args(argv)
    reps = args.reps if args.reps is not None else (2 if args.quick else 3)
    if reps < 1:
        parser.error("--reps must be at least 1")
    budget = args.p1_budget if args.p1_budget is not None else (120.0 if args.quick else 240.0)
    return Options(quick=args.quick, reps=reps, workers=args.workers, fanout_reps=3 if args.quick else 5,
                   p2_goals=8 if args.quick else 12, p1_budget_s=budget, write=not args.no_write)


def main(argv: Sequence[str] | None = None) -> int:
    options = parse(argv)
    command = ".venv/bin/python benchmarks/orchestration.py" + (" --quick" if options.quick else "")
    results = run(options)
    body = report(results, options, command)
    print(f"## {HEADING}\n\n{body}")
    dump_json(results, ARTIFACT)
    if options.write:
        write_section(HEADING, body)
        log("written to BENCHMARKS.md")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
