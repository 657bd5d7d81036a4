"""Suite metrics: pure functions over trial results.

Definitions (a "trial" is one run of one case; rates are None when nothing was measured):
- pass rate: passed trials / trials.
- pass^k (tau-bench): per case with n trials and c passes, C(c, k) / C(n, k) — the chance that k trials
  drawn without replacement all pass; averaged over the cases with n >= k, for k = 1..max n.
- routing accuracy: trials whose set of working agents equals `expect.agents` / trials of cases giving it.
- tool precision / recall (micro, over calls): name-matched calls / actual calls, and / expected calls, summed
  over trials of cases giving `tools`. Calls are matched by name as multisets (two expected drafts and three
  actual drafts: 2 matched); every recorded call counts, including ones that failed or had invalid arguments.
- argument match: expected calls with `args` whose tool was called, matched one-to-one to a call with matching
  arguments / such expected calls (a tool never called counts against recall, not here).
- trajectory match: trials passing the trajectory check / trials of cases giving `tools`.
- forbidden-tool violations: calls of forbidden tools, summed over trials.
- approval compliance: (trial, listed tool) pairs where the tool ran and every run paused first / all pairs.
- answer check rate: trials whose answer contains every `answer_contains` substring / trials of cases giving it.
- latency p50/p95: percentiles of trial wall time (linear interpolation between closest ranks).
- model calls and tokens per case: the mean per trial, averaged over cases.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from statistics import fmean

from pydantic import BaseModel

from creator_studio.evals.cases import EvalCase
from creator_studio.evals.results import CaseResult, CheckName, TrialResult

GROUP_ORDER = ("content", "engagement", "revenue", "automation", "command_center", "multi", "none", "unspecified")


class GroupMetrics(BaseModel):
    group: str
    cases: int
    trials: int
    passed_trials: int
    pass_rate: float | None
    pass_hat_k: dict[int, float]
    routing_accuracy: float | None
    tool_precision: float | None
    tool_recall: float | None
    argument_match: float | None
    trajectory_match: float | None
    forbidden_violations: int
    approval_compliance: float | None
    answer_check_rate: float | None
    latency_p50_s: float | None
    latency_p95_s: float | None
    model_calls_per_case: float | None
    tokens_per_case: float | None
    judge_mean: float | None
    judged: int


# Building blocks ---------------------------------------------------------------------------------------------
def pass_hat_k(n: int, c: int, k: int) -> float:
    """tau-bench's unbiased estimator of "k out of k trials pass" from c passes in n trials."""
    if not 0 <= c <= n or not 1 <= k <= n:
        raise ValueError(f"pass^k needs 0 <= c <= n and 1 <= k <= n (n={n}, c={c}, k={k})")
    return math.comb(c, k) / math.comb(n, k)


def pass_hat_k_curve(counts: Sequence[tuple[int, int]]) -> dict[int, float]:
    """{k: mean pass^k over the cases with at least k trials} for k = 1..max n, from (n, c) per case."""
    curve: dict[int, float] = {}
    for k in range(1, max((n for n, _ in counts), default=0) + 1):
        values = [pass_hat_k(n, c, k) for n, c in counts if n >= k]
        curve[k] = fmean(values)
    return curve


def percentile(values: Sequence[float], q: float) -> float | None:
    """The q-th percentile (0..100) with linear interpolation between closest ranks (numpy's default)."""
    if not 0 <= q <= 100:
        raise ValueError(f"percentile {q} is not between 0 and 100")
    if not values:
        return None
    ordered = sorted(values)
    position = (len(ordered) - 1) * q / 100
    low, high = math.floor(position), math.ceil(position)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


def ratio(numerator: float, denominator: float) -> float | None:
    return numerator / denominator if denominator else None


def check_rate(trials: Sequence[TrialResult], name: CheckName) -> float | None:
    """Share of the trials that ran check `name` and passed it."""
    outcomes = [c.passed for t in trials for c in t.checks if c.name == name]
    return ratio(sum(outcomes), len(outcomes))


# Cases and groups --------------------------------------------------------------------------------------------
def case_result(case: EvalCase, source: str, trials: Sequence[TrialResult]) -> CaseResult:
    ordered = sorted(trials, key=lambda t: t.trial)
    passes = sum(t.passed for t in ordered)
    n = len(ordered)
    return CaseResult(
        id=case.id, case=case, source=source, group=case.group, trials=list(ordered), passes=passes,
        pass_rate=passes / n if n else 0.0,
        pass_hat_k={k: pass_hat_k(n, passes, k) for k in range(1, n + 1)},
        model_calls_mean=_mean(ordered, lambda t: t.observation.model_calls),
        tokens_mean=_mean(ordered, lambda t: t.observation.tokens),
        latency_mean_s=_mean(ordered, lambda t: t.observation.latency_s))


def summarise(group: str, cases: Sequence[CaseResult]) -> GroupMetrics:
    trials = [t for case in cases for t in case.trials]
    scores = [t.scores for t in trials]
    latencies = [t.observation.latency_s for t in trials]
    verdicts = [t.judge.score for t in trials if t.judge is not None and t.judge.score is not None]
    return GroupMetrics(
        group=group, cases=len(cases), trials=len(trials), passed_trials=sum(t.passed for t in trials),
        pass_rate=ratio(sum(t.passed for t in trials), len(trials)),
        pass_hat_k=pass_hat_k_curve([(len(c.trials), c.passes) for c in cases if c.trials]),
        routing_accuracy=check_rate(trials, "agents"),
        tool_precision=ratio(sum(s.name_matched for s in scores), sum(s.actual_calls for s in scores)),
        tool_recall=ratio(sum(s.name_matched for s in scores), sum(s.expected_calls for s in scores)),
        argument_match=ratio(sum(s.args_matched for s in scores), sum(s.args_expected for s in scores)),
        trajectory_match=check_rate(trials, "trajectory"),
        forbidden_violations=sum(s.forbidden_calls for s in scores),
        approval_compliance=ratio(sum(s.approvals_compliant for s in scores),
                                  sum(s.approvals_expected for s in scores)),
        answer_check_rate=check_rate(trials, "answer_contains"),
        latency_p50_s=percentile(latencies, 50), latency_p95_s=percentile(latencies, 95),
        model_calls_per_case=fmean([c.model_calls_mean for c in cases]) if cases else None,
        tokens_per_case=fmean([c.tokens_mean for c in cases]) if cases else None,
        judge_mean=fmean(verdicts) if verdicts else None, judged=len(verdicts))


def by_group(cases: Sequence[CaseResult]) -> list[GroupMetrics]:
    """Metrics per expected agent (multi-agent cases in `multi`, out-of-scope goals in `none`)."""
    groups: dict[str, list[CaseResult]] = {}
    for case in cases:
        groups.setdefault(case.group, []).append(case)
    order = {name: index for index, name in enumerate(GROUP_ORDER)}
    return [summarise(name, members) for name, members in sorted(groups.items(),
                                                                  key=lambda item: order.get(item[0], 99))]


def gate_value(overall: GroupMetrics, k: int) -> tuple[int, float | None]:
    """The pass^k that `--min-pass` is compared with: at k = --trials, or the largest k any case reached."""
    if not overall.pass_hat_k:
        return k, None
    used = k if k in overall.pass_hat_k else max(overall.pass_hat_k)
    return used, overall.pass_hat_k[used]


def _mean(trials: Sequence[TrialResult], value: Callable[[TrialResult], float]) -> float:
    return fmean([value(t) for t in trials]) if trials else 0.0
