"""Opening the studio for one CLI command, the same way in every module's `cli.py`.

Settings come from the environment (`STUDIO_*`), the database is migrated, the studio is closed when the
command ends, and an error the creator may see (`StudioError`) is printed as one red line with exit code 2
instead of a traceback. Commands that act on a workspace also get it checked, or created with the sandbox
world where that is what the command promises.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Literal, NoReturn

import typer
from rich.console import Console
from rich.markup import escape

from creator_studio.errors import StudioError
from creator_studio.logs import configure_logging
from creator_studio.settings import Settings
from creator_studio.studio import Studio
from creator_studio.workspaces.service import Workspace

errors = Console(stderr=True)


def fail(message: str) -> NoReturn:
    """End the command: the message on stderr, exit code 2."""
    errors.print(f"[bold red]Error:[/bold red] {escape(message)}", soft_wrap=True)
    raise typer.Exit(code=2)


@contextmanager
def open_studio(*, configure_logs: bool = False) -> Iterator[tuple[Studio, Settings]]:
    """The studio and its settings for the length of a `with` block. `configure_logs`: log as the settings say
    (level, JSON), for commands whose work logs (the worker, the API)."""
    settings = Settings()
    if configure_logs:
        configure_logging(settings.log_level, settings.log_json)
    studio = Studio.open(settings)
    try:
        yield studio, settings
    except StudioError as exc:
        fail(exc.message)
    finally:
        studio.close()


@contextmanager
def open_workspace(workspace: str | None, *, if_missing: Literal["fail", "create"] = "fail",
                   configure_logs: bool = False) -> Iterator[tuple[Studio, Workspace]]:
    """The studio and a workspace (`--workspace`, else STUDIO_WORKSPACE). A missing workspace is an error saying
    to run `studio init`, or with `if_missing="create"` is created with the sandbox world (said on stderr)."""
    with open_studio(configure_logs=configure_logs) as (studio, settings):
        workspace_id = workspace or settings.workspace
        if not studio.workspaces.exists(workspace_id):
            if if_missing == "fail":
                raise StudioError(f"Workspace {workspace_id!r} does not exist: run `studio init` first.")
            from creator_studio.sandbox.bootstrap import create_workspace  # the sandbox world: only when needed

            create_workspace(studio, workspace_id)
            errors.print(f"[dim]Created workspace {workspace_id!r} with the sandbox world.[/dim]")
        yield studio, studio.workspaces.get(workspace_id)
