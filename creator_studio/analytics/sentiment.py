"""Sentiment with VADER (a lexicon and rules tuned for social media text; fully offline).

VADER's compound score is in [−1, 1]; the usual cut-offs make ≥ 0.05 positive and ≤ −0.05 negative.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import Literal

from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

Label = Literal["positive", "neutral", "negative"]


@dataclass(frozen=True)
class Sentiment:
    label: Label
    compound: float
    positive: float
    neutral: float
    negative: float


@lru_cache(maxsize=1)
def _analyzer() -> SentimentIntensityAnalyzer:
    return SentimentIntensityAnalyzer()  # loads the lexicon file once


def label_of(compound: float) -> Label:
    return "positive" if compound >= 0.05 else "negative" if compound <= -0.05 else "neutral"


def analyze(text: str) -> Sentiment:
    scores = _analyzer().polarity_scores(text)
    compound = float(scores["compound"])
    return Sentiment(label_of(compound), compound, float(scores["pos"]), float(scores["neu"]), float(scores["neg"]))
