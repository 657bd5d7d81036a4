"""Anomaly detection on revenue and engagement series: a robust z-score of each point's residual.

The residual is the point minus the rolling median of the points before it (so a spike does not hide itself),
and the scale is the median absolute deviation of the residuals (× 1.4826, which makes it match the standard
deviation for normal data). Means and standard deviations are not used because one outlier moves them.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike
from scipy import stats

from creator_studio.errors import InvalidInput

MAD_TO_SIGMA = 1 / float(stats.norm.ppf(0.75))  # 1.4826: makes the MAD estimate sigma for normal data
DEFAULT_THRESHOLD = 3.5  # Iglewicz and Hoaglin's cut-off for modified z-scores
DEFAULT_WINDOW = 7


@dataclass(frozen=True)
class Anomaly:
    index: int
    value: float
    expected: float
    robust_z: float
    direction: str  # "spike" | "drop"


def robust_z(values: ArrayLike) -> np.ndarray:
    """(x − median) ÷ (1.4826 × MAD) for each value; zeros when the MAD is zero."""
    data = np.asarray(values, dtype=float)
    median = np.median(data)
    mad = np.median(np.abs(data - median)) * MAD_TO_SIGMA
    if mad == 0:
        return np.zeros_like(data)
    return (data - median) / mad


def residuals(values: Sequence[float], window: int = DEFAULT_WINDOW) -> tuple[np.ndarray, np.ndarray]:
    """Each point minus the median of the up-to-`window` points before it (the first point has no baseline)."""
    data = np.asarray(values, dtype=float)
    expected = np.array([np.median(data[max(0, i - window):i]) if i else data[0] for i in range(data.size)])
    return data - expected, expected


def detect(values: Sequence[float], *, window: int = DEFAULT_WINDOW, threshold: float = DEFAULT_THRESHOLD,
           min_points: int = 8) -> list[Anomaly]:
    """Points whose residual's robust z-score exceeds `threshold` in absolute value."""
    if window < 1 or threshold <= 0:
        raise InvalidInput("window must be at least 1 and threshold positive.")
    if len(values) < min_points:
        return []
    resid, expected = residuals(values, window)
    scores = robust_z(resid[1:])  # the first residual is zero by construction
    found = []
    for offset, score in enumerate(scores, start=1):
        if abs(score) > threshold:
            found.append(Anomaly(offset, float(values[offset]), float(expected[offset]), float(score),
                                 "spike" if score > 0 else "drop"))
    return found
