"""`studio workflows update FILE` and `studio workflows archive NAME` through the real CLI."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from creator_studio.cli import app

pytestmark = pytest.mark.integration


@pytest.fixture
def cli(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> CliRunner:
    monkeypatch.setenv("STUDIO_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("STUDIO_MODEL", "offline")
    runner = CliRunner()
    result = runner.invoke(app, ["init", "--defaults"])
    assert result.exit_code == 0, result.output
    return runner


def test_update_then_archive_from_the_command_line(cli: CliRunner, tmp_path: Path) -> None:
    flow = tmp_path / "topics.yaml"
    flow.write_text("name: Topic ideas\ntrigger: {type: cron, cron: '0 9 * * 1'}\n"
                    "steps:\n  - {type: tool, tool: suggest_topics, args: {count: 2}}\n")
    assert cli.invoke(app, ["workflows", "create", str(flow)]).exit_code == 0
    flow.write_text("name: Topic ideas\ntrigger: {type: cron, cron: '0 10 * * 2'}\n"
                    "steps:\n  - {type: tool, tool: suggest_topics, args: {count: 3}}\n")
    stale = cli.invoke(app, ["workflows", "update", str(flow), "--if-version", "7"])
    assert stale.exit_code == 2 and "changed since you read it" in stale.stderr
    updated = cli.invoke(app, ["workflows", "update", str(flow), "--if-version", "1"])
    assert updated.exit_code == 0 and "Updated “Topic ideas”" in updated.output and "version 2" in updated.output
    shown = json.loads(cli.invoke(app, ["workflows", "show", "Topic ideas", "--json"]).output)
    assert shown["version"] == 2 and shown["trigger"]["cron"] == "0 10 * * 2"
    missing = cli.invoke(app, ["workflows", "update", str(flow), "--workflow", "No such flow"])
    assert missing.exit_code == 2 and "There is no workflow 'No such flow'" in missing.stderr

    archived = cli.invoke(app, ["workflows", "archive", "Topic ideas"])
    assert archived.exit_code == 0 and "Archived “Topic ideas”" in archived.output, archived.output
    assert "Topic" not in cli.invoke(app, ["workflows", "list"]).output
    assert "archived" in cli.invoke(app, ["workflows", "list", "--status", "archived"]).output
    runs = cli.invoke(app, ["workflows", "runs", shown["id"], "--json"])
    assert runs.exit_code == 0 and json.loads(runs.output) == []  # history stays readable by id
    again = cli.invoke(app, ["workflows", "archive", shown["id"]])
    assert again.exit_code == 2 and "already archived" in again.stderr
