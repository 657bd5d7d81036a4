"""A run killed with SIGKILL mid-way resumes with `studio runs resume ID` and never repeats a side effect."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from creator_studio.sandbox.bootstrap import create_workspace
from creator_studio.settings import Settings
from creator_studio.studio import Studio

pytestmark = pytest.mark.integration
CRASH_RUNNER = Path(__file__).with_name("crash_runner.py")
PUBLISH_GOAL = "Draft a LinkedIn post about spreadsheet refugees and publish it now"


@pytest.fixture
def home(tmp_path: Path) -> Path:
    home = tmp_path / "home"
    studio = Studio.open(Settings(home=home, model="offline"))
    create_workspace(studio, "default")
    studio.close()
    return home


def _env(home: Path) -> dict[str, str]:
    return {**os.environ, "STUDIO_HOME": str(home), "STUDIO_MODEL": "offline", "HF_HUB_OFFLINE": "1"}


def _kill_during(home: Path, goal: str, point: str) -> None:
    result = subprocess.run([sys.executable, str(CRASH_RUNNER), str(home), goal, point], env=_env(home),
                            capture_output=True, text=True, timeout=240)
    assert result.returncode == -signal.SIGKILL, result.stdout + result.stderr


def _resume_with_cli(home: Path, run_id: str) -> dict[str, object]:
    studio_cli = Path(sys.executable).with_name("studio")
    result = subprocess.run([str(studio_cli), "runs", "resume", run_id, "--auto-approve", "--json"],
                            env=_env(home), capture_output=True, text=True, timeout=240)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)  # type: ignore[no-any-return]


def _only_run(studio: Studio) -> str:
    [record] = studio.runs.recent("default")
    assert record.status == "running"  # the process died: nobody marked it finished
    return record.id


def test_killed_after_the_platform_stored_the_post_publishes_exactly_once(home: Path) -> None:
    _kill_during(home, PUBLISH_GOAL, "after_publish")
    studio = Studio.open(Settings(home=home, model="offline"))
    run_id = _only_run(studio)
    [effect] = [e for e in studio.ledger.entries(workspace_id="default") if e.tool == "publish_post"]
    assert effect.status == "started"  # the crash hit between the platform call and the ledger update
    outcome = _resume_with_cli(home, run_id)
    assert outcome["status"] == "completed"
    posts = [p for p in studio.social.posts("default", platform="linkedin") if "spreadsheet refugees" in p.topic
             or "spreadsheet refugees" in p.text.lower()]
    assert len(posts) == 1, [p.text for p in posts]
    [effect] = [e for e in studio.ledger.entries(workspace_id="default") if e.tool == "publish_post"]
    assert (effect.status, effect.attempts) == ("succeeded", 2)
    studio.close()


def test_killed_between_model_calls_resumes_without_redoing_finished_tools(home: Path) -> None:
    goal = "Draft a Bluesky post about my new course and schedule it for Friday 9am"
    _kill_during(home, goal, "before_second_model_call")
    studio = Studio.open(Settings(home=home, model="offline"))
    run_id = _only_run(studio)
    assert [s.tool for s in studio.runs.steps(run_id) if s.kind == "tool"] == ["draft_post"]
    outcome = _resume_with_cli(home, run_id)
    assert outcome["status"] == "completed"
    tools = [c["tool"] for c in outcome["tool_calls"]]  # type: ignore[union-attr, index]
    assert tools == ["draft_post", "schedule_post"]  # the draft was not written twice
    from creator_studio.content.models import DraftRow

    with studio.db.transaction() as session:
        assert session.query(DraftRow).filter(DraftRow.workspace_id == "default").count() == 1
    studio.close()
