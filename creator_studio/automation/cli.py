"""`studio worker` and `studio workflows list|show|create|update|archive|run|pause|resume|runs|steps|templates`."""

from __future__ import annotations

import json
import signal
import uuid
from datetime import timedelta
from pathlib import Path
from types import FrameType
from typing import Annotated, Literal

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from creator_studio import gc_policy
from creator_studio.automation.templates import load_template, load_workflow_file, template_names
from creator_studio.automation.worker import Worker, WorkerOptions, default_worker_id
from creator_studio.cli_support import open_workspace
from creator_studio.logs import configure_logging
from creator_studio.settings import Settings
from creator_studio.studio import Studio

console = Console()
errors = Console(stderr=True)
WorkspaceOption = Annotated[str | None, typer.Option("--workspace", "-w", help="Workspace id (STUDIO_WORKSPACE).")]
workflows_app = typer.Typer(help="Automation Lab: workflows, their runs and templates.", no_args_is_help=True)


def _key() -> str:
    return f"cli:{uuid.uuid4().hex}"


@workflows_app.command("list")
def list_workflows(workspace: WorkspaceOption = None,
                   status: Annotated[str | None, typer.Option(help="active, paused or archived")] = None) -> None:
    """List workflows with their trigger, next run and last run (archived ones only with --status archived)."""
    if status not in (None, "active", "paused", "archived"):
        errors.print(f"[bold red]Error:[/bold red] --status is active, paused or archived, not {status!r}")
        raise typer.Exit(code=2)
    with open_workspace(workspace, configure_logs=True) as (studio, ws):
        chosen: Literal["active", "paused", "archived"] | None = status  # type: ignore[assignment]
        table = Table("id", "name", "status", "v", "trigger", "next run", "last run")
        for w in studio.automation.list_workflows(ws, status=chosen):
            table.add_row(w.id, escape(w.name), w.status, str(w.version), escape(w.trigger.describe(ws.zone)),
                          w.next_run_at.astimezone(ws.zone).strftime("%Y-%m-%d %H:%M") if w.next_run_at else "-",
                          w.last_run_status or "-")
        console.print(table)


@workflows_app.command("show")
def show(workflow: str, workspace: WorkspaceOption = None,
         as_json: Annotated[bool, typer.Option("--json")] = False) -> None:
    """Show one workflow (by id or name): trigger, steps, version and schedule."""
    with open_workspace(workspace, configure_logs=True) as (studio, ws):
        found = studio.automation.find_workflow(ws, workflow)
        if as_json:
            console.print_json(found.model_dump_json())
            return
        console.print(f"[bold]{escape(found.name)}[/bold] ({found.id}) {found.status}, version {found.version}")
        console.print(f"Trigger: {escape(found.trigger.describe(ws.zone))}")
        for number, step in enumerate(found.steps, start=1):
            console.print(f"  {number}. {escape(step.describe())}")
        if found.next_run_at:
            console.print(f"Next run: {found.next_run_at.astimezone(ws.zone):%a %d %b %Y %H:%M} ({ws.timezone})")


@workflows_app.command("create")
def create(file: Annotated[Path | None, typer.Argument(help="A YAML or JSON workflow file.")] = None,
           template: Annotated[str | None, typer.Option(help="Or a shipped template's name.")] = None,
           workspace: WorkspaceOption = None) -> None:
    """Create a workflow from a file or template; an existing one of the same name gets a new version."""
    if (file is None) == (template is None):
        errors.print("[bold red]Error:[/bold red] give a FILE or --template NAME (templates: "
                     f"{', '.join(template_names())})")
        raise typer.Exit(code=2)
    with open_workspace(workspace, configure_logs=True) as (studio, ws):
        parsed = load_workflow_file(file) if file is not None else load_template(template or "")
        workflow, changed = studio.automation.save_workflow(ws, parsed, now=studio.now())
        verb = ("Created" if workflow.version == 1 else "Updated") if changed else "Unchanged:"
        console.print(f"{verb} “{escape(workflow.name)}” ({workflow.id}), version {workflow.version}, "
                      f"{escape(workflow.trigger.describe(ws.zone))}.")


@workflows_app.command("update")
def update(file: Annotated[Path, typer.Argument(help="A YAML or JSON workflow file.")],
           workflow: Annotated[str | None, typer.Option(help="The workflow to change (id or name; default: the "
                                                              "one named in the file).")] = None,
           if_version: Annotated[int | None, typer.Option(help="Refuse if it is no longer at this version.")]
           = None,
           workspace: WorkspaceOption = None) -> None:
    """Give an existing workflow the file's definition (a new version); its name becomes the file's."""
    with open_workspace(workspace, configure_logs=True) as (studio, ws):
        parsed = load_workflow_file(file)
        found = studio.automation.find_workflow(ws, workflow or parsed.name)
        updated = studio.automation.update_workflow(ws, found.id, definition=parsed.definition(), name=parsed.name,
                                                    expected_version=if_version, now=studio.now())
        result = updated.workflow
        verb = "Updated" if updated.changed else "Unchanged:"
        console.print(f"{verb} “{escape(result.name)}” ({result.id}), version {result.version}, "
                      f"{escape(result.trigger.describe(ws.zone))}.")


@workflows_app.command("archive")
def archive(workflow: str, workspace: WorkspaceOption = None) -> None:
    """Archive a workflow: it never runs again and leaves `workflows list`; its runs stay readable."""
    with open_workspace(workspace, configure_logs=True) as (studio, ws):
        found = studio.automation.find_workflow(ws, workflow)
        archived = studio.automation.archive_workflow(ws, found.id, now=studio.now())
        console.print(f"Archived “{escape(found.name)}” ({archived.id}); `studio workflows runs {archived.id}` "
                      f"still shows its runs.")


@workflows_app.command("run")
def run(workflow: str, workspace: WorkspaceOption = None) -> None:
    """Queue a manual run now; a worker (`studio worker`) executes it."""
    with open_workspace(workspace, configure_logs=True) as (studio, ws):
        found = studio.automation.find_workflow(ws, workflow)
        queued = studio.automation.run_workflow(ws, found.id, idempotency_key=_key(), now=studio.now())
        console.print(f"Queued run {queued.id} of “{escape(found.name)}”.")


@workflows_app.command("pause")
def pause(workflow: str, workspace: WorkspaceOption = None) -> None:
    """Pause a workflow: its trigger no longer starts it."""
    with open_workspace(workspace, configure_logs=True) as (studio, ws):
        found = studio.automation.find_workflow(ws, workflow)
        change = studio.automation.pause_workflow(ws, found.id, idempotency_key=_key(), now=studio.now())
        console.print(f"Paused “{escape(found.name)}”." if change.changed else "It was already paused.")


@workflows_app.command("resume")
def resume(workflow: str, workspace: WorkspaceOption = None) -> None:
    """Resume a paused workflow; its schedule restarts from now."""
    with open_workspace(workspace, configure_logs=True) as (studio, ws):
        found = studio.automation.find_workflow(ws, workflow)
        change = studio.automation.resume_workflow(ws, found.id, idempotency_key=_key(), now=studio.now())
        console.print(f"Resumed “{escape(found.name)}”." if change.changed else "It was already active.")


@workflows_app.command("runs")
def runs(workflow: Annotated[str | None, typer.Argument()] = None, workspace: WorkspaceOption = None,
         status: Annotated[str | None, typer.Option()] = None, limit: int = 20,
         as_json: Annotated[bool, typer.Option("--json")] = False) -> None:
    """Recent runs, newest first (of one workflow if given)."""
    with open_workspace(workspace, configure_logs=True) as (studio, ws):
        workflow_id = studio.automation.find_workflow(ws, workflow).id if workflow else None
        found = studio.automation.runs(ws, workflow_id=workflow_id, status=status, limit=limit)  # type: ignore[arg-type]
        if as_json:
            console.print_json(json.dumps([r.model_dump(mode="json") for r in found]))
            return
        table = Table("run", "workflow", "trigger", "status", "queued", "error")
        for r in found:
            table.add_row(r.id, escape(r.workflow_name), r.trigger, r.status,
                          r.queued_at.astimezone(ws.zone).strftime("%Y-%m-%d %H:%M"), escape(r.error or ""))
        console.print(table)


@workflows_app.command("steps")
def steps(run_id: str, workspace: WorkspaceOption = None) -> None:
    """Every attempt at every step of one run."""
    with open_workspace(workspace, configure_logs=True) as (studio, ws):
        table = Table("#", "step", "attempt", "status", "error")
        for s in studio.automation.step_runs(ws, run_id):
            table.add_row(str(s.position + 1), escape(s.label), str(s.attempt), s.status, escape(s.error or ""))
        console.print(table)


@workflows_app.command("templates")
def templates() -> None:
    """The shipped templates (use with `studio workflows create --template NAME`)."""
    for name in template_names():
        template = load_template(name)
        console.print(f"[bold]{name}[/bold]: {escape(template.name)} — {escape(template.description or '')}")


def worker(
    worker_id: Annotated[str | None, typer.Option(help="Name in leases and logs (default host-pid).")] = None,
    poll: Annotated[float, typer.Option(help="Seconds between passes when idle.")] = 0.25,
    batch: Annotated[int, typer.Option(help="Jobs claimed per pass.")] = 20,
    lease: Annotated[float, typer.Option(help="Lease seconds: a dead worker's jobs are taken after this.")] = 30.0,
    max_seconds: Annotated[float | None, typer.Option(help="Stop after this long (default: run until SIGTERM).")]
    = None,
) -> None:
    """Run triggers, schedules, workflow steps, scheduled posts and event consumers until stopped."""
    if poll <= 0 or batch < 1 or lease <= 0:
        errors.print("[bold red]Error:[/bold red] --poll and --lease must be above 0 and --batch at least 1")
        raise typer.Exit(code=2)
    settings = Settings()
    configure_logging(settings.log_level, settings.log_json)
    studio = Studio.open(settings)
    options = WorkerOptions(worker_id=worker_id or default_worker_id(), poll_interval_s=poll, batch=batch,
                            lease=timedelta(seconds=lease))
    running = Worker(studio, options)

    def _stop(_signum: int, _frame: FrameType | None) -> None:
        running.stop_event.set()

    signal.signal(signal.SIGTERM, _stop)
    signal.signal(signal.SIGINT, _stop)
    gc_policy.tune_for_worker()
    errors.print(f"[dim]worker {options.worker_id} on {studio.db.engine.dialect.name}"
                 f"{' + redis' if settings.redis_url else ''}; stop with Ctrl-C[/dim]")
    try:
        stats = running.run(max_seconds=max_seconds)
    finally:
        studio.close()
    errors.print(f"[dim]worker {options.worker_id} stopped: {stats.jobs_done} job(s) done, "
                 f"{stats.jobs_failed} failed[/dim]")


def register(app: typer.Typer) -> None:
    app.add_typer(workflows_app, name="workflows")
    app.command("worker")(worker)
