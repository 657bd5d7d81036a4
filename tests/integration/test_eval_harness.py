"""`studio eval` end to end on the offline model: fresh worlds per trial, approvals, reports, exit codes."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import typer
from typer.testing import CliRunner

from creator_studio.evals import harness as harness_module
from creator_studio.evals import worlds
from creator_studio.evals.cases import EvalCase, LoadedCase, load_cases
from creator_studio.evals.cli import register
from creator_studio.evals.harness import EvalConfig, Harness
from creator_studio.evals.metrics import summarise
from creator_studio.evals.results import JudgeVerdict
from creator_studio.evals.worlds import EVAL_NOW, WorldTemplates
from creator_studio.settings import Settings
from creator_studio.studio import Studio

pytestmark = pytest.mark.integration

FIXTURES = Path(__file__).parent.parent / "fixtures" / "eval_cases"
SCHEDULE_GOAL = "Draft a LinkedIn post about my course launch and schedule it for Tuesday 9am"


@pytest.fixture
def app() -> Iterator[typer.Typer]:
    app = typer.Typer()
    register(app)

    @app.command()
    def version() -> None:  # a second command, so `eval` stays a subcommand as in `studio`
        """Unused."""

    studio_logger = logging.getLogger("creator_studio")
    saved = (list(studio_logger.handlers), studio_logger.level, studio_logger.propagate)
    yield app
    # The command points the studio logger at the runner's captured stderr; give the next test the original.
    studio_logger.handlers[:], studio_logger.level, studio_logger.propagate = saved


def run_eval(app: typer.Typer, *args: str) -> Any:
    return CliRunner().invoke(app, ["eval", *args], catch_exceptions=False)


def settings(home: Path) -> Settings:
    return Settings(home=home, model="offline", database_url=None)


def case(case_id: str, goal: str, world: str = "default", **expect: Any) -> LoadedCase:
    raw = {"id": case_id, "goal": goal, "world": world, "expect": expect}
    return LoadedCase(case=EvalCase.model_validate(raw), source="test")


# The command ------------------------------------------------------------------------------------------------
def test_a_passing_suite_writes_every_trial_to_json_and_markdown(app: typer.Typer, tmp_path: Path) -> None:
    out, md = tmp_path / "run.json", tmp_path / "run.md"
    result = run_eval(app, str(FIXTURES / "passing"), "--model", "offline", "--trials", "2", "--concurrency", "2",
                      "--json", str(out), "--report", str(md), "--min-pass", "1")
    assert result.exit_code == 0, result.output
    assert "Judge evaluator skipped" in result.output and "Every trial passed." in result.output
    assert "Results by agent" in result.output and "pass^2 100%" in result.output

    report = json.loads(out.read_text())
    assert report["model"] == "offline" and report["format"] == "creator-studio-eval/1"
    assert report["command"].startswith("studio eval ") and "--trials 2 --concurrency 2" in report["command"]
    assert report["eval_now"].startswith("2026-11-25T14:00:00")
    assert [c["id"] for c in report["cases"]] == ["fixture-content-schedule", "fixture-out-of-scope",
                                                  "fixture-dashboard", "fixture-membership-and-replies"]
    assert all(len(c["trials"]) == 2 and c["pass_rate"] == 1.0 for c in report["cases"])
    assert report["overall"]["pass_hat_k"] == {"1": 1.0, "2": 1.0}
    assert report["gate"] == {"k": 2, "value": 1.0, "min_pass": 1.0, "passed": True}
    assert {g["group"] for g in report["groups"]} == {"content", "none", "command_center", "multi"}

    schedule = report["cases"][0]["trials"]
    runs = [t["observation"] for t in schedule]
    assert runs[0]["run_id"] != runs[1]["run_id"]
    for run in runs:  # each trial on its own world with the same clock: the same Tuesday, the same approval
        assert [c["tool"] for c in run["calls"]] == ["draft_post", "schedule_post"]
        assert run["calls"][1]["arguments"]["publish_at"] == "2026-12-01T09:00:00+01:00"
        assert [(a["tool"], a["decided_by"]) for a in run["approvals"]] == [("schedule_post", "eval-harness")]

    markdown = md.read_text()
    assert "## Results by agent" in markdown and "| **overall** | 4 | 8 | 100% | 100% | 100% |" in markdown
    assert "Every trial passed." in markdown


def test_a_failing_case_shows_the_diff_the_regression_and_misses_the_gate(app: typer.Typer, tmp_path: Path
                                                                         ) -> None:
    baseline = tmp_path / "baseline.json"
    baseline.write_text(json.dumps({"model": "offline", "cases": [{"id": "fixture-wrong-platform", "pass_rate": 1.0}]}))
    md = tmp_path / "run.md"
    result = run_eval(app, str(FIXTURES / "failing"), str(FIXTURES / "passing"), "--only", "fixture-wrong-*",
                      "--model", "offline", "--compare", str(baseline), "--min-pass", "0.5", "--report", str(md))
    assert result.exit_code == 1, result.output
    output = result.output
    assert "1 cases" in output and "✗ fixture-wrong-platform" in output and "0/1 trials passed" in output
    assert "- draft_post(platform='x')" in output
    assert "! platform: expected 'x', got 'linkedin'" in output
    assert "- publish_post   (never called)" in output
    assert "forbidden_tools: schedule_post called 1×" in output
    assert "approvals: publish_post was never called" in output
    assert "regressed" in output and "1 regressed, 0 improved" in output
    assert "Gate: pass^1 0% vs --min-pass 50% → FAILED" in output
    markdown = md.read_text()
    assert "```diff\n- draft_post(platform='x')\n+ draft_post(platform='linkedin'" in markdown
    assert "| `fixture-wrong-platform` | regressed | 100% | 0% |" in markdown


def test_invalid_cases_stop_everything_before_a_trial_runs(app: typer.Typer, tmp_path: Path) -> None:
    out = tmp_path / "run.json"
    result = run_eval(app, str(FIXTURES / "passing"), str(FIXTURES / "invalid"), "--model", "offline",
                      "--json", str(out))
    assert result.exit_code == 2
    assert "2 problems in the eval cases (nothing was run)" in result.output
    assert "broken.yaml: case 'broken-unknown-key': expect.tool: unknown key" in result.output
    assert "Running" not in result.output and not out.exists()


@pytest.mark.parametrize(("args", "message"), [
    (["--model", "gpt-4o"], "--model 'gpt-4o' is not understood"),
    (["--json", "/no/such/folder/run.json"], "the folder /no/such/folder does not exist"),
    (["--compare", "/no/such/baseline.json"], "cannot read the baseline"),
    (["--only", "nothing-*"], "no case id matches --only nothing-*"),
])
def test_bad_options_exit_2_without_running(app: typer.Typer, args: list[str], message: str) -> None:
    result = run_eval(app, str(FIXTURES / "passing"), *args)
    assert result.exit_code == 2
    assert message in result.output and "Running" not in result.output


# The harness --------------------------------------------------------------------------------------------------
def test_worlds_are_built_once_and_every_trial_gets_a_private_copy(tmp_path: Path,
                                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    builds: list[str] = []

    def counting_world(studio: Studio) -> None:
        builds.append("default")
        worlds.WORLDS["default"](studio)

    monkeypatch.setitem(worlds.WORLDS, "counted", counting_world)
    templates = WorldTemplates(tmp_path, settings(tmp_path))
    first = templates.open_fresh("counted", tmp_path / "t1")
    second = templates.open_fresh("counted", tmp_path / "t2")
    try:
        assert builds == ["default"]
        assert first.now() == EVAL_NOW == second.now()
        before = len(second.social.posts("default"))
        first.social.publish("default", "bluesky", "only in the first world", account=None,
                             idempotency_key="k1")
        assert len(first.social.posts("default")) == before + 1
        assert len(second.social.posts("default")) == before
    finally:
        first.close()
        second.close()


def test_a_policy_approval_is_not_a_pause_and_a_broken_trial_does_not_stop_the_suite(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def auto_approving_world(studio: Studio) -> None:
        worlds.WORLDS["default"](studio)
        studio.workspaces.update("default", auto_approve=["schedule_post"])

    monkeypatch.setitem(worlds.WORLDS, "auto", auto_approving_world)
    policy = case("policy", SCHEDULE_GOAL, world="auto", approvals=["schedule_post"])
    too_long = case("too-long", "x" * 5000, agents=[])
    harness = Harness(EvalConfig(settings=settings(tmp_path / "base"), trials=1), tmp_path / "work")
    results = harness.run([policy, too_long])

    [policy_trial] = results[0].trials
    assert not policy_trial.passed
    [approvals] = [c for c in policy_trial.checks if c.name == "approvals"]
    assert approvals.detail == "schedule_post ran without pausing for approval (approved by policy)"
    assert [c.tool for c in policy_trial.observation.calls] == ["draft_post", "schedule_post"]

    [broken] = results[1].trials
    assert broken.observation.status == "error" and "keep it under 4000" in (broken.observation.error or "")
    assert [c.name for c in broken.failed_checks] == ["status"]
    assert not any((tmp_path / "work" / "trials").iterdir())  # trial homes are removed afterwards


def test_trials_of_the_fixture_suite_agree_across_concurrency(tmp_path: Path) -> None:
    cases = load_cases([FIXTURES / "passing"])
    sequential = Harness(EvalConfig(settings=settings(tmp_path / "a"), trials=1), tmp_path / "seq").run(cases)
    parallel = Harness(EvalConfig(settings=settings(tmp_path / "b"), trials=1, concurrency=4),
                       tmp_path / "par").run(cases)

    def shape(results: list[Any]) -> list[tuple[str, bool, list[str]]]:
        # Sorted: two agents of one run work in parallel, so their calls interleave in any order.
        return [(r.id, r.trials[0].passed, sorted(c.tool for c in r.trials[0].observation.calls)) for r in results]

    assert shape(sequential) == shape(parallel)
    assert all(r.passes == 1 for r in parallel)


def test_the_judge_grades_written_content_with_the_workspace_brand(tmp_path: Path,
                                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    graded: list[tuple[str, str, str]] = []

    def fake_judge(model: object, brand: Any, goal: str, content: str) -> JudgeVerdict:
        graded.append((brand.creator_name, goal, content))
        return JudgeVerdict(score=4, reason="on voice")

    monkeypatch.setattr(harness_module, "judge_brand_fit", fake_judge)
    cases = [case("write", SCHEDULE_GOAL, agents=["content"]), case("read", "show my dashboard", agents=[])]
    results = Harness(EvalConfig(settings=settings(tmp_path / "base"), judge=True), tmp_path / "work").run(cases)
    assert results[0].trials[0].judge == JudgeVerdict(score=4, reason="on voice")
    assert results[1].trials[0].judge is None  # nothing written: nothing to grade
    [(creator, goal, content)] = graded
    assert (creator, goal) == ("Maya Chen", SCHEDULE_GOAL)
    assert content == results[0].trials[0].observation.answer
    overall = summarise("overall", results)
    assert (overall.judge_mean, overall.judged) == (4.0, 1)
