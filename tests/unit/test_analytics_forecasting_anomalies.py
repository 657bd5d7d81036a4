"""Forecasts against statsmodels' Holt-Winters, anomalies against scipy's MAD, trends by hand."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import numpy as np
import pandas as pd
import pytest
from scipy import stats
from statsmodels.tsa.exponential_smoothing.ets import ETSModel
from statsmodels.tsa.holtwinters import ExponentialSmoothing

from creator_studio.analytics import anomalies, forecasting, trends
from creator_studio.errors import InvalidInput

pytestmark = pytest.mark.unit


def test_a_perfect_line_is_extended_exactly() -> None:
    result = forecasting.forecast([900, 1800, 2700, 3600, 4500, 5400], 2)
    assert result.mean == pytest.approx([6300, 7200]) and result.trend_per_step == pytest.approx(900)
    assert result.low == pytest.approx(result.mean, abs=1e-3) and result.high == pytest.approx(result.mean, abs=1e-3)


def test_point_forecasts_match_holt_winters_with_the_same_parameters() -> None:
    rng = np.random.default_rng(3)
    series = 100 + 4 * np.arange(30) + rng.normal(0, 5, 30)
    ours = forecasting.forecast(list(series), 6)
    fit = ETSModel(pd.Series(series), error="add", trend="add", initialization_method="estimated").fit(disp=False)
    alpha, beta = fit.smoothing_level, fit.smoothing_trend
    # ETS's beta is alpha × Holt's beta*; the initial states are the same ones.
    holt = ExponentialSmoothing(series, trend="add", initialization_method="known",
                                initial_level=fit.initial_level, initial_trend=fit.initial_trend).fit(
        smoothing_level=alpha, smoothing_trend=beta / alpha, optimized=False)
    assert ours.mean == pytest.approx(list(holt.forecast(6)), rel=1e-6)
    widths = np.array(ours.high) - np.array(ours.low)
    assert np.all(np.diff(widths) > 0)  # uncertainty grows with the horizon
    assert all(lo < m < hi for lo, m, hi in zip(ours.low, ours.mean, ours.high, strict=True))


def test_prediction_intervals_cover_about_the_stated_share() -> None:
    rng = np.random.default_rng(4)
    covered = 0
    trials = 25
    for _ in range(trials):
        path = 50 + 2 * np.arange(25) + rng.normal(0, 3, 25)
        result = forecasting.forecast(list(path[:24]), 1, level=0.9)
        covered += result.low[0] <= path[24] <= result.high[0]
    assert covered / trials >= 0.7  # 90 % intervals: 22.5 of 25 expected, 18 is already unlikely


def test_seasonal_series_uses_holt_winters_and_short_series_fall_back() -> None:
    months = np.arange(36)
    seasonal = 200 + 3 * months + 20 * np.sin(months * 2 * np.pi / 12)
    result = forecasting.forecast(list(seasonal), 12, season_length=12)
    assert "Holt-Winters" in result.method
    expected = 200 + 3 * (36 + np.arange(12)) + 20 * np.sin((36 + np.arange(12)) * 2 * np.pi / 12)
    assert np.max(np.abs(np.array(result.mean) - expected)) < 5
    short = forecasting.forecast([10, 12, 11], 2)
    assert short.mean == [11, 11] and "carried forward" in short.method
    assert short.low[0] < 11 < short.high[0]
    assert forecasting.forecast([5, 3, 1, 0.5, 0.1, 0.0], 5).low[-1] >= 0  # never below zero
    with pytest.raises(InvalidInput):
        forecasting.forecast([], 1)
    with pytest.raises(InvalidInput):
        forecasting.forecast([1, 2], 0)


def test_robust_z_matches_scipy_mad() -> None:
    values = [10, 12, 11, 13, 12, 50, 11, 12]
    mad = stats.median_abs_deviation(values, scale="normal")
    expected = (np.array(values) - np.median(values)) / mad
    assert anomalies.robust_z(values) == pytest.approx(expected)
    assert list(anomalies.robust_z([5, 5, 5])) == [0, 0, 0]


def test_anomaly_detection_finds_a_spike_and_a_drop_but_not_noise() -> None:
    rng = np.random.default_rng(8)
    steady = list(100 + rng.normal(0, 3, 40))
    assert anomalies.detect(steady) == []
    spiked = steady.copy()
    spiked[25] = 160
    spiked[33] = 40
    found = anomalies.detect(spiked)
    assert [(a.index, a.direction) for a in found] == [(25, "spike"), (33, "drop")]
    assert found[0].expected == pytest.approx(float(np.median(steady[18:25])))
    assert anomalies.detect([1, 2, 100]) == []  # too short to judge


def test_topic_trends_by_hand() -> None:
    now = datetime(2026, 5, 1, tzinfo=UTC)
    day = timedelta(days=1)
    items = [
        ("Python", now - 2 * day, 60), ("python", now - 20 * day, 30),  # 60 vs 30: +100 %, rising
        ("SQL", now - 3 * day, 20), ("SQL", now - 17 * day, 40),  # 20 vs 40: −50 %, falling
        ("Notion", now - 1 * day, 15),  # new
        ("Excel", now - 5 * day, 22), ("Excel", now - 16 * day, 20),  # +10 %: steady
        ("tiny", now - 1 * day, 3), ("tiny", now - 20 * day, 1),  # too little engagement to call
        ("ancient", now - 40 * day, 500),  # outside both windows
    ]
    got = [(t.topic, t.status, t.growth) for t in trends.topic_trends(items, now=now)]
    assert got == [("python", "rising", 1.0), ("notion", "new", None), ("excel", "steady", 0.1),
                   ("sql", "falling", -0.5)]
