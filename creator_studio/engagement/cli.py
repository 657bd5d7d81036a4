"""`studio inbox …`: take in email replies (from an MTA pipe, or as a small SMTP receiver) and list the inbox."""

from __future__ import annotations

import sys
import threading
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from creator_studio.cli_support import fail, open_studio, open_workspace
from creator_studio.errors import StudioError
from creator_studio.providers.email.inbound import InboundMailHandler

console = Console()
errors = Console(stderr=True)
WorkspaceOption = Annotated[str | None, typer.Option("--workspace", "-w", help="Workspace id (STUDIO_WORKSPACE).")]


def register(app: typer.Typer) -> None:
    inbox = typer.Typer(help="Direct messages and email replies (the Audience Hub inbox).", no_args_is_help=True)
    app.add_typer(inbox, name="inbox")

    @inbox.command("receive-email")
    def receive_email(
        source: Annotated[str, typer.Argument(help="A raw email file (RFC 5322), or - for standard input.")] = "-",
        workspace: WorkspaceOption = None,
    ) -> None:
        """Store one email reply (e.g. piped from Postfix: `| studio inbox receive-email -w maya -`)."""
        try:
            raw = sys.stdin.buffer.read() if source == "-" else Path(source).read_bytes()
            with open_workspace(workspace) as (studio, ws):
                message = studio.engagement.inbox.receive_email(ws.id, raw)
        except OSError as exc:
            fail(f"Cannot read {source}: {exc.strerror or exc}")
        except StudioError as exc:
            fail(exc.message)
        console.print(f"Stored {message.id} from {escape(message.author_handle)}.")

    @inbox.command("serve-smtp")
    def serve_smtp(
        host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
        port: Annotated[int, typer.Option(help="Port to listen on.")] = 2525,
    ) -> None:
        """Receive replies over SMTP for reply+<workspace>@<your domain> (point your MX or relay here)."""
        from aiosmtpd.controller import Controller

        with open_studio() as (studio, _settings):
            handler = InboundMailHandler(lambda ws, raw: studio.engagement.inbox.receive_email(ws, raw))
            controller = Controller(handler, hostname=host, port=port, ready_timeout=10)
            controller.start()
            console.print(f"Receiving replies on {host}:{port} (Ctrl+C stops).")
            try:
                threading.Event().wait()
            except KeyboardInterrupt:
                pass
            finally:
                controller.stop()

    @inbox.command("list")
    def list_inbox(workspace: WorkspaceOption = None) -> None:
        """The direct messages and email replies received, oldest first (untrusted text, shown as is)."""
        try:
            with open_workspace(workspace) as (studio, ws):
                messages = studio.engagement.inbox.messages(ws.id)
        except StudioError as exc:
            fail(exc.message)
        table = Table("id", "channel", "from", "received", "text")
        for message in messages:
            table.add_row(message.id, message.channel, escape(message.author_handle),
                          f"{message.received_at:%Y-%m-%d %H:%M}", escape(message.text[:80]))
        console.print(table)
