"""Forecasts of a series (MRR, followers) with exponential smoothing and prediction intervals.

Holt's linear trend as the state-space model ETS(A,A,N) of statsmodels (`ETSModel`): the same point forecasts
as Holt-Winters' `ExponentialSmoothing(trend="add")`, plus analytic prediction intervals. A seasonal term is
added only with two full seasons of data. Series too short to fit (fewer than four points) get a flat forecast
whose interval is the spread of the changes seen so far.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from statsmodels.tsa.exponential_smoothing.ets import ETSModel

from creator_studio.errors import InvalidInput

MIN_POINTS_FOR_MODEL = 4


@dataclass(frozen=True)
class ForecastResult:
    mean: list[float]
    low: list[float]
    high: list[float]
    trend_per_step: float  # the fitted slope at the end of the history
    method: str


def forecast(values: Sequence[float], steps: int, *, level: float = 0.95, season_length: int | None = None,
             floor: float | None = 0.0) -> ForecastResult:
    """Forecast `steps` points ahead with a `level` prediction interval; values below `floor` are clipped (money
    and followers are never negative)."""
    if steps < 1:
        raise InvalidInput(f"steps must be at least 1 (got {steps}).")
    if not 0 < level < 1:
        raise InvalidInput(f"level must be between 0 and 1 (got {level}).")
    data = np.asarray(values, dtype=float)
    if data.size == 0 or not np.all(np.isfinite(data)):
        raise InvalidInput("the series is empty or has missing values.")
    if data.size < MIN_POINTS_FOR_MODEL or np.ptp(data) == 0:
        mean, low, high, slope, method = _flat(data, steps, level)
    else:
        mean, low, high, slope, method = _ets(data, steps, level, season_length)
    if floor is not None:
        mean, low, high = (np.maximum(a, floor) for a in (mean, low, high))
    return ForecastResult([float(x) for x in mean], [float(x) for x in low], [float(x) for x in high], slope, method)


def _ets(data: np.ndarray, steps: int, level: float, season_length: int | None
         ) -> tuple[np.ndarray, np.ndarray, np.ndarray, float, str]:
    seasonal = season_length is not None and season_length > 1 and data.size >= 2 * season_length
    model = ETSModel(
        pd.Series(data),  # statsmodels' prediction frames need an index
        error="add",
        trend="add",
        seasonal="add" if seasonal else None,
        seasonal_periods=season_length if seasonal else None,
        initialization_method="estimated" if data.size >= 10 else "heuristic" if seasonal else "estimated",
    )
    with warnings.catch_warnings():  # short series make the optimiser chatty; the fit is still usable
        warnings.simplefilter("ignore")
        fit = model.fit(disp=False, maxiter=2000)
        frame = fit.get_prediction(start=data.size, end=data.size + steps - 1).summary_frame(alpha=1 - level)
    mean = frame["mean"].to_numpy()
    low = frame["pi_lower"].to_numpy()
    high = frame["pi_upper"].to_numpy()
    # Exact fits (a perfect line) have ~0 residual variance; numerical noise must not give NaN bounds.
    low = np.where(np.isfinite(low), low, mean)
    high = np.where(np.isfinite(high), high, mean)
    slope = float(np.asarray(fit.slope)[-1])
    name = "Holt-Winters (additive trend and season)" if seasonal else "Holt's linear trend"
    return mean, low, high, slope, (
        f"{name}, fitted as ETS(A,A,{'A' if seasonal else 'N'}) by statsmodels; range is the {level:.0%} "
        "prediction interval."
    )


def _flat(data: np.ndarray, steps: int, level: float) -> tuple[np.ndarray, np.ndarray, np.ndarray, float, str]:
    from scipy import stats

    changes = np.diff(data)
    spread = float(np.std(changes, ddof=1)) if changes.size > 1 else 0.0
    z = float(stats.norm.ppf(0.5 + level / 2))
    mean = np.full(steps, data[-1])
    margin = np.array([z * spread * math.sqrt(h) for h in range(1, steps + 1)])
    return mean, mean - margin, mean + margin, 0.0, (
        f"Too little or no varying history for a model: the last value carried forward; range is ±{z:.2f} × the "
        "spread of past changes × √(steps ahead)."
    )
