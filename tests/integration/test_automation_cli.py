"""`studio workflows ...` (create, update, archive, run, runs) and `studio worker` through the real CLI, on a
fresh SQLite workspace."""

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


def test_create_run_and_inspect_a_workflow_from_a_file(cli: CliRunner, tmp_path: Path) -> None:
    flow = tmp_path / "topics.yaml"
    flow.write_text("name: Topic ideas\ntrigger: {type: cron, cron: '0 9 * * 1'}\n"
                    "steps:\n  - {type: tool, tool: suggest_topics, args: {count: 2}}\n")
    created = cli.invoke(app, ["workflows", "create", str(flow)])
    assert created.exit_code == 0 and "Created “Topic ideas”" in created.output, created.output
    listed = cli.invoke(app, ["workflows", "list"])
    assert "Topic" in listed.output and "active" in listed.output  # (a narrow table wraps the name)
    shown = cli.invoke(app, ["workflows", "show", "Topic ideas"])
    assert "call suggest_topics(count=2)" in shown.output and "Mondays" not in shown.output
    assert "every Monday at 09:00 (Europe/Berlin)" in shown.output
    queued = cli.invoke(app, ["workflows", "run", "Topic ideas"])
    assert queued.exit_code == 0 and "Queued run" in queued.output
    worked = cli.invoke(app, ["worker", "--max-seconds", "3", "--poll", "0.1"])
    assert worked.exit_code == 0, worked.output
    runs = cli.invoke(app, ["workflows", "runs", "Topic ideas", "--json"])
    assert '"status": "succeeded"' in runs.output and '"trigger": "manual"' in runs.output
    paused = cli.invoke(app, ["workflows", "pause", "Topic ideas"])
    assert "Paused" in paused.output
    assert "paused" in cli.invoke(app, ["workflows", "list", "--status", "paused"]).output
    assert "Resumed" in cli.invoke(app, ["workflows", "resume", "Topic ideas"]).output


def test_templates_are_listed_and_created(cli: CliRunner) -> None:
    listed = cli.invoke(app, ["workflows", "templates"])
    assert "lead-capture-nurture-conversion" in listed.output
    created = cli.invoke(app, ["workflows", "create", "--template", "lead-capture-nurture-conversion"])
    assert created.exit_code == 0 and "Leads: capture, nurture, convert" in created.output
    again = cli.invoke(app, ["workflows", "create", "--template", "lead-capture-nurture-conversion"])
    assert "Unchanged" in again.output


def test_bad_input_gets_a_clear_error(cli: CliRunner, tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("name: Bad\ntrigger: {type: cron, cron: '61 9 * * 1'}\nsteps: [{type: goal, goal: plan}]\n")
    result = cli.invoke(app, ["workflows", "create", str(bad)])
    assert result.exit_code == 2 and "bad.yaml" in result.output and "61 is outside 0-59" in result.output
    missing = cli.invoke(app, ["workflows", "show", "Nope"])
    assert missing.exit_code == 2 and "There is no workflow 'Nope'" in missing.output


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
