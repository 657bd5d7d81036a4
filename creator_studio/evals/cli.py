"""`studio eval CASES...`: run eval cases against the Command Center and report (format: design/evals.md).

Exit codes: 0 done; 1 pass^k (k = --trials) is below --min-pass; 2 the cases, options or baseline are
invalid (nothing was run).
"""

from __future__ import annotations

import shlex
import tempfile
import threading
import time
from datetime import UTC, datetime
from fnmatch import fnmatchcase
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

from creator_studio.cli_support import fail
from creator_studio.errors import StudioError
from creator_studio.evals.cases import CaseFileError, LoadedCase, load_cases
from creator_studio.evals.harness import EvalConfig, Harness
from creator_studio.evals.metrics import by_group, gate_value, summarise
from creator_studio.evals.report import (
    Baseline,
    BaselineError,
    Gate,
    JudgeInfo,
    SuiteReport,
    compare,
    load_baseline,
    render_markdown,
    render_terminal,
    write_json,
)
from creator_studio.evals.results import CaseResult, TrialResult
from creator_studio.evals.worlds import EVAL_NOW
from creator_studio.logs import configure_logging
from creator_studio.providers.llm.provider import build_model_provider
from creator_studio.settings import Settings

OFFLINE_JUDGE_NOTE = ("the offline model writes from templates and cannot grade them; run with "
                      "--model openai:<name> to score brand-voice fit")


def register(app: typer.Typer) -> None:
    """Add the `eval` command to the `studio` app."""
    app.command("eval")(eval_command)


def eval_command(
    cases: Annotated[list[Path], typer.Argument(help="Case files (YAML) or folders of them.", show_default=False,
                                                 metavar="CASES...")],
    model: Annotated[str | None, typer.Option(
        help="offline or openai:<model name> (default: STUDIO_MODEL, or openai when an endpoint is set).")] = None,
    base_url: Annotated[str | None, typer.Option(
        "--base-url", help="OpenAI-compatible endpoint, e.g. http://127.0.0.1:8080/v1.")] = None,
    trials: Annotated[int, typer.Option(min=1, max=100, help="Trials per case (k of pass^k) unless a case sets "
                                                              "its own.")] = 1,
    concurrency: Annotated[int, typer.Option(min=1, max=64, help="Trials run at the same time (worth it for remote "
                                                                   "models; the offline model is CPU-bound).")] = 1,
    json_out: Annotated[Path | None, typer.Option("--json", help="Write every trial and the metrics as JSON.")
                        ] = None,
    report_out: Annotated[Path | None, typer.Option("--report", help="Write a Markdown report.")] = None,
    baseline_path: Annotated[Path | None, typer.Option(
        "--compare", help="A previous --json file: show cases that regressed or improved.")] = None,
    min_pass: Annotated[float | None, typer.Option(
        "--min-pass", min=0.0, max=1.0, help="Exit 1 when pass^k (k = --trials) is below this (0..1).")] = None,
    only: Annotated[list[str] | None, typer.Option(
        "--only", help="Run only the cases whose id matches this glob (repeatable).")] = None,
    judge: Annotated[bool, typer.Option("--judge/--no-judge", help="Grade brand-voice fit with the model "
                                                                   "(real models only).")] = True,
) -> None:
    """Run eval cases on fresh sandbox worlds and score routing, tool use, approvals and pass^k."""
    out = Console()
    if not out.is_terminal:  # piped or CI logs: rich would assume 80 columns and squeeze the tables
        out = Console(width=160)
    err = Console(stderr=True)

    if model is not None and model != "offline" and not (model.startswith("openai:") and len(model) > 7):
        fail(f"--model {model!r} is not understood: use 'offline' or 'openai:<model name>'.")
    for option, path in (("--json", json_out), ("--report", report_out)):
        if path is not None and not path.parent.is_dir():
            fail(f"{option} {path}: the folder {path.parent} does not exist.")
    try:
        loaded = load_cases(cases)
    except CaseFileError as exc:
        fail(str(exc))
    if only:
        loaded = [c for c in loaded if any(fnmatchcase(c.case.id, pattern) for pattern in only)]
        if not loaded:
            fail(f"no case id matches --only {' '.join(only)}.")
    baseline: Baseline | None = None
    if baseline_path is not None:
        try:
            baseline = load_baseline(baseline_path)
        except BaselineError as exc:
            fail(str(exc))
    settings = Settings()
    updates: dict[str, object] = {}
    if model is not None:
        updates["model"] = model
    if base_url is not None:
        updates["openai_base_url"] = base_url
    settings = settings.model_copy(update=updates)
    configure_logging(settings.log_level, settings.log_json)
    try:
        provider = build_model_provider(settings)
        provider.chat_model()  # a misconfigured endpoint fails here, once, not in every trial
    except StudioError as exc:
        fail(exc.message)

    judge_on = judge and not provider.offline
    judge_info = JudgeInfo(enabled=judge_on, note=None if judge_on else (
        OFFLINE_JUDGE_NOTE if provider.offline else "turned off with --no-judge"))
    if provider.offline:
        err.print(f"[yellow]Judge evaluator skipped:[/yellow] {OFFLINE_JUDGE_NOTE}.")
    config = EvalConfig(settings=settings, trials=trials, concurrency=concurrency, judge=judge_on, now=EVAL_NOW)
    started_at, started = datetime.now(UTC), time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="studio-eval-", ignore_cleanup_errors=True) as workdir:
        harness = Harness(config, Path(workdir))
        total = sum(harness.trials_of(c) for c in loaded)
        err.print(f"Running {len(loaded)} case(s), {total} trial(s) on model [bold]{escape(provider.name)}[/bold] "
                  f"(concurrency {concurrency})…")
        results = _run_with_progress(harness, loaded, total, err)
    overall = summarise("overall", results)
    k, value = gate_value(overall, trials)
    report = SuiteReport(
        command=_command_line(cases, model, base_url, trials, concurrency, json_out, report_out, baseline_path,
                              min_pass, only, judge),
        model=provider.name, base_url=settings.openai_base_url if not provider.offline else None,
        eval_now=EVAL_NOW, started_at=started_at, finished_at=datetime.now(UTC),
        duration_s=round(time.perf_counter() - started, 3), trials=trials, concurrency=concurrency,
        case_files=sorted({c.source for c in loaded}), judge=judge_info, overall=overall, groups=by_group(results),
        gate=Gate(k=k, value=value, min_pass=min_pass,
                  passed=min_pass is None or (value is not None and value >= min_pass)),
        cases=results, comparison=compare(results, baseline) if baseline is not None else None)
    render_terminal(report, out)
    if json_out is not None:
        write_json(report, json_out)
        err.print(f"[dim]Wrote {json_out}[/dim]")
    if report_out is not None:
        report_out.write_text(render_markdown(report), encoding="utf-8")
        err.print(f"[dim]Wrote {report_out}[/dim]")
    if not report.gate.passed:
        raise typer.Exit(code=1)


def _run_with_progress(harness: Harness, loaded: list[LoadedCase], total: int, err: Console) -> list[CaseResult]:
    counts = {"passed": 0, "failed": 0}
    lock = threading.Lock()
    columns = (SpinnerColumn(), TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
               TimeElapsedColumn())
    with Progress(*columns, console=err) as progress:
        task = progress.add_task("preparing worlds", total=total)

        def on_trial(result: TrialResult) -> None:  # called from worker threads
            with lock:
                counts["passed" if result.passed else "failed"] += 1
                text = f"{counts['passed']} passed · {counts['failed']} failed · last: {result.case_id}"
            progress.update(task, advance=1, description=escape(text))

        return harness.run(loaded, on_trial)


def _command_line(cases: list[Path], model: str | None, base_url: str | None, trials: int, concurrency: int,
                  json_out: Path | None, report_out: Path | None, baseline: Path | None, min_pass: float | None,
                  only: list[str] | None, judge: bool) -> str:
    """The command as it was given (options in a canonical order), for the JSON and Markdown reports."""
    parts = ["studio", "eval", *map(str, cases)]
    options: list[tuple[str, object | None]] = [
        ("--model", model), ("--base-url", base_url), ("--trials", trials), ("--concurrency", concurrency),
        ("--json", json_out), ("--report", report_out), ("--compare", baseline), ("--min-pass", min_pass)]
    for name, value in options:
        if value is not None:
            parts += [name, str(value)]
    for pattern in only or []:
        parts += ["--only", pattern]
    if not judge:
        parts.append("--no-judge")
    return shlex.join(parts)
