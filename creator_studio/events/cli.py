"""`studio events|audit|webhooks ...`: read the event log, check its hash chain, manage outbound webhooks."""

from __future__ import annotations

import json
import time
from datetime import datetime
from typing import Annotated

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from creator_studio.cli_support import open_studio
from creator_studio.events.schemas import Event

events_app = typer.Typer(help="The event log: list, follow, dead letters, replay.", no_args_is_help=True)
audit_app = typer.Typer(help="The tamper-evident audit log.", no_args_is_help=True)
webhooks_app = typer.Typer(help="Outbound webhooks: signed POSTs of events to your URLs.", no_args_is_help=True)

console = Console()
errors = Console(stderr=True)
WorkspaceOption = Annotated[str | None, typer.Option("--workspace", "-w", help="Workspace id (STUDIO_WORKSPACE).")]
TypesOption = Annotated[list[str] | None, typer.Option("--type", "-t", help="Event type or pattern (revenue.*).")]


def register(app: typer.Typer) -> None:
    app.add_typer(events_app, name="events")
    app.add_typer(audit_app, name="audit")
    app.add_typer(webhooks_app, name="webhooks")


def _summary(data: dict[str, object], width: int = 80) -> str:
    text = ", ".join(f"{key}={value}" for key, value in data.items() if value is not None)
    return text if len(text) <= width else text[: width - 1] + "…"


def _event_row(table: Table, position: int, event: Event) -> None:
    table.add_row(str(position), event.occurred_at.strftime("%Y-%m-%d %H:%M:%S"), event.type, event.source,
                  event.correlation_id or "", escape(_summary(event.data)), event.id)


def _event_table() -> Table:
    table = Table("#", "time (UTC)", "type", "source", "correlation", "data", "id")
    return table


# -- events ---------------------------------------------------------------------------------------------------
@events_app.command("list")
def list_events(workspace: WorkspaceOption = None, types: TypesOption = None,
                since: Annotated[datetime | None, typer.Option(help="Only events at or after (UTC).")] = None,
                correlation: Annotated[str | None, typer.Option("--correlation", help="Run or workflow id.")] = None,
                limit: Annotated[int, typer.Option(min=1, max=10_000)] = 50,
                as_json: Annotated[bool, typer.Option("--json", help="One JSON event per line.")] = False) -> None:
    """The newest events of the workspace (oldest first)."""
    with open_studio() as (studio, settings):
        found = studio.events.query_positions(
            workspace or settings.workspace, types=types, since=since.astimezone() if since else None,
            correlation_id=correlation, limit=limit)
        if as_json:
            for _, event in found:
                console.print_json(json.dumps(event.to_record()))
            return
        table = _event_table()
        for position, event in found:
            _event_row(table, position, event)
        console.print(table if found else "[dim]No events.[/dim]")


@events_app.command("tail")
def tail_events(workspace: WorkspaceOption = None, types: TypesOption = None,
                last: Annotated[int, typer.Option(help="Show this many past events first.")] = 10,
                interval: Annotated[float, typer.Option(help="Seconds between polls.")] = 1.0,
                duration: Annotated[float | None, typer.Option(help="Stop after this many seconds.")] = None) -> None:
    """Print events as they are stored (Ctrl-C stops)."""
    with open_studio() as (studio, settings):
        workspace_id = workspace or settings.workspace
        found = studio.events.query_positions(workspace_id, types=types, limit=max(last, 1))
        position = found[-1][0] if found else 0
        for item_position, event in found[-last:] if last else []:
            console.print(_line(item_position, event))
        stop_at = None if duration is None else time.monotonic() + duration
        try:
            while stop_at is None or time.monotonic() < stop_at:
                # Positions of stored events, not their type: a filtered tail still moves past other events.
                fresh = studio.events.query_positions(workspace_id, after_position=position, limit=500)
                for item_position, event in fresh:
                    position = item_position
                    if types is None or event.type in types or any(
                            p.endswith(".*") and event.type.startswith(p[:-1]) for p in types):
                        console.print(_line(item_position, event))
                if not fresh:
                    time.sleep(interval)
        except KeyboardInterrupt:
            pass


def _line(position: int, event: Event) -> str:
    return (f"[dim]{position:>6} {event.occurred_at:%H:%M:%S}[/dim] [bold]{event.type}[/bold] "
            f"[dim]{event.source}[/dim] {escape(_summary(event.data, 100))}")


@events_app.command("dead-letters")
def dead_letters(workspace: Annotated[str | None, typer.Option("--workspace", "-w", help="Only this workspace.")]
                 = None, limit: Annotated[int, typer.Option(min=1, max=10_000)] = 50) -> None:
    """Events that were invalid or that a module could not process, with the reason."""
    with open_studio() as (studio, _settings):
        letters = studio.events.dead_letters(workspace, limit=limit)
        table = Table("id", "time (UTC)", "stage", "type", "module / handler", "reason", "tries", "replayed")
        for letter in letters:
            table.add_row(letter.id, f"{letter.created_at:%Y-%m-%d %H:%M:%S}", letter.stage, letter.type or "?",
                          escape(" / ".join(x for x in (letter.module, letter.handler) if x)),
                          escape(letter.reason[:200]), str(letter.attempts),
                          f"{letter.replayed_at:%Y-%m-%d %H:%M}" if letter.replayed_at else "")
        console.print(table if letters else "[dim]No dead letters.[/dim]")


@events_app.command("replay")
def replay(event_ids: Annotated[list[str] | None, typer.Argument(help="Stored event ids.")] = None,
           dead_letter: Annotated[list[str] | None, typer.Option("--dead-letter", "-d", help="Dead letter id.")] = None,
           module: Annotated[list[str] | None, typer.Option("--module", "-m", help="Only to this module.")] = None,
           ) -> None:
    """Deliver stored events again, or try dead letters again (re-validated or re-delivered)."""
    if not event_ids and not dead_letter:
        errors.print("[bold red]Error:[/bold red] give event ids or --dead-letter ids to replay")
        raise typer.Exit(code=2)
    with open_studio() as (studio, _settings):
        if event_ids:
            count = studio.events.replay(event_ids, modules=module)
            console.print(f"Replayed {count} event(s).")
        for letter_id in dead_letter or []:
            event = studio.events.replay_dead_letter(letter_id)
            console.print(f"{letter_id}: " + (f"delivered again as event {event.id}" if event else
                                              "still invalid (a new dead letter says why)"))


# -- audit ----------------------------------------------------------------------------------------------------
@audit_app.command("verify")
def verify(workspace: Annotated[str | None, typer.Option("--workspace", "-w", help="Only this workspace.")] = None,
           ) -> None:
    """Recompute the hash chain of the audit log; exit 1 if any row was edited, removed or reordered."""
    with open_studio() as (studio, _settings):
        reports = studio.events.verify_audit(workspace)
    broken = [report for report in reports if not report.ok]
    for report in reports:
        mark = "[green]ok[/green]" if report.ok else "[bold red]TAMPERED[/bold red]"
        console.print(f"{mark} {report.workspace_id}: {report.checked} event(s) checked")
        for problem in report.problems:
            console.print(f"    {escape(problem)}")
    if not reports:
        console.print("[dim]The audit log is empty.[/dim]")
    if broken:
        raise typer.Exit(code=1)


# -- webhooks -------------------------------------------------------------------------------------------------
@webhooks_app.command("list")
def list_webhooks(workspace: WorkspaceOption = None) -> None:
    with open_studio() as (studio, settings):
        subscriptions = studio.events.webhooks.subscriptions(workspace or settings.workspace)
        table = Table("id", "url", "events", "active", "created")
        for sub in subscriptions:
            table.add_row(sub.id, escape(sub.url), ", ".join(sub.event_types), "yes" if sub.active else "no",
                          f"{sub.created_at:%Y-%m-%d %H:%M}")
        console.print(table if subscriptions else "[dim]No webhooks.[/dim]")


@webhooks_app.command("add")
def add_webhook(url: Annotated[str, typer.Argument(help="Where to POST, e.g. https://example.com/hook.")],
                types: Annotated[list[str], typer.Option("--type", "-t", help="Event type or pattern (repeatable).")],
                workspace: WorkspaceOption = None,
                secret: Annotated[str | None, typer.Option(help="Signing secret (default: generated).")] = None,
                description: Annotated[str | None, typer.Option()] = None) -> None:
    """Subscribe a URL to event types; prints the signing secret once."""
    with open_studio() as (studio, settings):
        sub = studio.events.webhooks.add(workspace or settings.workspace, url, types, secret=secret,
                                         description=description)
        console.print(f"Added webhook {sub.id} for {', '.join(sub.event_types)} → {escape(sub.url)}")
        console.print(f"Signing secret (header Studio-Signature: t=…,v1=…): {sub.secret}")


@webhooks_app.command("remove")
def remove_webhook(subscription_id: str) -> None:
    with open_studio() as (studio, _settings):
        studio.events.webhooks.remove(subscription_id)
        console.print(f"Removed webhook {subscription_id}.")


@webhooks_app.command("deliveries")
def deliveries(subscription_id: Annotated[str | None, typer.Argument(help="Only this webhook.")] = None,
               workspace: WorkspaceOption = None,
               failed: Annotated[bool, typer.Option("--failed", help="Only failed deliveries.")] = False,
               limit: Annotated[int, typer.Option(min=1, max=10_000)] = 50) -> None:
    with open_studio() as (studio, settings):
        rows = studio.events.webhooks.deliveries(subscription_id=subscription_id,
                                                 workspace_id=workspace or settings.workspace,
                                                 status="failed" if failed else None, limit=limit)
        table = Table("id", "time (UTC)", "webhook", "event type", "status", "HTTP", "tries", "error")
        for row in rows:
            table.add_row(row.id, f"{row.created_at:%Y-%m-%d %H:%M:%S}", row.subscription_id, row.event_type,
                          row.status, str(row.response_status or ""), str(row.attempts), escape(row.error or ""))
        console.print(table if rows else "[dim]No deliveries.[/dim]")


@webhooks_app.command("replay")
def replay_delivery(delivery_id: str) -> None:
    """Send a logged delivery again (freshly signed)."""
    with open_studio() as (studio, _settings):
        result = studio.events.webhooks.replay(delivery_id)
        console.print(f"{result.status} after {result.attempts} attempt(s) (HTTP {result.response_status or '-'}); "
                      f"logged as {result.id}")
        if result.status != "delivered":
            raise typer.Exit(code=1)
