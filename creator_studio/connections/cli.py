"""`studio connect <platform>` and `studio connections list|remove|rotate-key`."""

from __future__ import annotations

from typing import Annotated

import httpx
import typer
from cryptography.fernet import Fernet
from rich.console import Console
from rich.table import Table

from creator_studio.cli_support import open_studio
from creator_studio.connections import oauth
from creator_studio.connections.crypto import key_file, write_keys
from creator_studio.connections.flows import connect_bluesky, connect_mastodon, finish_oauth
from creator_studio.errors import StudioError
from creator_studio.tools.types import SocialPlatform

console = Console()
connections_app = typer.Typer(help="Connected platform accounts.", no_args_is_help=True)
WorkspaceOption = Annotated[str | None, typer.Option("--workspace", "-w", help="Workspace id (STUDIO_WORKSPACE).")]
DEFAULT_REDIRECT = "http://127.0.0.1:8400/oauth/callback"


def connect(
    platform: Annotated[SocialPlatform, typer.Argument(help="bluesky, mastodon, x, linkedin or threads")],
    workspace: WorkspaceOption = None,
    handle: Annotated[str | None, typer.Option(help="Bluesky handle or email to log in with.")] = None,
    app_password: Annotated[str | None, typer.Option(help="Bluesky app password (prompted if missing).")] = None,
    pds: Annotated[str, typer.Option(help="Bluesky PDS URL.")] = "https://bsky.social",
    instance: Annotated[str | None, typer.Option(help="Mastodon instance, e.g. https://mastodon.social")] = None,
    token: Annotated[str | None, typer.Option(help="Mastodon access token (prompted if missing).")] = None,
    client_id: Annotated[str | None, typer.Option(envvar="STUDIO_OAUTH_CLIENT_ID",
                                                  help="OAuth client id of your X/LinkedIn/Threads app.")] = None,
    client_secret: Annotated[str | None, typer.Option(envvar="STUDIO_OAUTH_CLIENT_SECRET",
                                                      help="OAuth client secret (confidential apps).")] = None,
    redirect_uri: Annotated[str, typer.Option(help="Redirect URI registered with the app.")] = DEFAULT_REDIRECT,
    scopes: Annotated[str | None, typer.Option(help="Space-separated scopes to ask for.")] = None,
) -> None:
    """Connect an account (several per platform are fine: connect each)."""
    with open_studio() as (studio, settings):
        service = studio.connections
        workspace_id = workspace or settings.workspace
        if platform == "bluesky":
            identifier = handle or typer.prompt("Bluesky handle")
            password = app_password or typer.prompt("App password", hide_input=True)
            connection = connect_bluesky(service, workspace_id, identifier=identifier, app_password=password,
                                         pds_url=pds)
        elif platform == "mastodon":
            base = instance or typer.prompt("Mastodon instance URL")
            secret = token or typer.prompt("Access token", hide_input=True)
            connection = connect_mastodon(service, workspace_id, instance_url=base, access_token=secret,
                                          scopes=scopes.split() if scopes else None)
        else:
            if not client_id:
                raise StudioError(f"Connecting {platform} needs your app's OAuth client id: pass --client-id or set "
                                  f"STUDIO_OAUTH_CLIENT_ID.")
            started = oauth.start(platform, client_id, redirect_uri, scopes.split() if scopes else None)
            console.print("Open this URL, approve, then paste the URL you are redirected to (or its code):")
            console.print(started.url, soft_wrap=True)
            pasted = typer.prompt("Redirected URL or code")
            with httpx.Client(timeout=30) as http:
                connection = finish_oauth(service, workspace_id, platform, started=started, pasted=pasted,
                                          client_id=client_id, client_secret=client_secret,
                                          redirect_uri=redirect_uri, http=http, now=service.now)
    console.print(f"[green]Connected[/green] {platform} account {connection.handle} "
                  f"(scopes: {', '.join(connection.scopes) or 'none'}).")


@connections_app.command("list")
def list_connections(workspace: WorkspaceOption = None) -> None:
    """Connected accounts (no tokens are shown)."""
    with open_studio() as (studio, settings):
        rows = studio.connections.list(workspace or settings.workspace)
    table = Table(title="Connected accounts")
    for column in ("platform", "handle", "account id", "scopes", "token expires"):
        table.add_column(column, overflow="fold")
    for row in rows:
        table.add_row(row.platform, row.handle, row.account_id, " ".join(row.scopes),
                      row.expires_at.isoformat(timespec="minutes") if row.expires_at else "—")
    console.print(table if rows else "No accounts connected: run `studio connect <platform>`.")


@connections_app.command("remove")
def remove(platform: SocialPlatform, handle: str, workspace: WorkspaceOption = None) -> None:
    """Forget an account and its tokens."""
    with open_studio() as (studio, settings):
        removed = studio.connections.remove(workspace or settings.workspace, platform, handle)
    console.print(f"Removed {removed.platform} account {removed.handle}.")


@connections_app.command("rotate-key")
def rotate_key() -> None:
    """Re-encrypt every stored token with a new key (MultiFernet), then retire the old key."""
    new_key = Fernet.generate_key().decode()
    with open_studio() as (studio, settings):
        service = studio.connections
        webhooks = [studio.events.webhooks.reencrypt_secrets]
        if settings.secret_key is not None:
            count = service.rotate_key([new_key], lambda keys: None, webhooks)
            console.print(f"Re-encrypted {count} connection(s). Set STUDIO_SECRET_KEY to the new key now; the old "
                          f"key no longer decrypts them:\n{new_key}")
        else:
            count = service.rotate_key([new_key], lambda keys: write_keys(key_file(settings), keys), webhooks)
            console.print(f"Re-encrypted {count} connection(s) with a new key in {key_file(settings)}.")


def register(app: typer.Typer) -> None:
    app.command("connect")(connect)
    app.add_typer(connections_app, name="connections")
