"""The one way a CLI command opens the studio (creator_studio/cli_support.py), as the commands use it."""

from __future__ import annotations

from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from creator_studio.cli import app as studio_app
from creator_studio.cli_support import open_studio, open_workspace
from creator_studio.errors import NotFound

pytestmark = pytest.mark.unit

app = typer.Typer()


@app.command("fails")
def fails() -> None:
    with open_studio() as (_studio, settings):
        raise NotFound(f"nothing called 'x' in {settings.workspace}")


@app.command("show")
def show(workspace: str | None = None, create: bool = False) -> None:
    with open_workspace(workspace, if_missing="create" if create else "fail") as (_studio, ws):
        typer.echo(f"workspace {ws.id}")


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("STUDIO_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("STUDIO_MODEL", "offline")
    monkeypatch.delenv("STUDIO_REDIS_URL", raising=False)
    return tmp_path / "home"


def test_a_studio_error_is_one_red_line_and_exit_code_2(home: Path) -> None:
    result = CliRunner().invoke(app, ["fails"])
    assert result.exit_code == 2
    assert "Error: nothing called 'x' in default" in result.stderr and "Traceback" not in result.output
    assert (home / "studio.db").exists()  # settings came from the environment and the database was migrated


def test_a_missing_workspace_is_an_error_or_is_created_when_asked(home: Path) -> None:
    missing = CliRunner().invoke(app, ["show", "--workspace", "ghost"])
    assert missing.exit_code == 2 and "Workspace 'ghost' does not exist: run `studio init` first." in missing.stderr
    created = CliRunner().invoke(app, ["show", "--workspace", "fresh", "--create"])
    assert created.exit_code == 0, created.output
    assert "workspace fresh" in created.stdout and "Created workspace 'fresh'" in created.stderr
    again = CliRunner().invoke(app, ["show", "--workspace", "fresh"])  # it exists now: no error, nothing created
    assert again.exit_code == 0 and "Created" not in again.stderr


def test_module_commands_use_it_analytics_on_an_unknown_workspace(home: Path) -> None:
    result = CliRunner().invoke(studio_app, ["analytics", "rollup", "--workspace", "ghost"])
    assert result.exit_code == 2 and "Workspace 'ghost' does not exist" in result.stderr
