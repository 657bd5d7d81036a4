"""Eval reports: the JSON document (for machines and `--compare`), rich tables, Markdown."""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from datetime import datetime
from pathlib import Path
from typing import Literal

from pydantic import BaseModel
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from creator_studio.evals.metrics import GroupMetrics
from creator_studio.evals.results import CaseResult, TrialResult

REPORT_FORMAT = "creator-studio-eval/1"
MAX_LABEL = 160


class JudgeInfo(BaseModel):
    enabled: bool
    note: str | None = None


class Gate(BaseModel):
    k: int
    value: float | None
    min_pass: float | None
    passed: bool


class CaseDelta(BaseModel):
    id: str
    change: Literal["regressed", "improved", "new", "missing"]
    baseline: float | None
    current: float | None


class Comparison(BaseModel):
    baseline: str
    baseline_model: str | None
    regressed: list[CaseDelta]
    improved: list[CaseDelta]
    new: list[CaseDelta]
    missing: list[CaseDelta]
    unchanged: int


class SuiteReport(BaseModel):
    format: str = REPORT_FORMAT
    command: str
    model: str
    base_url: str | None
    eval_now: datetime
    started_at: datetime
    finished_at: datetime
    duration_s: float
    trials: int
    concurrency: int
    case_files: list[str]
    judge: JudgeInfo
    overall: GroupMetrics
    groups: list[GroupMetrics]
    gate: Gate
    cases: list[CaseResult]
    comparison: Comparison | None = None

    @property
    def failing_cases(self) -> list[CaseResult]:
        return [c for c in self.cases if c.passes < len(c.trials)]


# Baselines ---------------------------------------------------------------------------------------------------
class BaselineError(Exception):
    pass


class Baseline(BaseModel):
    path: str
    model: str | None
    pass_rates: dict[str, float]


def load_baseline(path: Path) -> Baseline:
    """Pass rates by case id from a previous `--json` file."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise BaselineError(f"{path}: cannot read the baseline: {exc.strerror or exc}") from exc
    except json.JSONDecodeError as exc:
        raise BaselineError(f"{path}: the baseline is not JSON ({exc.msg} at line {exc.lineno})") from exc
    if not isinstance(data, dict) or not isinstance(data.get("cases"), list):
        raise BaselineError(f"{path}: not a `studio eval --json` file (no `cases` list)")
    rates: dict[str, float] = {}
    for index, entry in enumerate(data["cases"]):
        case_id = entry.get("id") if isinstance(entry, dict) else None
        rate = entry.get("pass_rate") if isinstance(entry, dict) else None
        if not isinstance(case_id, str) or not isinstance(rate, int | float) or isinstance(rate, bool):
            raise BaselineError(f"{path}: cases[{index}] has no `id` and numeric `pass_rate`")
        rates[case_id] = float(rate)
    model = data.get("model")
    return Baseline(path=str(path), model=model if isinstance(model, str) else None, pass_rates=rates)


def compare(cases: Sequence[CaseResult], baseline: Baseline) -> Comparison:
    """Cases whose pass rate went down or up since the baseline, and cases only one side has."""
    current = {c.id: c.pass_rate for c in cases}
    regressed, improved, new = [], [], []
    unchanged = 0
    for case_id, rate in current.items():
        before = baseline.pass_rates.get(case_id)
        if before is None:
            new.append(CaseDelta(id=case_id, change="new", baseline=None, current=rate))
        elif rate < before:
            regressed.append(CaseDelta(id=case_id, change="regressed", baseline=before, current=rate))
        elif rate > before:
            improved.append(CaseDelta(id=case_id, change="improved", baseline=before, current=rate))
        else:
            unchanged += 1
    missing = [CaseDelta(id=case_id, change="missing", baseline=rate, current=None)
               for case_id, rate in baseline.pass_rates.items() if case_id not in current]
    return Comparison(baseline=baseline.path, baseline_model=baseline.model,
                      regressed=sorted(regressed, key=lambda d: (d.current or 0) - (d.baseline or 0)),
                      improved=sorted(improved, key=lambda d: (d.baseline or 0) - (d.current or 0)),
                      new=new, missing=missing, unchanged=unchanged)


# Shared formatting ------------------------------------------------------------------------------------------
def pct(value: float | None) -> str:
    if value is None:
        return "—"
    return f"{value * 100:.1f}".removesuffix(".0") + "%"


def seconds(value: float | None) -> str:
    return "—" if value is None else f"{value:.2f}s"


def number(value: float | None, digits: int = 1) -> str:
    return "—" if value is None else f"{value:,.{digits}f}"


def _clip(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= MAX_LABEL else text[: MAX_LABEL - 1] + "…"


def diff_lines(trial: TrialResult) -> list[tuple[str, str]]:
    """(style, text) lines of the expected-vs-actual trajectory: ' ' kept, '-' expected, '+' actual."""
    lines: list[tuple[str, str]] = []
    if not trial.diff:
        calls = trial.observation.calls
        lines.append(("dim", "  (no tools expected by the case; actual calls below)" if calls
                      else "  (no tool calls)"))
        lines.extend(("", "  " + _clip(c.label()) + _status(c.status)) for c in calls)
        return lines
    for line in trial.diff:
        if line.kind == "match" and line.actual is not None:
            lines.append(("dim", "  " + _clip(line.actual.label()) + _status(line.actual.status)))
        elif line.kind == "mismatch" and line.expected is not None and line.actual is not None:
            lines.append(("red", "- " + _clip(line.expected.label())))
            lines.append(("yellow", "+ " + _clip(line.actual.label()) + _status(line.actual.status)))
            lines.extend(("yellow", "    ! " + _clip(d)) for d in line.differences)
        elif line.kind == "missing" and line.expected is not None:
            lines.append(("red", "- " + _clip(line.expected.label()) + "   (never called)"))
        elif line.kind == "extra" and line.actual is not None:
            lines.append(("cyan", "+ " + _clip(line.actual.label()) + _status(line.actual.status)
                          + "   (not expected)"))
    return lines


def _status(status: str) -> str:
    return "" if status == "ok" else f"   [{status}]"


def pass_k_text(metrics: GroupMetrics) -> str:
    return " · ".join(f"pass^{k} {pct(v)}" for k, v in sorted(metrics.pass_hat_k.items())) or "no trials"


# Terminal ---------------------------------------------------------------------------------------------------
def render_terminal(report: SuiteReport, console: Console) -> None:
    console.print(f"[bold]studio eval[/bold] · {len(report.cases)} cases · model {escape(report.model)} · "
                  f"{report.overall.trials} trials · {report.duration_s:.1f}s")
    console.print(_table("Results by agent (cases grouped by expected agents)", report, outcome_columns(report)))
    console.print(_table("Tool use, latency and cost by agent", report, tool_cost_columns(report)))
    console.print(f"[bold]Overall:[/bold] {pass_k_text(report.overall)}")
    _render_failures(report, console)
    if report.comparison is not None:
        _render_comparison(report.comparison, console)
    if not report.judge.enabled and report.judge.note:
        console.print(f"[yellow]Judge skipped:[/yellow] {escape(report.judge.note)}")
    gate = report.gate
    if gate.min_pass is not None:
        verdict = "[green]passed[/green]" if gate.passed else "[bold red]FAILED[/bold red]"
        console.print(f"Gate: pass^{gate.k} {pct(gate.value)} vs --min-pass {pct(gate.min_pass)} → {verdict}")


def _rows(report: SuiteReport) -> list[GroupMetrics]:
    return [*report.groups, report.overall]


Column = tuple[str, Callable[[GroupMetrics], str]]


def outcome_columns(report: SuiteReport) -> list[Column]:
    """Did the trials pass, and why not: pass^k, routing, trajectory, approvals, answers."""
    k = report.gate.k
    columns: list[Column] = [
        ("group", lambda r: r.group), ("cases", lambda r: str(r.cases)), ("trials", lambda r: str(r.trials)),
        ("passed", lambda r: pct(r.pass_rate)), ("pass^1", lambda r: pct(r.pass_hat_k.get(1)))]
    if k > 1:
        columns.append((f"pass^{k}", lambda r: pct(r.pass_hat_k.get(k))))
    columns += [("routing", lambda r: pct(r.routing_accuracy)), ("trajectory", lambda r: pct(r.trajectory_match)),
                ("approvals", lambda r: pct(r.approval_compliance)), ("answer", lambda r: pct(r.answer_check_rate))]
    return columns


def tool_cost_columns(report: SuiteReport) -> list[Column]:
    """How tools were used, and what the trials cost in time, model calls and tokens."""
    columns: list[Column] = [
        ("group", lambda r: r.group), ("tool P", lambda r: pct(r.tool_precision)),
        ("tool R", lambda r: pct(r.tool_recall)), ("args", lambda r: pct(r.argument_match)),
        ("forbidden", lambda r: str(r.forbidden_violations)), ("p50", lambda r: seconds(r.latency_p50_s)),
        ("p95", lambda r: seconds(r.latency_p95_s)), ("calls/case", lambda r: number(r.model_calls_per_case)),
        ("tokens/case", lambda r: number(r.tokens_per_case, 0))]
    if report.judge.enabled:
        columns.append(("brand fit", lambda r: f"{number(r.judge_mean, 2)} (n={r.judged})"))
    return columns


def _table(title: str, report: SuiteReport, columns: list[Column]) -> Table:
    table = Table(title=title)
    for header, _cell in columns:
        if header == "group":
            table.add_column(header, no_wrap=True)
        else:
            table.add_column(header, justify="right")
    last_group = report.groups[-1] if report.groups else None
    for row in _rows(report):
        table.add_row(*(cell(row) for _header, cell in columns), style="bold" if row.group == "overall" else "",
                      end_section=row is last_group)
    return table


def _markdown_table(report: SuiteReport, columns: list[Column]) -> list[str]:
    lines = ["| " + " | ".join(header for header, _cell in columns) + " |",
             "|---|" + "---:|" * (len(columns) - 1)]
    for row in _rows(report):
        cells = [cell(row) for _header, cell in columns]
        if row.group == "overall":
            cells[0] = "**overall**"
        lines.append("| " + " | ".join(cells) + " |")
    return lines


def _render_failures(report: SuiteReport, console: Console) -> None:
    failing = report.failing_cases
    if not failing:
        console.print("[green]Every trial passed.[/green]")
        return
    console.rule(f"[red]{len(failing)} failing case(s)[/red]")
    for case in failing:
        failed = [t for t in case.trials if not t.passed]
        first = failed[0]
        console.print(f"[bold red]✗ {escape(case.id)}[/bold red] [dim]({escape(case.source)}, group "
                      f"{case.group})[/dim] — {case.passes}/{len(case.trials)} trials passed")
        console.print(f"  goal: {escape(case.case.goal)}")
        for check in first.failed_checks:
            console.print(f"  [red]•[/red] {check.name}: {escape(check.detail)}")
        console.print(f"  [dim]trajectory of trial {first.trial} (- expected, + actual):[/dim]")
        for style, text in diff_lines(first):
            console.print(f"  [{style}]{escape(text)}[/{style}]" if style else f"  {escape(text)}")
        if len(failed) > 1:
            console.print(f"  [dim](+{len(failed) - 1} more failing trial(s): see --json)[/dim]")


def _render_comparison(comparison: Comparison, console: Console) -> None:
    console.rule(f"Compared with {escape(comparison.baseline)}")
    changes = [*comparison.regressed, *comparison.improved, *comparison.new, *comparison.missing]
    if not changes:
        console.print(f"No case changed its pass rate ({comparison.unchanged} unchanged).")
        return
    table = Table()
    for column in ("case", "change", "baseline", "now"):
        table.add_column(column)
    colours = {"regressed": "red", "improved": "green", "new": "cyan", "missing": "yellow"}
    for delta in changes:
        colour = colours[delta.change]
        table.add_row(escape(delta.id), f"[{colour}]{delta.change}[/{colour}]", pct(delta.baseline),
                      pct(delta.current))
    console.print(table)
    console.print(f"{len(comparison.regressed)} regressed, {len(comparison.improved)} improved, "
                  f"{len(comparison.new)} new, {len(comparison.missing)} missing, {comparison.unchanged} unchanged.")


# Files ------------------------------------------------------------------------------------------------------
def write_json(report: SuiteReport, path: Path) -> None:
    path.write_text(report.model_dump_json(indent=2) + "\n", encoding="utf-8")


def render_markdown(report: SuiteReport) -> str:
    out = [
        "# Creator Studio eval report", "",
        f"- Command: `{report.command}`",
        f"- Model: `{report.model}`" + (f" at `{report.base_url}`" if report.base_url else ""),
        f"- Cases: {len(report.cases)} · trials: {report.overall.trials} · concurrency {report.concurrency}",
        f"- Evaluation time (studio clock): {report.eval_now.isoformat()}",
        f"- Ran {report.started_at.isoformat(timespec='seconds')} in {report.duration_s:.1f}s",
        f"- Overall: {pass_k_text(report.overall)}", "",
        "## Results by agent", "",
        *_markdown_table(report, outcome_columns(report)), "",
        "## Tool use, latency and cost by agent", "",
        *_markdown_table(report, tool_cost_columns(report)),
    ]
    if not report.judge.enabled and report.judge.note:
        out += ["", f"> Judge skipped: {report.judge.note}"]
    out += ["", "## Failures", ""]
    if not report.failing_cases:
        out.append("Every trial passed.")
    for case in report.failing_cases:
        failed = [t for t in case.trials if not t.passed]
        first = failed[0]
        out += [f"### `{case.id}` — {case.passes}/{len(case.trials)} passed", "",
                f"Goal: {_md(case.case.goal)} (`{case.source}`, group {case.group})", ""]
        out += [f"- **{c.name}**: {_md(c.detail)}" for c in first.failed_checks]
        out += ["", f"Trajectory of trial {first.trial} (`-` expected, `+` actual):", "", "```diff"]
        out += [text for _style, text in diff_lines(first)]
        out += ["```", ""]
    if report.comparison is not None:
        comparison = report.comparison
        out += ["## Compared with baseline", "", f"Baseline: `{comparison.baseline}`"
                + (f" (model `{comparison.baseline_model}`)" if comparison.baseline_model else ""), ""]
        changes = [*comparison.regressed, *comparison.improved, *comparison.new, *comparison.missing]
        if changes:
            out += ["| case | change | baseline | now |", "|---|---|---:|---:|"]
            out += [f"| `{d.id}` | {d.change} | {pct(d.baseline)} | {pct(d.current)} |" for d in changes]
        out += ["", f"{len(comparison.regressed)} regressed, {len(comparison.improved)} improved, "
                f"{len(comparison.new)} new, {len(comparison.missing)} missing, {comparison.unchanged} unchanged."]
    gate = report.gate
    if gate.min_pass is not None:
        out += ["", f"**Gate:** pass^{gate.k} {pct(gate.value)} vs min {pct(gate.min_pass)}: "
                f"{'passed' if gate.passed else 'FAILED'}"]
    return "\n".join(out) + "\n"


def _md(text: str) -> str:
    return " ".join(text.split()).replace("|", "\\|")
