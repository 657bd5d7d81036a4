"""The `studio` command as a creator uses it: init, run (--json, --auto-approve), approvals, runs."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from typer.testing import CliRunner

from creator_studio.cli import app

pytestmark = pytest.mark.integration
BERLIN = ZoneInfo("Europe/Berlin")


@pytest.fixture
def cli(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> CliRunner:
    monkeypatch.setenv("STUDIO_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("STUDIO_MODEL", "offline")
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    monkeypatch.delenv("OPENAI_BASE_URL", raising=False)
    return CliRunner()


def run_json(cli: CliRunner, *args: str) -> dict[str, Any]:
    result = cli.invoke(app, [*args, "--json"])
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)  # type: ignore[no-any-return]


def test_init_creates_a_workspace_once(cli: CliRunner) -> None:
    result = cli.invoke(app, ["init", "--defaults", "--timezone", "America/New_York"])
    assert result.exit_code == 0, result.output
    assert "ready" in result.stdout and "America/New_York" in result.stdout
    again = cli.invoke(app, ["init", "--defaults"])
    assert again.exit_code == 2 and "already exists" in again.stderr


def test_init_refuses_an_unknown_time_zone(cli: CliRunner) -> None:
    result = cli.invoke(app, ["init", "--defaults", "--timezone", "Mars/Olympus"])
    assert result.exit_code == 2 and "Unknown time zone 'Mars/Olympus'" in result.stderr


def test_run_json_auto_approve_schedules_on_friday_at_nine(cli: CliRunner) -> None:
    outcome = run_json(cli, "run", "Draft a Bluesky post about my new course and schedule it for Friday 9am",
                       "--auto-approve")
    assert outcome["status"] == "completed"
    assert outcome["agents"] == ["content"]
    assert [c["tool"] for c in outcome["tool_calls"]] == ["draft_post", "schedule_post"]
    assert {c["arguments"]["platform"] for c in outcome["tool_calls"]} == {"bluesky"}
    assert [(a["tool"], a["status"], a["decided_by"]) for a in outcome["approvals"]] == [
        ("schedule_post", "approved", "auto-approve")]
    assert outcome["model"]["calls"] >= 2 and outcome["model"]["prompt_tokens"] > 0
    at = datetime.fromisoformat(outcome["tool_calls"][1]["arguments"]["publish_at"]).astimezone(BERLIN)
    assert at.strftime("%A %H:%M") == "Friday 09:00" and at > datetime.now(BERLIN)
    calendar = run_json(cli, "run", "show my content calendar")
    assert "1 scheduled" in calendar["answer"]


def test_run_json_for_a_revenue_goal(cli: CliRunner) -> None:
    outcome = run_json(cli, "run", "create a $29/month membership and a payment link", "--auto-approve")
    assert outcome["agents"] == ["revenue"]
    product, link = outcome["tool_calls"]
    assert (product["tool"], product["arguments"]["interval"], float(product["arguments"]["price"])) == (
        "create_product", "month", 29.0)
    assert link["tool"] == "create_payment_link" and link["status"] == "ok"
    assert "https://buy.stripe.com/" in outcome["answer"]
    assert [a["tool"] for a in outcome["approvals"]] == ["create_product", "create_payment_link"]


def test_run_json_for_an_engagement_goal(cli: CliRunner) -> None:
    outcome = run_json(cli, "run", "reply to unanswered questions on Mastodon", "--auto-approve")
    assert outcome["agents"] == ["engagement"]
    replies = [c for c in outcome["tool_calls"] if c["tool"] == "reply_to_comment"]
    assert len(replies) == 3 and all(c["status"] == "ok" for c in replies)
    assert len(outcome["approvals"]) == 3


def test_approvals_list_then_approve_resumes_the_run(cli: CliRunner) -> None:
    waiting = run_json(cli, "run", "Draft a LinkedIn post about tiny wins and publish it now")
    assert waiting["status"] == "waiting_approval"
    [pending] = [a for a in waiting["approvals"] if a["status"] == "pending"]
    listing = cli.invoke(app, ["approvals", "list"])
    assert listing.exit_code == 0 and pending["id"] in listing.stdout
    done = run_json(cli, "approvals", "approve", pending["id"])
    assert done["status"] == "completed"
    assert "Published on LinkedIn" in done["answer"]
    shown = run_json(cli, "runs", "show", waiting["run_id"])
    assert [c["tool"] for c in shown["tool_calls"]] == ["draft_post", "publish_post"]
    runs = cli.invoke(app, ["runs", "list"])
    assert waiting["run_id"] in runs.stdout and "completed" in runs.stdout


def test_reject_with_a_reason_tells_the_agent(cli: CliRunner) -> None:
    waiting = run_json(cli, "run", "Draft a LinkedIn post about tiny wins and publish it now")
    [pending] = [a for a in waiting["approvals"] if a["status"] == "pending"]
    done = run_json(cli, "approvals", "reject", pending["id"], "--reason", "not today")
    assert done["status"] == "completed" and "rejected it (not today)" in done["answer"]
    assert [(c["tool"], c["status"]) for c in done["tool_calls"]] == [("draft_post", "ok"),
                                                                      ("publish_post", "rejected")]


def test_edit_with_a_bad_value_names_the_field(cli: CliRunner) -> None:
    waiting = run_json(cli, "run", "schedule a post about pandas on mastodon for tomorrow 10am")
    [pending] = [a for a in waiting["approvals"] if a["status"] == "pending"]
    result = cli.invoke(app, ["approvals", "edit", pending["id"], "--set", "platform=myspace"])
    assert result.exit_code == 2 and "platform" in result.stderr
    # The CLI runs on the real clock: a time two days from now is always in the future.
    later = (datetime.now(ZoneInfo("Europe/Berlin")) + timedelta(days=2)).replace(hour=18, minute=0, second=0,
                                                                               microsecond=0)
    result = cli.invoke(app, ["approvals", "edit", pending["id"], "--set", f"publish_at={later.isoformat()}",
                              "--json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["status"] == "completed"


def test_bad_input_gets_a_clear_error_and_exit_code(cli: CliRunner) -> None:
    empty = cli.invoke(app, ["run", "   "])
    assert empty.exit_code == 2 and "goal is empty" in empty.stderr
    unknown = cli.invoke(app, ["approvals", "approve", "ap_doesnotexist"])
    assert unknown.exit_code == 2 and "No approval 'ap_doesnotexist'" in unknown.stderr
    missing = cli.invoke(app, ["runs", "show", "run_nope"])
    assert missing.exit_code == 2 and "No run 'run_nope'" in missing.stderr
