"""What a trial observed and how it scored: the records the checks, metrics, reports and JSON share."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, Field

from creator_studio.evals.cases import EvalCase, ExpectedCall


class ObservedCall(BaseModel):
    """One tool call a run made (any status: ok, error, or invalid arguments)."""

    agent: str
    tool: str
    arguments: dict[str, Any] = Field(default_factory=dict)
    status: str = "ok"

    def label(self) -> str:
        if not self.arguments:
            return self.tool
        shown = ", ".join(f"{key}={value!r}" for key, value in self.arguments.items())
        return f"{self.tool}({shown})"


class ObservedApproval(BaseModel):
    tool: str
    status: str
    decided_by: str | None = None


class Observation(BaseModel):
    """Everything the checks look at, taken from a `RunOutcome` (or from an error that stopped the run)."""

    run_id: str | None = None
    status: str
    answer: str | None = None
    error: str | None = None
    agents: list[str] = Field(default_factory=list)
    calls: list[ObservedCall] = Field(default_factory=list)
    approvals: list[ObservedApproval] = Field(default_factory=list)
    model_calls: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0
    latency_s: float = 0.0

    @property
    def tokens(self) -> int:
        return self.prompt_tokens + self.completion_tokens


CheckName = Literal["status", "agents", "trajectory", "forbidden_tools", "approvals", "answer_contains",
                    "max_llm_calls"]


class CheckResult(BaseModel):
    name: CheckName
    passed: bool
    detail: str = ""


class DiffLine(BaseModel):
    """One line of the expected-vs-actual trajectory diff.

    match: an expected call and the actual call that satisfies it; mismatch: same tool, arguments differ;
    missing: expected, never called; extra: called, not expected.
    """

    kind: Literal["match", "mismatch", "missing", "extra"]
    expected: ExpectedCall | None = None
    actual: ObservedCall | None = None
    position: int | None = None  # index of the actual call in the run's trajectory
    differences: list[str] = Field(default_factory=list)


class TrialScores(BaseModel):
    """Counts behind the suite metrics (see metrics.py for how they add up)."""

    expected_calls: int = 0  # entries of `expect.tools` (0 when the case gives no `tools`)
    actual_calls: int = 0  # calls counted for precision (0 when the case gives no `tools`)
    name_matched: int = 0  # multiset intersection of expected and actual tool names
    args_expected: int = 0  # expected entries with `args` whose tool was called at least once
    args_matched: int = 0  # ... of which a distinct actual call has matching arguments
    forbidden_calls: int = 0
    approvals_expected: int = 0
    approvals_compliant: int = 0


class JudgeVerdict(BaseModel):
    score: int | None = Field(default=None, ge=1, le=5)
    reason: str = ""
    error: str | None = None


class TrialResult(BaseModel):
    case_id: str
    trial: int  # 1-based
    passed: bool
    checks: list[CheckResult]
    scores: TrialScores
    diff: list[DiffLine]
    observation: Observation
    judge: JudgeVerdict | None = None

    @property
    def failed_checks(self) -> list[CheckResult]:
        return [c for c in self.checks if not c.passed]


class CaseResult(BaseModel):
    id: str
    case: EvalCase
    source: str
    group: str
    trials: list[TrialResult]
    passes: int
    pass_rate: float
    pass_hat_k: dict[int, float]
    model_calls_mean: float
    tokens_mean: float
    latency_mean_s: float
