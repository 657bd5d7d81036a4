"""How well a past post did, comparable across platforms and account sizes.

Raw likes favour the biggest account: 300 likes from 12,500 X followers is worse than 190 from 4,200 on
Bluesky. So a post's engagement rate is engagements per person reached: the account's followers, or the
post's impressions when it travelled further (the same rate `get_content_performance` shows), and its
relative performance is that rate over the median rate of the same platform in the workspace (1.0 = a
typical post there, 2.0 = twice as engaging), since each platform has its own typical rate.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from statistics import median

from creator_studio.memory.records import PastPost, Scalar


def engagement_rate(engagements: int, followers: int, impressions: int) -> float:
    audience = max(followers, impressions)
    return engagements / audience if audience > 0 else 0.0


def post_rate(post: PastPost) -> float:
    return engagement_rate(post.engagements, post.followers, post.impressions)


def platform_baselines(metadatas: Iterable[Mapping[str, Scalar]]) -> dict[str, float]:
    """The median engagement rate per platform (one value per post, not per chunk)."""
    rates: dict[str, dict[str, float]] = {}
    for meta in metadatas:
        rates.setdefault(str(meta.get("platform", "")), {})[str(meta.get("source_id"))] = float(meta.get("rate", 0.0))
    return {platform: median(values.values()) for platform, values in rates.items() if values}


def relative_performance(rate: float, platform: str, baselines: Mapping[str, float]) -> float:
    baseline = baselines.get(platform, 0.0)
    if baseline <= 0:
        return 1.0 if rate > 0 else 0.0
    return rate / baseline
