"""Eval scoring: argument and trajectory matching, the per-trial checks, the suite metrics (against hand-computed
values), the judge's parsing and the baseline comparison. Pure functions: no studio, no model."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from langchain_core.language_models.fake_chat_models import FakeListChatModel

from creator_studio.evals.cases import EvalCase, ExpectedCall, TrajectoryMode
from creator_studio.evals.checks import (
    approval_problem,
    args_match,
    evaluate_trial,
    max_matching,
    trajectory_diff,
    trajectory_matches,
    values_match,
)
from creator_studio.evals.judge import judge_brand_fit, judged_text, parse_verdict
from creator_studio.evals.metrics import (
    by_group,
    case_result,
    gate_value,
    pass_hat_k,
    pass_hat_k_curve,
    percentile,
    summarise,
)
from creator_studio.evals.report import (
    BaselineError,
    compare,
    diff_lines,
    load_baseline,
    pct,
)
from creator_studio.evals.results import (
    CaseResult,
    Observation,
    ObservedApproval,
    ObservedCall,
    TrialResult,
    TrialScores,
)
from creator_studio.sandbox.seed import DEFAULT_BRAND

pytestmark = pytest.mark.unit


def call(tool: str, status: str = "ok", agent: str = "content", **arguments: Any) -> ObservedCall:
    return ObservedCall(agent=agent, tool=tool, arguments=arguments, status=status)


def expected(name: str, **args: Any) -> ExpectedCall:
    return ExpectedCall(name=name, args=args or None)


def make_case(case_id: str = "case", **expect: Any) -> EvalCase:
    return EvalCase.model_validate({"id": case_id, "goal": "a goal", "expect": expect})


def trial(case: EvalCase, index: int, observation: Observation) -> TrialResult:
    checks, scores, diff = evaluate_trial(case, observation)
    return TrialResult(case_id=case.id, trial=index, passed=all(c.passed for c in checks), checks=checks,
                       scores=scores, diff=diff, observation=observation)


# Values and arguments ----------------------------------------------------------------------------------------
@pytest.mark.parametrize(("wanted", "got", "matches"), [
    ("LinkedIn", "linkedin", True),
    ("my  course launch", "My course\nlaunch", True),
    ("linkedin", "x", False),
    (29, "29.0", True),  # Decimal prices are recorded as strings
    (29, 29.0, True),
    ("29", 29, True),
    (29, "29.5", False),
    (29, "twenty-nine", False),
    (True, 1, False),
    (True, True, True),
    ("2026-12-01T09:00:00+01:00", "2026-12-01T08:00:00Z", True),  # the same instant
    ("2026-12-01T09:00:00+01:00", "2026-12-01T09:00:00Z", False),
    ("2026-12-01T09:00", "2026-12-01T09:00:00+01:00", True),  # no zone expected: wall-clock time
    ("2026-12-01", "2026-12-01T09:00:00+01:00", True),  # a date matches any time that day
    ("2026-12-02", "2026-12-01T09:00:00+01:00", False),
    ("2026-12-01T09:00:00+01:00", "next tuesday", False),
    ({"a": 1}, {"a": 1, "b": 2}, True),  # nested mappings are subsets too
    ({"a": 1}, {"b": 1}, False),
    (["x", "linkedin"], ["LinkedIn", "x"], True),  # lists: any order ...
    (["x"], ["x", "linkedin"], False),  # ... same length
    ([{"type": "email"}], [{"type": "email", "delay": 2}], True),
    (None, None, True),
    (None, "x", False),
])
def test_values_match_in_their_json_form(wanted: Any, got: Any, matches: bool) -> None:
    assert values_match(wanted, got) is matches


def test_expected_args_are_a_subset_of_the_actual_ones() -> None:
    actual = {"platform": "linkedin", "topic": "course", "tone": "warm"}
    assert args_match({"platform": "LINKEDIN"}, actual)
    assert args_match({}, actual)
    assert not args_match({"platform": "linkedin", "audience": "analysts"}, actual)
    assert args_match({"audience": None}, actual)  # an expected null matches an absent argument


def test_maximum_matching_finds_what_first_fit_misses() -> None:
    # Left 0 fits both right slots, left 1 only slot 0: first-fit gives 0->0 and strands 1.
    matching = max_matching(2, 2, lambda i, j: (i, j) in {(0, 0), (0, 1), (1, 0)})
    assert matching == {0: 1, 1: 0}


# Trajectories ------------------------------------------------------------------------------------------------
A, B, C = call("draft_post", platform="x"), call("schedule_post", platform="x"), call("get_content_calendar")
EA, EB = expected("draft_post", platform="x"), expected("schedule_post")


@pytest.mark.parametrize(("actual", "strict", "unordered", "superset", "subset"), [
    ([A, B], True, True, True, True),
    ([B, A], False, True, True, True),
    ([A, B, C], False, False, True, False),
    ([A], False, False, False, True),
    ([A, A, B], False, False, True, False),  # a call satisfies one expected call at most
    ([], False, False, False, True),
])
def test_trajectory_modes_follow_agentevals(actual: list[ObservedCall], strict: bool, unordered: bool,
                                            superset: bool, subset: bool) -> None:
    modes: dict[TrajectoryMode, bool] = {"strict": strict, "unordered": unordered, "superset": superset,
                                         "subset": subset}
    for mode, outcome in modes.items():
        assert trajectory_matches(mode, [EA, EB], actual) is outcome, mode


def test_arguments_take_part_in_every_mode() -> None:
    wrong_platform = [call("draft_post", platform="linkedin"), B]
    for mode in ("strict", "unordered", "superset", "subset"):
        assert not trajectory_matches(mode, [EA, EB], wrong_platform), mode


def test_an_empty_tool_list_means_no_call_in_every_mode() -> None:
    for mode in ("strict", "unordered", "superset", "subset"):
        assert trajectory_matches(mode, [], [])
        assert not trajectory_matches(mode, [], [C]), mode


def test_superset_matches_duplicates_one_to_one_even_when_first_fit_would_not() -> None:
    wanted = [expected("draft_post"), expected("draft_post", platform="x")]
    assert trajectory_matches("superset", wanted, [call("draft_post", platform="x"),
                                                   call("draft_post", platform="linkedin")])


def test_the_diff_shows_matches_argument_mismatches_extras_and_misses() -> None:
    wanted = [expected("draft_post", platform="x"), expected("schedule_post"), expected("publish_post")]
    actual = [call("draft_post", platform="linkedin", topic="t"), call("schedule_post"), C]
    diff = trajectory_diff(wanted, actual)
    assert [(d.kind, d.position) for d in diff] == [("mismatch", 0), ("match", 1), ("extra", 2), ("missing", None)]
    assert diff[0].differences == ["platform: expected 'x', got 'linkedin'"]
    shown = TrialResult(case_id="c", trial=1, passed=False, checks=[], scores=TrialScores(), diff=diff,
                        observation=Observation(status="completed", calls=actual))
    lines = [text for _style, text in diff_lines(shown)]
    assert lines == ["- draft_post(platform='x')",
                     "+ draft_post(platform='linkedin', topic='t')",
                     "    ! platform: expected 'x', got 'linkedin'",
                     "  schedule_post",
                     "+ get_content_calendar   (not expected)",
                     "- publish_post   (never called)"]


# Approvals ---------------------------------------------------------------------------------------------------
def approval(tool: str, decided_by: str | None = "eval-harness", status: str = "approved") -> ObservedApproval:
    return ObservedApproval(tool=tool, status=status, decided_by=decided_by)


def test_an_approval_counts_only_when_the_run_paused_before_the_call() -> None:
    ran = [call("schedule_post")]
    assert approval_problem("schedule_post", ran, [approval("schedule_post")]) is None
    assert approval_problem("schedule_post", ran, [approval("schedule_post", "policy")]) == \
        "schedule_post ran without pausing for approval (approved by policy)"
    assert approval_problem("schedule_post", ran, [approval("schedule_post", "auto-approve")]) is not None
    assert approval_problem("schedule_post", [], [approval("schedule_post")]) == "schedule_post was never called"
    assert approval_problem("schedule_post", [call("schedule_post", status="invalid")], []) == \
        "schedule_post was never called"  # refused arguments never reach the approval step
    assert approval_problem("schedule_post", ran * 2, [approval("schedule_post")]) == \
        "schedule_post ran 2× but paused for approval 1×"


# One trial -----------------------------------------------------------------------------------------------------
def test_a_trial_passes_only_when_every_check_passes() -> None:
    case = make_case(agents=["content"], tools=[{"name": "schedule_post", "args": {"platform": "x"}}],
                     forbidden_tools=["publish_post"], approvals=["schedule_post"], answer_contains=["Scheduled"],
                     max_llm_calls=3)
    good = Observation(status="completed", answer="I scheduled it for X.", agents=["content"],
                       calls=[call("schedule_post", platform="X")], approvals=[approval("schedule_post")],
                       model_calls=3)
    checks, scores, _diff = evaluate_trial(case, good)
    assert [c.name for c in checks] == ["status", "agents", "trajectory", "forbidden_tools", "approvals",
                                        "answer_contains", "max_llm_calls"]
    assert all(c.passed for c in checks)
    assert (scores.forbidden_calls, scores.approvals_expected, scores.approvals_compliant) == (0, 1, 1)

    bad = good.model_copy(update={"status": "failed", "error": "boom", "answer": "done", "model_calls": 4,
                                  "agents": ["content", "engagement"],
                                  "calls": [*good.calls, call("publish_post"), call("publish_post")]})
    failed = {c.name: c.detail for c in evaluate_trial(case, bad)[0] if not c.passed}
    assert failed == {
        "status": "run ended failed: boom",
        "agents": "expected {content}, got {content, engagement}",
        "forbidden_tools": "publish_post called 2×",
        "answer_contains": "missing 'Scheduled'",
        "max_llm_calls": "4 model calls (limit 3)",
    }  # superset: extra calls do not fail the trajectory
    assert evaluate_trial(case, bad)[1].forbidden_calls == 2


def test_an_out_of_scope_goal_passes_only_without_tool_calls() -> None:
    case = make_case(agents=[], tools=[])
    assert trial(case, 1, Observation(status="completed", answer="That is outside what I do.")).passed
    called = trial(case, 1, Observation(status="completed", calls=[call("get_dashboard_summary")]))
    assert not called.passed
    assert [c.detail for c in called.failed_checks] == ["no tool may be called; got get_dashboard_summary"]


# Suite metrics (hand-computed) -----------------------------------------------------------------------------------
def test_pass_hat_k_is_taus_combinatorial_estimator() -> None:
    assert pass_hat_k(4, 2, 1) == 0.5
    assert pass_hat_k(4, 2, 2) == pytest.approx(1 / 6)  # C(2,2)/C(4,2)
    assert pass_hat_k(4, 2, 3) == 0.0
    assert pass_hat_k(3, 3, 3) == 1.0
    with pytest.raises(ValueError):
        pass_hat_k(2, 3, 1)
    with pytest.raises(ValueError):
        pass_hat_k(2, 1, 3)


def test_pass_hat_k_curve_averages_over_cases_with_enough_trials() -> None:
    curve = pass_hat_k_curve([(3, 3), (3, 1), (2, 1)])
    assert curve[1] == pytest.approx((1 + 1 / 3 + 1 / 2) / 3)
    assert curve[2] == pytest.approx((1 + 0 + 0) / 3)  # C(1,2) = 0
    assert curve[3] == pytest.approx((1 + 0) / 2)  # only the two cases with 3 trials
    assert sorted(curve) == [1, 2, 3]
    assert pass_hat_k_curve([]) == {}


def test_percentiles_interpolate_linearly() -> None:
    assert percentile([4.0, 1.0, 3.0, 2.0], 50) == 2.5
    assert percentile([1.0, 2.0, 3.0, 4.0], 95) == pytest.approx(3.85)
    assert percentile([7.0], 95) == 7.0
    assert percentile([], 50) is None
    with pytest.raises(ValueError):
        percentile([1.0], 101)


@pytest.fixture
def suite() -> list[CaseResult]:
    """Two cases, two trials each; every figure in the tests below is worked out by hand from these."""
    content = make_case("content-1", agents=["content"], tools=[{"name": "draft_post", "args": {"platform": "x"}},
                                                                {"name": "schedule_post", "args": {"platform": "x"}}],
                        forbidden_tools=["publish_post"], approvals=["schedule_post"], answer_contains=["scheduled"])
    pass_1 = Observation(status="completed", answer="Scheduled.", agents=["content"],
                         calls=[call("draft_post", platform="x"), call("schedule_post", platform="x")],
                         approvals=[approval("schedule_post")], model_calls=4, prompt_tokens=100,
                         completion_tokens=10, latency_s=0.1)
    fail_2 = Observation(status="completed", answer="Done.", agents=["content"],
                         calls=[call("draft_post", platform="linkedin"), call("publish_post"),
                                call("schedule_post", platform="x")],
                         approvals=[approval("schedule_post", "policy")], model_calls=6, prompt_tokens=200,
                         completion_tokens=20, latency_s=0.3)
    out_of_scope = make_case("oos-1", agents=[], tools=[])
    quiet = Observation(status="completed", answer="No.", latency_s=0.2)
    chatty = Observation(status="completed", answer="Here.", agents=["command_center"],
                         calls=[call("get_dashboard_summary", agent="command_center")], model_calls=2,
                         latency_s=0.4)
    return [case_result(content, "a.yaml", [trial(content, 2, fail_2), trial(content, 1, pass_1)]),
            case_result(out_of_scope, "b.yaml", [trial(out_of_scope, 1, quiet), trial(out_of_scope, 2, chatty)])]


def test_case_results_count_passes_and_means(suite: list[CaseResult]) -> None:
    content, oos = suite
    assert [t.trial for t in content.trials] == [1, 2]  # sorted whatever order they finished in
    assert (content.passes, content.pass_rate, content.pass_hat_k) == (1, 0.5, {1: 0.5, 2: 0.0})
    assert (content.model_calls_mean, content.tokens_mean) == (5.0, 165.0)
    assert (oos.group, oos.passes, oos.model_calls_mean) == ("none", 1, 1.0)


def test_suite_metrics_match_hand_computed_values(suite: list[CaseResult]) -> None:
    overall = summarise("overall", suite)
    assert (overall.cases, overall.trials, overall.passed_trials, overall.pass_rate) == (2, 4, 2, 0.5)
    assert overall.pass_hat_k == {1: 0.5, 2: 0.0}
    assert overall.routing_accuracy == 0.75  # content right twice; out-of-scope right once of two
    assert overall.tool_precision == pytest.approx(4 / 6)  # matched names 2+2+0+0 / calls 2+3+0+1
    assert overall.tool_recall == 1.0  # 4 / expected 2+2 (the out-of-scope case expects none)
    assert overall.argument_match == 0.75  # draft_post(x) missed in trial 2: 3 of 4
    assert overall.trajectory_match == 0.5
    assert overall.forbidden_violations == 1
    assert overall.approval_compliance == 0.5  # paused in trial 1, policy in trial 2
    assert overall.answer_check_rate == 0.5
    assert overall.latency_p50_s == pytest.approx(0.25)
    assert overall.latency_p95_s == pytest.approx(0.385)
    assert overall.model_calls_per_case == 3.0  # (5 + 1) / 2
    assert overall.tokens_per_case == 82.5  # (165 + 0) / 2
    assert overall.judge_mean is None and overall.judged == 0


def test_groups_are_ordered_and_measured_separately(suite: list[CaseResult]) -> None:
    groups = by_group(list(reversed(suite)))
    assert [g.group for g in groups] == ["content", "none"]
    content, none = groups
    assert content.tool_precision == pytest.approx(4 / 5)
    assert none.tool_precision == 0.0 and none.tool_recall is None  # nothing expected: recall is undefined
    assert none.approval_compliance is None and none.answer_check_rate is None


def test_the_gate_uses_pass_hat_k_at_the_requested_trials(suite: list[CaseResult]) -> None:
    overall = summarise("overall", suite)
    assert gate_value(overall, 1) == (1, 0.5)
    assert gate_value(overall, 2) == (2, 0.0)
    assert gate_value(overall, 5) == (2, 0.0)  # no case ran 5 trials: the largest k there is
    assert gate_value(summarise("overall", []), 1) == (1, None)


def test_percentages_read_cleanly() -> None:
    assert (pct(None), pct(1.0), pct(0.5), pct(2 / 3)) == ("—", "100%", "50%", "66.7%")


# Judge -------------------------------------------------------------------------------------------------------
def test_the_judge_grades_only_trials_that_wrote_something() -> None:
    assert judged_text(Observation(status="completed", answer="MRR is $222", calls=[call("get_revenue_metrics")])) \
        is None
    text = judged_text(Observation(status="completed", answer="Replied to Tom.",
                                   calls=[call("reply_to_comment", text="Thanks Tom! Jan 12."),
                                          call("reply_to_comment", status="error", text="never sent")]))
    assert text == "Replied to Tom.\n\nThanks Tom! Jan 12."


def test_the_judge_reads_a_json_verdict_from_the_model() -> None:
    model = FakeListChatModel(responses=['Sure: {"score": 4, "reason": "Friendly and practical."}'])
    verdict = judge_brand_fit(model, DEFAULT_BRAND, "Draft a post", "Tiny wins with pandas groupby. — Maya")
    assert (verdict.score, verdict.reason, verdict.error) == (4, "Friendly and practical.", None)


@pytest.mark.parametrize(("reply", "error"), [
    ("I like it", "did not answer with JSON"),
    ('{"score": "great"}', "no integer score"),
    ('{"score": 9, "reason": "x"}', "not between 1 and 5"),
])
def test_a_malformed_verdict_is_reported_not_scored(reply: str, error: str) -> None:
    verdict = parse_verdict(reply)
    assert verdict.score is None and error in (verdict.error or "")


# Baselines ----------------------------------------------------------------------------------------------------
def test_compare_lists_regressions_improvements_new_and_missing_cases(suite: list[CaseResult], tmp_path: Path
                                                                      ) -> None:
    path = tmp_path / "baseline.json"
    path.write_text(json.dumps({"model": "offline", "cases": [
        {"id": "content-1", "pass_rate": 1.0}, {"id": "gone", "pass_rate": 0.5}]}))
    comparison = compare(suite, load_baseline(path))
    assert [(d.id, d.baseline, d.current) for d in comparison.regressed] == [("content-1", 1.0, 0.5)]
    assert [d.id for d in comparison.new] == ["oos-1"] and [d.id for d in comparison.missing] == ["gone"]
    assert comparison.improved == [] and comparison.unchanged == 0 and comparison.baseline_model == "offline"
    path.write_text(json.dumps({"cases": [{"id": "content-1", "pass_rate": 0.0}, {"id": "oos-1", "pass_rate": 0.5}]}))
    comparison = compare(suite, load_baseline(path))
    assert [d.id for d in comparison.improved] == ["content-1"] and comparison.unchanged == 1


@pytest.mark.parametrize(("text", "message"), [
    ("not json", "is not JSON"),
    ('{"results": []}', "no `cases` list"),
    ('{"cases": [{"id": "x"}]}', "cases[0] has no `id` and numeric `pass_rate`"),
])
def test_a_bad_baseline_is_refused_with_the_reason(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "baseline.json"
    path.write_text(text)
    with pytest.raises(BaselineError, match=message.replace("[", r"\[").replace("]", r"\]")):
        load_baseline(path)
    with pytest.raises(BaselineError, match="cannot read"):
        load_baseline(tmp_path / "missing.json")
