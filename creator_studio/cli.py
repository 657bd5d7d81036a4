"""`studio`: the Creator Studio command line (typer + rich)."""

from __future__ import annotations

import json
import os
import shlex
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Annotated, Any

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

import typer
from rich.console import Console
from rich.markup import escape
from rich.panel import Panel
from rich.table import Table

from creator_studio.analytics.cli import register as register_analytics
from creator_studio.api.cli import register as register_api
from creator_studio.automation.cli import register as register_automation
from creator_studio.cli_support import fail
from creator_studio.connections.cli import register as register_connections
from creator_studio.content.media_cli import register as register_media
from creator_studio.engagement.cli import register as register_inbox
from creator_studio.errors import StudioError
from creator_studio.evals.cli import register as register_eval
from creator_studio.events.cli import register as register_events
from creator_studio.logs import configure_logging
from creator_studio.memory.cli import register as register_memory
from creator_studio.runs.approvals import Approval, ApprovalDecision
from creator_studio.runs.runner import Runner, RunOutcome
from creator_studio.settings import Settings
from creator_studio.studio import Studio

app = typer.Typer(help="Creator Studio: an autonomous growth team for online creators.", no_args_is_help=True,
                  pretty_exceptions_enable=False)
runs_app = typer.Typer(help="List, inspect and resume runs.", no_args_is_help=True)
approvals_app = typer.Typer(help="Decide what the agents want to do in the world.", no_args_is_help=True)
app.add_typer(runs_app, name="runs")
app.add_typer(approvals_app, name="approvals")

console = Console()
errors = Console(stderr=True)
WorkspaceOption = Annotated[str | None, typer.Option("--workspace", "-w", help="Workspace id (STUDIO_WORKSPACE).")]


@contextmanager
def open_runner(workspace: str | None, *, create: bool = True) -> Iterator[tuple[Studio, Runner, str]]:
    settings = Settings()
    configure_logging(settings.log_level, settings.log_json)
    studio = Studio.open(settings)
    workspace_id = workspace or settings.workspace
    if not studio.workspaces.exists(workspace_id):
        if not create:
            raise StudioError(f"Workspace {workspace_id!r} does not exist: run `studio init` first.")
        from creator_studio.sandbox.bootstrap import create_workspace

        create_workspace(studio, workspace_id)
        errors.print(f"[dim]Created workspace {workspace_id!r} in {settings.home} with the sandbox world "
                     f"(run `studio init` to set your own brand voice).[/dim]")
    runner = Runner(studio)
    try:
        yield studio, runner, workspace_id
    finally:
        runner.close()
        studio.close()


# Rendering ------------------------------------------------------------------------------------------------
class EventPrinter:
    """Shows, live, which agent and tool is working."""

    def __init__(self, target: Console) -> None:
        self.console = target

    def __call__(self, event: dict[str, Any]) -> None:
        kind = event.get("type")
        agent = event.get("agent", "")
        if kind == "agent_started":
            self.console.print(f"[bold cyan]▶ {agent}[/bold cyan] [dim]{escape(event.get('instruction', ''))}[/dim]")
        elif kind == "tool_started":
            args = ", ".join(f"{k}={_short(v)}" for k, v in (event.get("arguments") or {}).items())
            self.console.print(f"  [yellow]⚙ {event['tool']}[/yellow]({escape(args)})")
        elif kind == "tool_finished":
            mark = "[green]✓[/green]" if event.get("ok") else "[red]✗[/red]"
            self.console.print(f"    {mark} {escape(event.get('summary', ''))}")
        elif kind == "tool_rejected":
            self.console.print(f"    [red]✗ {event['tool']} rejected[/red]")
        elif kind == "approval_requested":
            self.console.print(f"  [magenta]⏸ {event['tool']} needs approval ({event['approval_id']})[/magenta]")


def _short(value: Any, limit: int = 60) -> str:
    text = json.dumps(value, ensure_ascii=False) if not isinstance(value, str) else repr(value)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def print_outcome(outcome: RunOutcome, target: Console = console) -> None:
    colour = {"completed": "green", "waiting_approval": "magenta", "failed": "red"}.get(outcome.status, "white")
    target.print(Panel(escape(outcome.answer or outcome.error or "(no answer yet)"),
                       title=f"[{colour}]{outcome.status}[/{colour}] · {outcome.run_id}",
                       subtitle=f"agents: {', '.join(outcome.agents) or 'none'} · model: {outcome.model.name} · "
                                f"{outcome.model.calls} model calls, {outcome.model.prompt_tokens}+"
                                f"{outcome.model.completion_tokens} tokens"))
    if outcome.tool_calls:
        table = Table(title="Trajectory", show_lines=False)
        for column in ("agent", "tool", "arguments", "result"):
            table.add_column(column, overflow="fold")
        for call in outcome.tool_calls:
            table.add_row(call.agent, call.tool, escape(_short(call.arguments, 80)),
                          ("" if call.status == "ok" else f"[red]{call.status}[/red] ") + escape(call.summary))
        target.print(table)
    if outcome.approvals:
        print_approvals(outcome.approvals, target, title="Approvals")


def print_approvals(approvals: list[Approval], target: Console = console, title: str = "Pending approvals") -> None:
    table = Table(title=title)
    for column in ("id", "run", "tool", "status", "decided by"):
        table.add_column(column, no_wrap=True)
    table.add_column("preview", overflow="fold")
    for approval in approvals:
        table.add_row(approval.id, approval.run_id, approval.tool, approval.status, approval.decided_by or "",
                      escape(approval.preview))
    target.print(table)


def emit_json(outcome: RunOutcome) -> None:
    sys.stdout.write(outcome.model_dump_json(indent=2) + "\n")


# Commands ---------------------------------------------------------------------------------------------------
@app.command()
def init(
    workspace: WorkspaceOption = None,
    name: Annotated[str | None, typer.Option(help="Your name as it appears in posts.")] = None,
    niche: Annotated[str | None, typer.Option(help="What you create about.")] = None,
    tone: Annotated[str | None, typer.Option(help="How you sound, e.g. 'friendly, practical'.")] = None,
    audience: Annotated[str | None, typer.Option(help="Who you create for.")] = None,
    timezone: Annotated[str | None, typer.Option(help="IANA time zone, e.g. Europe/Berlin.")] = None,
    defaults: Annotated[bool, typer.Option("--defaults", help="Ask nothing; use the sample creator.")] = False,
) -> None:
    """Create a workspace: brand voice, time zone, and the sandbox world to practise on."""
    from creator_studio.sandbox.bootstrap import create_workspace
    from creator_studio.sandbox.seed import DEFAULT_BRAND, DEFAULT_TIMEZONE

    settings = Settings()
    studio = Studio.open(settings)
    workspace_id = workspace or settings.workspace
    try:
        if studio.workspaces.exists(workspace_id):
            fail(f"Workspace {workspace_id!r} already exists in {settings.home}.")
        brand = DEFAULT_BRAND.model_copy()
        interactive = not defaults and sys.stdin.isatty()
        answers = {"creator_name": name, "niche": niche, "tone": tone, "audience": audience}
        for field, question in (("creator_name", "Your name"), ("niche", "What do you create about"),
                                ("tone", "How do you sound"), ("audience", "Who is it for")):
            value = answers[field]
            if value is None and interactive:
                value = typer.prompt(question, default=getattr(brand, field))
            if value:
                brand = brand.model_copy(update={field: value})
        zone = timezone or (typer.prompt("Time zone", default=DEFAULT_TIMEZONE) if interactive else DEFAULT_TIMEZONE)
        ws = create_workspace(studio, workspace_id, timezone=zone, brand=brand)
        console.print(f"[green]Workspace {ws.id!r} is ready[/green] in {settings.home} "
                      f"({ws.timezone}, voice: {ws.brand_voice.tone}).")
    except StudioError as exc:
        fail(exc.message)
    finally:
        studio.close()


@app.command()
def run(
    goal: Annotated[str, typer.Argument(help="What you want done, in plain language.")],
    as_json: Annotated[bool, typer.Option("--json", help="Print the run as JSON.")] = False,
    auto_approve: Annotated[bool, typer.Option("--auto-approve", help="Approve every action of this run.")] = False,
    workspace: WorkspaceOption = None,
) -> None:
    """Run one goal. Actions that need approval wait for `studio approvals` unless --auto-approve."""
    try:
        with open_runner(workspace) as (_studio, runner, workspace_id):
            printer = None if as_json else EventPrinter(console)
            outcome = runner.start(goal, workspace_id=workspace_id, auto_approve=auto_approve, on_event=printer)
    except StudioError as exc:
        fail(exc.message)
        return
    if as_json:
        emit_json(outcome)
    else:
        print_outcome(outcome)
        if outcome.status == "waiting_approval":
            console.print("Decide with [bold]studio approvals approve|reject|edit ID[/bold]; the run resumes when "
                          "every action of the batch is decided.")
    if outcome.status == "failed":
        raise typer.Exit(code=1)


@app.command()
def chat(workspace: WorkspaceOption = None) -> None:
    """Talk to your Command Center. Approvals are asked right here."""
    try:
        with open_runner(workspace) as (studio, runner, workspace_id):
            ws = studio.workspaces.get(workspace_id)
            console.print(Panel(f"Workspace [bold]{ws.name}[/bold] · {ws.timezone} · model: {studio.models.name}\n"
                                "Type a goal, or 'exit'.", title="Creator Studio"))
            printer = EventPrinter(console)
            while True:
                try:
                    goal = console.input("[bold]you ›[/bold] ").strip()
                except (EOFError, KeyboardInterrupt):
                    console.print()
                    return
                if goal.lower() in ("exit", "quit", ":q"):
                    return
                if not goal:
                    continue
                try:
                    outcome = runner.start(goal, workspace_id=workspace_id, on_event=printer, source="chat")
                    while outcome.status == "waiting_approval":
                        for approval in outcome.pending_approvals:
                            _ask_approval(runner, approval)
                        outcome = runner.resume(outcome.run_id, on_event=printer)
                except StudioError as exc:
                    errors.print(f"[red]{exc.message}[/red]")
                    continue
                title = ", ".join(outcome.agents) or "command_center"
                console.print(Panel(escape(outcome.answer or outcome.error or ""), title=title))
    except StudioError as exc:
        fail(exc.message)


def _ask_approval(runner: Runner, approval: Approval) -> None:
    console.print(Panel(escape(approval.preview), title=f"[magenta]Approve {approval.tool}?[/magenta] ({approval.id})"))
    while True:
        answer = console.input("\\[a]pprove / \\[r]eject / \\[e]dit › ").strip().lower()
        try:
            if answer in ("a", "approve", "y", "yes"):
                runner.decide(approval.id, ApprovalDecision(decision="approve"), resume=False)
            elif answer in ("r", "reject", "n", "no"):
                reason = console.input("Why (the agent is told)? ").strip() or None
                runner.decide(approval.id, ApprovalDecision(decision="reject", reason=reason), resume=False)
            elif answer in ("e", "edit"):
                changes = _parse_assignments(shlex.split(console.input("key=value … › ")))
                runner.decide(approval.id, ApprovalDecision(decision="edit", arguments=changes), resume=False)
            else:
                continue
            return
        except StudioError as exc:
            errors.print(f"[red]{exc.message}[/red]")


def _parse_assignments(items: list[str]) -> dict[str, Any]:
    changes: dict[str, Any] = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise StudioError(f"{item!r} is not key=value.")
        try:
            changes[key] = json.loads(value)
        except json.JSONDecodeError:
            changes[key] = value
    return changes


@runs_app.command("list")
def runs_list(workspace: WorkspaceOption = None, status: Annotated[str | None, typer.Option()] = None,
              limit: Annotated[int, typer.Option(min=1, max=500)] = 20) -> None:
    """Recent runs of the workspace."""
    with open_runner(workspace) as (studio, _runner, workspace_id):
        table = Table(title="Runs")
        for column in ("id", "status", "created"):
            table.add_column(column, no_wrap=True)
        table.add_column("goal", overflow="fold")
        for record in studio.runs.recent(workspace_id, status=status, limit=limit):
            table.add_row(record.id, record.status, record.created_at.strftime("%Y-%m-%d %H:%M"), record.goal)
        console.print(table)


@runs_app.command("show")
def runs_show(run_id: str, as_json: Annotated[bool, typer.Option("--json")] = False,
              workspace: WorkspaceOption = None) -> None:
    """One run: answer, trajectory, approvals and model usage."""
    try:
        with open_runner(workspace) as (studio, runner, workspace_id):
            studio.runs.get(run_id, workspace_id)
            outcome = runner.outcome(run_id)
    except StudioError as exc:
        fail(exc.message)
        return
    emit_json(outcome) if as_json else print_outcome(outcome)


@runs_app.command("resume")
def runs_resume(run_id: str, auto_approve: Annotated[bool, typer.Option("--auto-approve")] = False,
                as_json: Annotated[bool, typer.Option("--json")] = False, workspace: WorkspaceOption = None) -> None:
    """Continue a run after approvals, or after its process died. Finished side effects never repeat."""
    try:
        with open_runner(workspace) as (studio, runner, workspace_id):
            studio.runs.get(run_id, workspace_id)
            outcome = runner.resume(run_id, auto_approve=auto_approve,
                                    on_event=None if as_json else EventPrinter(console))
    except StudioError as exc:
        fail(exc.message)
        return
    emit_json(outcome) if as_json else print_outcome(outcome)


@approvals_app.command("list")
def approvals_list(workspace: WorkspaceOption = None,
                   status: Annotated[str, typer.Option(help="pending, approved, rejected, edited or all")] = "pending"
                   ) -> None:
    """Actions waiting for a decision (or, with --status, decided ones)."""
    with open_runner(workspace) as (studio, _runner, workspace_id):
        items = studio.approvals.list(workspace_id, status=None if status == "all" else status)
        print_approvals(items, title=f"Approvals ({status})")


def _decide(approval_id: str, decision: ApprovalDecision, workspace: str | None, as_json: bool) -> None:
    try:
        with open_runner(workspace) as (_studio, runner, workspace_id):
            outcome = runner.decide(approval_id, decision, workspace_id=workspace_id,
                                    on_event=None if as_json else EventPrinter(console))
    except StudioError as exc:
        fail(exc.message)
        return
    emit_json(outcome) if as_json else print_outcome(outcome)


@approvals_app.command("approve")
def approvals_approve(approval_id: str, workspace: WorkspaceOption = None,
                      as_json: Annotated[bool, typer.Option("--json")] = False) -> None:
    """Approve an action; its run resumes once its batch is decided."""
    _decide(approval_id, ApprovalDecision(decision="approve"), workspace, as_json)


@approvals_app.command("reject")
def approvals_reject(approval_id: str, reason: Annotated[str | None, typer.Option(help="Told to the agent.")] = None,
                     workspace: WorkspaceOption = None, as_json: Annotated[bool, typer.Option("--json")] = False
                     ) -> None:
    """Reject an action: it does not happen, and the agent is told why."""
    _decide(approval_id, ApprovalDecision(decision="reject", reason=reason), workspace, as_json)


@approvals_app.command("edit")
def approvals_edit(approval_id: str,
                   assignments: Annotated[list[str], typer.Option("--set", help="key=value (JSON values allowed)")],
                   workspace: WorkspaceOption = None, as_json: Annotated[bool, typer.Option("--json")] = False
                   ) -> None:
    """Change an action's arguments, then approve it (the new arguments are validated first)."""
    try:
        changes = _parse_assignments(assignments)
    except StudioError as exc:
        fail(exc.message)
        return
    _decide(approval_id, ApprovalDecision(decision="edit", arguments=changes), workspace, as_json)


@app.command()
def demo(home: Annotated[str | None, typer.Option(help="Where the demo workspace lives (default: a fresh one "
                                                       "under STUDIO_HOME/demo).")] = None,
         days: Annotated[int | None, typer.Option(help="Run the simulated month instead: this many days.")] = None,
         seed: Annotated[int | None, typer.Option(help="The simulated world's seed (default 7).")] = None,
         dashboard: Annotated[bool, typer.Option(help="Serve the live dashboard on 127.0.0.1 while the demo "
                                                      "runs (its URL and a token are printed).")] = True) -> None:
    """Show the studio end to end on the sandbox world: single agent, two agents in parallel, a rejection.
    With --days/--seed: the three cross-module workflows in a simulated month, with a report and a chart."""
    from creator_studio.demo import run_demo, run_simulated_month

    try:
        if days is not None or seed is not None:
            run_simulated_month(console, home, days=30 if days is None else days, seed=7 if seed is None else seed,
                                dashboard=dashboard)
            return
        run_demo(console, home, dashboard=dashboard)
    except StudioError as exc:
        fail(exc.message)


register_eval(app)
register_connections(app)
register_media(app)
register_events(app)
register_api(app)
register_memory(app)
register_inbox(app)
register_automation(app)
register_analytics(app)

if __name__ == "__main__":  # pragma: no cover
    app()
