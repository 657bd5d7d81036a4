"""A/B test statistics: sticky assignment, sample-ratio-mismatch, the fixed-horizon z-test and its sample size,
a Bayesian probability-to-beat, and the stopping rule that decides when a result may be read.

Why a fixed horizon: reading a z-test every day and stopping at the first p < 0.05 ("peeking") inflates the
false-positive rate far above 5 %. So a planned test gives no verdict before each variant has reached the
sample size computed up front; the only exception is overwhelming evidence under the Haybittle–Peto rule
(an interim p below 0.001), which spends so little alpha that the overall rate stays at the planned level.

The arithmetic works on numpy arrays as well as on numbers, so a simulation of a thousand tests is one call.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy import special, stats

from creator_studio.errors import InvalidInput

DEFAULT_ALPHA = 0.05
DEFAULT_POWER = 0.8
# An interim look may stop a planned test early only below this p-value (Haybittle–Peto).
EARLY_STOP_P = 0.001
# A sample-ratio mismatch is flagged below this chi-square p-value (the usual, deliberately strict, cut-off).
SRM_ALPHA = 0.001
MONTE_CARLO_DRAWS = 200_000
MONTE_CARLO_SEED = 20260


# Assignment -------------------------------------------------------------------------------------------
def bucket(experiment_id: str, unit_id: str) -> float:
    """A point in [0, 1) fixed by sha256(experiment + unit): the same visitor always lands on the same point,
    and different experiments place the same visitor independently."""
    digest = hashlib.sha256(f"{experiment_id}:{unit_id}".encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2**64


def assign(experiment_id: str, unit_id: str, variants: Sequence[str], shares: Sequence[float]) -> str:
    """The variant a unit (visitor, subscriber) sees: its bucket placed on the cumulative traffic split."""
    if not variants or len(variants) != len(shares):
        raise InvalidInput("assign needs one traffic share per variant.")
    point = bucket(experiment_id, unit_id)
    cumulative = 0.0
    for variant, share in zip(variants, shares, strict=True):
        cumulative += share
        if point < cumulative:
            return variant
    return variants[-1]


# Sample-ratio mismatch --------------------------------------------------------------------------------
@dataclass(frozen=True)
class SampleRatioCheck:
    chi_square: float
    p_value: float
    mismatch: bool
    expected: list[float]


def sample_ratio_check(observed: Sequence[int], shares: Sequence[float], *,
                       alpha: float = SRM_ALPHA) -> SampleRatioCheck:
    """Pearson's chi-square of the exposures against the planned split. A mismatch means the assignment or the
    logging is broken, and the test's numbers cannot be trusted whatever their p-value."""
    if len(observed) != len(shares) or len(observed) < 2:
        raise InvalidInput("sample_ratio_check needs the exposures and the planned share of at least two variants.")
    total = sum(observed)
    share_sum = sum(shares)
    expected = [total * s / share_sum for s in shares]
    if total == 0:
        return SampleRatioCheck(chi_square=0.0, p_value=1.0, mismatch=False, expected=expected)
    chi_square = sum((o - e) ** 2 / e for o, e in zip(observed, expected, strict=True))
    p_value = float(stats.chi2.sf(chi_square, df=len(observed) - 1))
    return SampleRatioCheck(chi_square=chi_square, p_value=p_value, mismatch=p_value < alpha, expected=expected)


# Frequentist: z-test and sample size ------------------------------------------------------------------
def two_proportion_z(
    conversions_a: ArrayLike, exposures_a: ArrayLike, conversions_b: ArrayLike, exposures_b: ArrayLike
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Pooled two-proportion z statistic (B minus A) and its two-sided p-value; NaN where undefined."""
    ca, na = np.asarray(conversions_a, dtype=float), np.asarray(exposures_a, dtype=float)
    cb, nb = np.asarray(conversions_b, dtype=float), np.asarray(exposures_b, dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        pooled = (ca + cb) / (na + nb)
        se = np.sqrt(pooled * (1 - pooled) * (1 / na + 1 / nb))
        z = (cb / nb - ca / na) / se
        z = np.where(se > 0, z, np.nan)
    p = 2 * stats.norm.sf(np.abs(z))
    return z, p


def required_sample_size(baseline: float, mde: float, *, alpha: float = 0.05, power: float = 0.8,
                         relative: bool = True) -> int:
    """Exposures per variant for a two-sided two-proportion z-test to detect `mde` (relative lift by default,
    so 0.2 means +20 % of the baseline) with the given power:
    n = (z₁₋α/₂·√(2·p̄·q̄) + z₁₋β·√(p₁q₁ + p₂q₂))² / (p₂ − p₁)²."""
    if not 0 < baseline < 1:
        raise InvalidInput(f"baseline_rate must be between 0 and 1 (got {baseline}).")
    if not 0 < alpha < 1 or not 0 < power < 1:
        raise InvalidInput(f"alpha and power must be between 0 and 1 (got {alpha}, {power}).")
    p1 = baseline
    p2 = baseline * (1 + mde) if relative else baseline + mde
    if mde <= 0 or not 0 < p2 < 1:
        raise InvalidInput(
            f"minimum_detectable_effect {mde} must be positive and keep the rate below 1 (baseline {baseline})."
        )
    z_alpha = stats.norm.ppf(1 - alpha / 2)
    z_beta = stats.norm.ppf(power)
    p_bar = (p1 + p2) / 2
    numerator = z_alpha * math.sqrt(2 * p_bar * (1 - p_bar)) + z_beta * math.sqrt(p1 * (1 - p1) + p2 * (1 - p2))
    return math.ceil(numerator**2 / (p2 - p1) ** 2)


# Bayesian: probability to beat ------------------------------------------------------------------------
def probability_to_beat_exact(conversions_a: int, exposures_a: int, conversions_b: int, exposures_b: int) -> float:
    """P(rate_B > rate_A) with uniform Beta(1, 1) priors, in closed form (Evan Miller's sum over B's successes):
    Σᵢ₌₀^{α_B−1} B(α_A+i, β_A+β_B) / ((β_B+i)·B(1+i, β_B)·B(α_A, β_A))."""
    alpha_a, beta_a = conversions_a + 1, exposures_a - conversions_a + 1
    alpha_b, beta_b = conversions_b + 1, exposures_b - conversions_b + 1
    i = np.arange(alpha_b, dtype=float)
    log_terms = (
        special.betaln(alpha_a + i, beta_a + beta_b)
        - np.log(beta_b + i)
        - special.betaln(1 + i, beta_b)
        - special.betaln(alpha_a, beta_a)
    )
    return float(np.clip(np.exp(special.logsumexp(log_terms)), 0.0, 1.0))


def probability_to_beat_monte_carlo(conversions: Sequence[int], exposures: Sequence[int], *,
                                    draws: int = MONTE_CARLO_DRAWS, seed: int = MONTE_CARLO_SEED) -> list[float]:
    """For each variant, P(it has the highest rate) under Beta(1 + conversions, 1 + failures) posteriors,
    from a fixed-seed Monte Carlo so the same data always gives the same figure."""
    rng = np.random.default_rng(seed)
    samples = np.column_stack(
        [rng.beta(1 + c, 1 + n - c, size=draws) for c, n in zip(conversions, exposures, strict=True)]
    )
    best = np.bincount(samples.argmax(axis=1), minlength=len(conversions))
    return [float(b / draws) for b in best]


# Stopping rule ----------------------------------------------------------------------------------------
Decision = Literal["too_early", "continue", "winner", "control_wins", "no_difference", "stop_early"]


@dataclass(frozen=True)
class ExperimentPlan:
    baseline_rate: float
    minimum_detectable_effect: float  # relative lift, 0.2 = +20 %
    alpha: float = DEFAULT_ALPHA
    power: float = DEFAULT_POWER

    @property
    def sample_size_per_variant(self) -> int:
        return required_sample_size(self.baseline_rate, self.minimum_detectable_effect, alpha=self.alpha,
                                    power=self.power)


@dataclass(frozen=True)
class StoppingDecision:
    decision: Decision
    reached_plan: bool
    reason: str


def stopping_decision(plan: ExperimentPlan, exposures: Sequence[int], p_value: float | None,
                      treatment_better: bool) -> StoppingDecision:
    """Whether the result of control vs one treatment may be read now.

    Before the planned sample size only an interim p below 0.001 stops the test (Haybittle–Peto); at the
    planned size the decision is the plain fixed-horizon test at `plan.alpha`."""
    needed = plan.sample_size_per_variant
    reached = min(exposures) >= needed
    if not reached:
        if p_value is not None and p_value < EARLY_STOP_P:
            return StoppingDecision(
                "stop_early", False,
                f"stopped early: p={p_value:.4f} is below the Haybittle–Peto bound {EARLY_STOP_P} "
                f"before the planned {needed:,} exposures per variant",
            )
        return StoppingDecision(
            "continue", False,
            f"keep running: {min(exposures):,} of the planned {needed:,} exposures per variant; "
            "reading the result earlier would inflate false positives",
        )
    if p_value is None or p_value >= plan.alpha:
        return StoppingDecision("no_difference", True,
                                f"no significant difference at the planned sample size (p ≥ {plan.alpha})")
    if treatment_better:
        return StoppingDecision("winner", True, f"significant at the planned sample size (p={p_value:.4f})")
    return StoppingDecision("control_wins", True, f"the control is significantly better (p={p_value:.4f})")


def simulate_false_positive_rate(n_tests: int, exposures: int, rate: float, *, alpha: float = 0.05,
                                 seed: int = 7) -> float:
    """A/A tests at the planned horizon: the share of significant results, which must be close to alpha."""
    rng = np.random.default_rng(seed)
    a = rng.binomial(exposures, rate, size=n_tests)
    b = rng.binomial(exposures, rate, size=n_tests)
    _, p = two_proportion_z(a, exposures, b, exposures)
    return float(np.mean(np.nan_to_num(p, nan=1.0) < alpha))


def simulate_power(n_tests: int, plan: ExperimentPlan, *, seed: int = 11) -> float:
    """A/B tests with the planned lift, read at the planned horizon: the share detected, close to plan.power."""
    rng = np.random.default_rng(seed)
    n = plan.sample_size_per_variant
    treated = plan.baseline_rate * (1 + plan.minimum_detectable_effect)
    a = rng.binomial(n, plan.baseline_rate, size=n_tests)
    b = rng.binomial(n, treated, size=n_tests)
    _, p = two_proportion_z(a, n, b, n)
    return float(np.mean((np.nan_to_num(p, nan=1.0) < plan.alpha) & (b > a)))
