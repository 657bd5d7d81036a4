"""`studio serve` (the API and dashboard) and `studio tokens create|list|revoke`."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from creator_studio.api.tokens import ROLES, TokenService
from creator_studio.cli_support import fail, open_workspace
from creator_studio.logs import configure_logging
from creator_studio.settings import Settings
from creator_studio.studio import Studio

console = Console()
errors = Console(stderr=True)
tokens_app = typer.Typer(help="API tokens for the HTTP API and the dashboard.", no_args_is_help=True)
WorkspaceOption = Annotated[str | None, typer.Option("--workspace", "-w", help="Workspace id (STUDIO_WORKSPACE).")]


def serve(host: Annotated[str | None, typer.Option(help="Default: STUDIO_API_HOST.")] = None,
          port: Annotated[int | None, typer.Option(help="Default: STUDIO_API_PORT.")] = None) -> None:
    """Serve the HTTP API and the Command Center dashboard."""
    import uvicorn

    from creator_studio.api.app import create_app

    settings = Settings()
    configure_logging(settings.log_level, settings.log_json)
    studio = Studio.open(settings)
    app = create_app(studio)
    bind_host, bind_port = host or settings.api_host, port or settings.api_port
    console.print(f"Creator Studio on http://{bind_host}:{bind_port}/ (API docs at /docs)")
    try:
        uvicorn.run(app, host=bind_host, port=bind_port, log_level=settings.log_level.lower())
    finally:
        app.state.api.runner.close()
        studio.close()


@tokens_app.command("create")
def tokens_create(role: Annotated[str, typer.Option(help="owner, editor or viewer")],
                  name: Annotated[str, typer.Option(help="Who or what uses it.")] = "api",
                  workspace: WorkspaceOption = None) -> None:
    """Create a token. It is printed once: only its hash is kept."""
    if role not in ROLES:
        fail(f"--role must be one of {', '.join(ROLES)} (got {role!r}).")
    with open_workspace(workspace, configure_logs=True) as (studio, ws):
        created = TokenService(studio.db).create(ws.id, role=role, name=name)
    console.print(f"Token [bold]{created.info.id}[/bold] ({role}) for workspace {ws.id!r}. "
                  "Copy it now; it is not shown again:")
    print(created.token)


@tokens_app.command("list")
def tokens_list(workspace: WorkspaceOption = None,
                all_tokens: Annotated[bool, typer.Option("--all", help="Include revoked tokens.")] = False) -> None:
    """The workspace's tokens (ids and roles, never the secrets)."""
    with open_workspace(workspace, configure_logs=True) as (studio, ws):
        found = TokenService(studio.db).list(ws.id, include_revoked=all_tokens)
    table = Table(title=f"API tokens of {ws.id}")
    for column in ("id", "name", "role", "created", "revoked"):
        table.add_column(column)
    for token in found:
        table.add_row(token.id, token.name, token.role, token.created_at.strftime("%Y-%m-%d %H:%M"),
                      token.revoked_at.strftime("%Y-%m-%d %H:%M") if token.revoked_at else "")
    console.print(table)


@tokens_app.command("revoke")
def tokens_revoke(token_id: Annotated[str, typer.Argument(help="The id `studio tokens list` shows.")],
                  workspace: WorkspaceOption = None) -> None:
    """Revoke a token: its next request is refused."""
    with open_workspace(workspace, configure_logs=True) as (studio, ws):
        TokenService(studio.db).revoke(ws.id, token_id)
    console.print(f"Token {token_id} revoked.")


def register(app: typer.Typer) -> None:
    app.command()(serve)
    app.add_typer(tokens_app, name="tokens")
