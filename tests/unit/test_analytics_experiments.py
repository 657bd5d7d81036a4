"""A/B test statistics against hand-computed values, scipy/statsmodels, and simulations of many tests."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import integrate, stats
from statsmodels.stats.power import NormalIndPower
from statsmodels.stats.proportion import proportion_effectsize, proportions_ztest

from creator_studio.analytics import experiments as ex
from creator_studio.errors import InvalidInput

pytestmark = pytest.mark.unit


def test_assignment_is_sticky_follows_the_split_and_differs_per_experiment() -> None:
    variants, shares = ["A", "B", "C"], [0.5, 0.3, 0.2]
    seen = [ex.assign("exp-1", f"user{i}", variants, shares) for i in range(20_000)]
    counts = {v: seen.count(v) / len(seen) for v in variants}
    assert counts == pytest.approx({"A": 0.5, "B": 0.3, "C": 0.2}, abs=0.015)
    assert [ex.assign("exp-1", f"user{i}", variants, shares) for i in range(50)] == seen[:50]
    other = [ex.assign("exp-2", f"user{i}", variants, shares) for i in range(2000)]
    agreement = sum(a == b for a, b in zip(seen[:2000], other, strict=True)) / 2000
    assert agreement < 0.45  # independent placements agree only by chance (0.5² + 0.3² + 0.2² = 0.38)


def test_bucket_is_sha256_of_experiment_and_unit() -> None:
    import hashlib

    digest = hashlib.sha256(b"exp:visitor").digest()
    assert ex.bucket("exp", "visitor") == int.from_bytes(digest[:8], "big") / 2**64


def test_sample_ratio_check_by_hand_and_against_scipy() -> None:
    # 50/50 planned, 1050 vs 950 seen: expected 1000 each, chi² = 50²/1000 × 2 = 5.0, p ≈ 0.0253.
    check = ex.sample_ratio_check([1050, 950], [0.5, 0.5])
    assert check.chi_square == pytest.approx(5.0)
    assert check.p_value == pytest.approx(stats.chisquare([1050, 950], [1000, 1000]).pvalue)
    assert not check.mismatch  # 0.025 is not below the strict 0.001 cut-off
    broken = ex.sample_ratio_check([1000, 1000], [0.7, 0.3])
    assert broken.mismatch and broken.p_value < 1e-10
    with pytest.raises(InvalidInput):
        ex.sample_ratio_check([10], [1.0])


def test_z_test_matches_statsmodels() -> None:
    z, p = ex.two_proportion_z(200, 1000, 245, 1000)
    ref_z, ref_p = proportions_ztest([245, 200], [1000, 1000])
    assert float(z) == pytest.approx(ref_z) and float(p) == pytest.approx(ref_p)
    # By hand: pooled 0.2225, se = sqrt(0.2225 × 0.7775 × 2/1000) = 0.018601, z = 0.045 / se = 2.4192.
    assert float(z) == pytest.approx(0.045 / math.sqrt(0.2225 * 0.7775 * 0.002), rel=1e-9)
    z0, p0 = ex.two_proportion_z(0, 100, 0, 100)
    assert math.isnan(float(z0)) and math.isnan(float(p0))


def test_required_sample_size_by_hand_and_against_statsmodels() -> None:
    # Baseline 10 %, +20 % relative (→ 12 %), alpha 0.05, power 0.8:
    # (1.95996·√(2·0.11·0.89) + 0.84162·√(0.1·0.9 + 0.12·0.88))² / 0.02² = 3840.3 → 3841.
    assert ex.required_sample_size(0.10, 0.20) == 3841
    reference = NormalIndPower().solve_power(
        effect_size=proportion_effectsize(0.12, 0.10), alpha=0.05, power=0.8, alternative="two-sided"
    )
    assert ex.required_sample_size(0.10, 0.20) == pytest.approx(reference, rel=0.02)  # arcsine vs normal form
    assert ex.required_sample_size(0.10, 0.02, relative=False) == 3841
    with pytest.raises(InvalidInput, match="baseline_rate"):
        ex.required_sample_size(1.5, 0.2)
    with pytest.raises(InvalidInput, match="minimum_detectable_effect"):
        ex.required_sample_size(0.6, 1.0)


def test_probability_to_beat_exact_monte_carlo_and_numerical_integration_agree() -> None:
    ca, na, cb, nb = 40, 1000, 55, 1000
    exact = ex.probability_to_beat_exact(ca, na, cb, nb)

    def integrand(x: float) -> float:  # P(B > A) = ∫ f_B(x) F_A(x) dx
        return float(stats.beta.pdf(x, cb + 1, nb - cb + 1) * stats.beta.cdf(x, ca + 1, na - ca + 1))

    numeric, _ = integrate.quad(integrand, 0, 1, limit=200, points=[0.04, 0.055])
    assert exact == pytest.approx(numeric, abs=1e-6)
    control, treatment = ex.probability_to_beat_monte_carlo([ca, cb], [na, nb])
    assert treatment == pytest.approx(exact, abs=0.005) and control + treatment == pytest.approx(1.0)
    assert ex.probability_to_beat_monte_carlo([ca, cb], [na, nb]) == [control, treatment]  # fixed seed
    assert ex.probability_to_beat_exact(10, 100, 10, 100) == pytest.approx(0.5, abs=1e-9)


def test_one_thousand_a_a_tests_give_the_planned_false_positive_rate() -> None:
    plan = ex.ExperimentPlan(baseline_rate=0.05, minimum_detectable_effect=0.2)
    rate = ex.simulate_false_positive_rate(1000, plan.sample_size_per_variant, 0.05, seed=1)
    assert 0.035 <= rate <= 0.065, rate


def test_a_real_lift_is_detected_at_the_planned_power() -> None:
    plan = ex.ExperimentPlan(baseline_rate=0.05, minimum_detectable_effect=0.2, power=0.8)
    power = ex.simulate_power(500, plan, seed=2)
    assert abs(power - 0.8) <= 0.05, power


def _peeking_false_positive_rate(early_stop_p: float | None, looks: int = 10, tests: int = 1000) -> float:
    """A/A tests looked at `looks` times; stop at the first significant look (naive) or by the stopping rule."""
    plan = ex.ExperimentPlan(baseline_rate=0.05, minimum_detectable_effect=0.2)
    n = plan.sample_size_per_variant
    rng = np.random.default_rng(5)
    step = n // looks
    a = rng.binomial(step, 0.05, size=(tests, looks)).cumsum(axis=1)
    b = rng.binomial(step, 0.05, size=(tests, looks)).cumsum(axis=1)
    exposures = step * np.arange(1, looks + 1)
    _, p = ex.two_proportion_z(a, exposures, b, exposures)
    p = np.nan_to_num(p, nan=1.0)
    if early_stop_p is None:
        return float(np.mean((p < 0.05).any(axis=1)))
    interim = (p[:, :-1] < early_stop_p).any(axis=1)
    final = p[:, -1] < plan.alpha
    return float(np.mean(interim | final))


def test_peeking_inflates_false_positives_and_the_stopping_rule_does_not() -> None:
    assert _peeking_false_positive_rate(None) > 0.12  # naive daily peeking: far above 5 %
    assert _peeking_false_positive_rate(ex.EARLY_STOP_P) <= 0.065  # Haybittle–Peto interim looks


def test_stopping_decision_waits_for_the_planned_sample() -> None:
    plan = ex.ExperimentPlan(baseline_rate=0.05, minimum_detectable_effect=0.2)
    n = plan.sample_size_per_variant
    assert ex.stopping_decision(plan, [n // 2, n // 2], 0.01, True).decision == "continue"
    assert ex.stopping_decision(plan, [n // 2, n // 2], 0.0004, True).decision == "stop_early"
    assert ex.stopping_decision(plan, [n, n], 0.01, True).decision == "winner"
    assert ex.stopping_decision(plan, [n, n], 0.01, False).decision == "control_wins"
    assert ex.stopping_decision(plan, [n, n], 0.2, True).decision == "no_difference"
    assert ex.stopping_decision(plan, [n, n], None, True).decision == "no_difference"
