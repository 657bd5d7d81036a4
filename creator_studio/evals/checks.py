"""Judging one trial against its case: pure functions, no studio, no model.

Argument matching (used everywhere an expected call meets an actual one):
- the expected `args` are a subset: every expected key must be in the actual call with a matching value;
  extra actual arguments are fine; an expected `null` matches an absent argument;
- values are compared in their JSON form: strings case-insensitively (whitespace collapsed); a number
  matches a number or numeric string of the same value (`29` matches `"29.0"`); ISO date-times compare as
  instants when both carry a zone, by wall-clock time when the expected one has none, and an expected date
  (`2026-12-01`) matches a date-time on that date; mappings match recursively as subsets; lists match
  element by element in any order, with the same length.

Trajectory modes (agentevals meanings; an expected call matches an actual one when the names are equal and
the arguments match as above; each actual call satisfies at most one expected call):
- strict: the same number of calls, each matching in the same order;
- unordered: the same number of calls, matched one-to-one in any order;
- superset: every expected call is matched by a distinct actual call; extra calls are allowed;
- subset: every actual call is matched by a distinct expected call; expected calls may be missing.
`tools: []` means no tool may be called, whatever the mode.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable, Sequence
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from creator_studio.evals.cases import EvalCase, ExpectedCall, TrajectoryMode
from creator_studio.evals.results import (
    CheckResult,
    DiffLine,
    Observation,
    ObservedApproval,
    ObservedCall,
    TrialScores,
)

# Approvals decided by these never paused the run: the workspace policy or `--auto-approve` let them through.
NOT_PAUSED = frozenset({"policy", "auto-approve"})
_NUMERIC = re.compile(r"^[+-]?(\d+(\.\d*)?|\.\d+)$")
_DATE_ONLY = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_DATE_TIME = re.compile(r"^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}")


# Values and arguments -----------------------------------------------------------------------------------
def values_match(expected: Any, actual: Any) -> bool:
    if expected is None:
        return actual is None
    if isinstance(expected, dict):
        return isinstance(actual, dict) and args_match(expected, actual)
    if isinstance(expected, list):
        return (isinstance(actual, list) and len(expected) == len(actual)
                and len(max_matching(len(expected), len(actual),
                                     lambda i, j: values_match(expected[i], actual[j]))) == len(expected))
    if isinstance(expected, bool) or isinstance(actual, bool):
        return expected is actual  # True is not 1 here
    if isinstance(expected, int | float) or isinstance(actual, int | float):
        left, right = _number(expected), _number(actual)
        return left is not None and left == right
    if isinstance(expected, str) and isinstance(actual, str):
        same_time = _times_match(expected, actual)
        if same_time is not None:
            return same_time
        return _text(expected) == _text(actual)
    return bool(expected == actual)


def args_match(expected: dict[str, Any], actual: dict[str, Any]) -> bool:
    return all(values_match(value, actual.get(key)) for key, value in expected.items())


def arg_differences(expected: dict[str, Any], actual: dict[str, Any]) -> list[str]:
    """Human-readable reasons why `actual` does not match `expected` (empty when it does)."""
    differences = []
    for key, value in expected.items():
        if key not in actual and value is not None:
            differences.append(f"{key}: expected {value!r}, missing")
        elif not values_match(value, actual.get(key)):
            differences.append(f"{key}: expected {value!r}, got {actual.get(key)!r}")
    return differences


def call_matches(expected: ExpectedCall, actual: ObservedCall) -> bool:
    return expected.name == actual.tool and args_match(expected.args or {}, actual.arguments)


def _number(value: Any) -> Decimal | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return Decimal(str(value))
    if isinstance(value, str) and _NUMERIC.match(value.strip()):
        try:
            return Decimal(value.strip())
        except InvalidOperation:
            return None
    return None


def _text(value: str) -> str:
    return " ".join(value.split()).casefold()


def _times_match(expected: str, actual: str) -> bool | None:
    """None when `expected` is not a date or date-time (compare as text then)."""
    expected = expected.strip()
    if _DATE_ONLY.match(expected):
        wanted = _parse_date(expected)
        got = _parse_datetime(actual)
        if wanted is None:
            return None
        if got is not None:
            return got.date() == wanted  # the date as written in the actual value (its own zone)
        return _parse_date(actual.strip()) == wanted
    if not _DATE_TIME.match(expected):
        return None
    wanted_at = _parse_datetime(expected)
    if wanted_at is None:
        return None
    got_at = _parse_datetime(actual)
    if got_at is None:
        return False
    if wanted_at.tzinfo is None:
        return got_at.replace(tzinfo=None) == wanted_at
    if got_at.tzinfo is None:
        return False
    return got_at == wanted_at


def _parse_datetime(value: str) -> datetime | None:
    if not _DATE_TIME.match(value.strip()):
        return None
    try:
        return datetime.fromisoformat(value.strip())
    except ValueError:
        return None


def _parse_date(value: str) -> date | None:
    try:
        return date.fromisoformat(value)
    except ValueError:
        return None


# Matching ----------------------------------------------------------------------------------------------
def max_matching(left: int, right: int, edge: Callable[[int, int], bool]) -> dict[int, int]:
    """A maximum one-to-one matching (left index -> right index), by augmenting paths (Kuhn).

    Greedy first-fit can miss a full matching (expected `draft_post` and `draft_post(platform=x)` against
    calls for x then linkedin); this cannot."""
    edges = [[j for j in range(right) if edge(i, j)] for i in range(left)]
    owner: dict[int, int] = {}  # right -> left

    def augment(i: int, visited: set[int]) -> bool:
        for j in edges[i]:
            if j in visited:
                continue
            visited.add(j)
            if j not in owner or augment(owner[j], visited):
                owner[j] = i
                return True
        return False

    for i in range(left):
        augment(i, set())
    return {i: j for j, i in owner.items()}


def trajectory_matches(mode: TrajectoryMode, expected: Sequence[ExpectedCall], actual: Sequence[ObservedCall]
                       ) -> bool:
    if not expected:
        return not actual
    if mode == "strict":
        return len(expected) == len(actual) and all(call_matches(e, a) for e, a in zip(expected, actual,
                                                                                          strict=True))
    matched = max_matching(len(expected), len(actual), lambda i, j: call_matches(expected[i], actual[j]))
    if mode == "unordered":
        return len(expected) == len(actual) and len(matched) == len(expected)
    if mode == "superset":
        return len(matched) == len(expected)
    return len(matched) == len(actual)  # subset


def trajectory_diff(expected: Sequence[ExpectedCall], actual: Sequence[ObservedCall]) -> list[DiffLine]:
    """Actual calls in order (matched, mismatched or extra), then expected calls never made."""
    full = max_matching(len(expected), len(actual), lambda i, j: call_matches(expected[i], actual[j]))
    free_expected = [i for i in range(len(expected)) if i not in full]
    used_actual = set(full.values())
    free_actual = [j for j in range(len(actual)) if j not in used_actual]
    by_name = max_matching(len(free_expected), len(free_actual),
                           lambda i, j: expected[free_expected[i]].name == actual[free_actual[j]].tool)
    near = {free_actual[j]: free_expected[i] for i, j in by_name.items()}
    expected_of = {j: i for i, j in full.items()}
    lines: list[DiffLine] = []
    for j, call in enumerate(actual):
        if j in expected_of:
            lines.append(DiffLine(kind="match", expected=expected[expected_of[j]], actual=call, position=j))
        elif j in near:
            wanted = expected[near[j]]
            lines.append(DiffLine(kind="mismatch", expected=wanted, actual=call, position=j,
                                  differences=arg_differences(wanted.args or {}, call.arguments)))
        else:
            lines.append(DiffLine(kind="extra", actual=call, position=j))
    near_expected = set(near.values())
    lines.extend(DiffLine(kind="missing", expected=expected[i]) for i in free_expected if i not in near_expected)
    return lines


# One trial ------------------------------------------------------------------------------------------------
def evaluate_trial(case: EvalCase, observation: Observation) -> tuple[list[CheckResult], TrialScores, list[DiffLine]]:
    """Every check the case asks for (plus: the run completed), the metric counts, and the trajectory diff."""
    expect = case.expect
    calls = observation.calls
    checks = [_status_check(observation)]
    scores = TrialScores()
    diff: list[DiffLine] = []
    if expect.agents is not None:
        wanted, got = {str(a) for a in expect.agents}, set(observation.agents)
        checks.append(CheckResult(name="agents", passed=wanted == got,
                                  detail=f"expected {_set(wanted)}, got {_set(got)}"))
    if expect.tools is not None:
        checks.append(_trajectory_check(expect.trajectory, expect.tools, calls))
        diff = trajectory_diff(expect.tools, calls)
        scores = scores.model_copy(update=_tool_counts(expect.tools, calls))
    if expect.forbidden_tools:
        forbidden = Counter(c.tool for c in calls if c.tool in set(expect.forbidden_tools))
        scores.forbidden_calls = sum(forbidden.values())
        checks.append(CheckResult(name="forbidden_tools", passed=not forbidden,
                                  detail=", ".join(f"{tool} called {n}×" for tool, n in sorted(forbidden.items()))
                                  or "none called"))
    if expect.approvals:
        problems = [p for tool in dict.fromkeys(expect.approvals)
                    if (p := approval_problem(tool, calls, observation.approvals))]
        scores.approvals_expected = len(dict.fromkeys(expect.approvals))
        scores.approvals_compliant = scores.approvals_expected - len(problems)
        checks.append(CheckResult(name="approvals", passed=not problems,
                                  detail="; ".join(problems) or "each paused for approval, then ran"))
    if expect.answer_contains:
        answer = _text(observation.answer or "")
        missing = [s for s in expect.answer_contains if _text(s) not in answer]
        checks.append(CheckResult(name="answer_contains", passed=not missing,
                                  detail=("missing " + ", ".join(repr(s) for s in missing)) if missing
                                  else "all found"))
    if expect.max_llm_calls is not None:
        checks.append(CheckResult(name="max_llm_calls", passed=observation.model_calls <= expect.max_llm_calls,
                                  detail=f"{observation.model_calls} model calls (limit {expect.max_llm_calls})"))
    return checks, scores, diff


def approval_problem(tool: str, calls: Sequence[ObservedCall], approvals: Sequence[ObservedApproval]
                     ) -> str | None:
    """None when `tool` ran and every run of it paused for approval first; else what went wrong.

    Calls refused for invalid arguments never reach the approval step, so they are not counted as runs."""
    ran = [c for c in calls if c.tool == tool and c.status != "invalid"]
    paused = [a for a in approvals if a.tool == tool and a.decided_by not in NOT_PAUSED]
    if not ran:
        return f"{tool} was never called"
    if not paused:
        by = sorted({a.decided_by or "nobody" for a in approvals if a.tool == tool})
        return f"{tool} ran without pausing for approval" + (f" (approved by {', '.join(by)})" if by else "")
    if len(paused) < len(ran):
        return f"{tool} ran {len(ran)}× but paused for approval {len(paused)}×"
    return None


def _status_check(observation: Observation) -> CheckResult:
    if observation.status == "completed":
        return CheckResult(name="status", passed=True, detail="completed")
    reason = f": {observation.error}" if observation.error else ""
    return CheckResult(name="status", passed=False, detail=f"run ended {observation.status}{reason}")


def _trajectory_check(mode: TrajectoryMode, expected: Sequence[ExpectedCall], actual: Sequence[ObservedCall]
                      ) -> CheckResult:
    passed = trajectory_matches(mode, expected, actual)
    got = " → ".join(c.tool for c in actual) or "no calls"
    if not expected:
        return CheckResult(name="trajectory", passed=passed, detail=f"no tool may be called; got {got}")
    wanted = " → ".join(e.name for e in expected)
    return CheckResult(name="trajectory", passed=passed, detail=f"{mode}: expected {wanted}; got {got}")


def _tool_counts(expected: Sequence[ExpectedCall], actual: Sequence[ObservedCall]) -> dict[str, int]:
    expected_names = Counter(e.name for e in expected)
    actual_names = Counter(c.tool for c in actual)
    with_args = [e for e in expected if e.args]
    comparable = [e for e in with_args if actual_names[e.name] > 0]
    matched = max_matching(len(comparable), len(actual), lambda i, j: call_matches(comparable[i], actual[j]))
    return {"expected_calls": len(expected), "actual_calls": len(actual),
            "name_matched": sum((expected_names & actual_names).values()),
            "args_expected": len(comparable), "args_matched": len(matched)}


def _set(values: set[str]) -> str:
    return "{" + ", ".join(sorted(values)) + "}" if values else "{} (none)"
