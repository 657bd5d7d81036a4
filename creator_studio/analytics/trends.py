"""Topic trends: which topics' engagement grows from one window to the next.

Growth compares the engagement a topic earned in the recent window with the window before it. A topic needs
some engagement in the recent window (`min_engagements`) so that 1 → 3 likes is not a "200 % trend".
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from creator_studio.errors import InvalidInput


@dataclass(frozen=True)
class TopicTrend:
    topic: str
    recent: int
    previous: int
    growth: float | None  # (recent − previous) ÷ previous; None when the topic is new
    status: str  # rising | falling | steady | new


def topic_trends(items: Iterable[tuple[str, datetime, int]], *, now: datetime, window: timedelta = timedelta(days=14),
                 min_engagements: int = 10, threshold: float = 0.25) -> list[TopicTrend]:
    """(topic, time, engagements) items → trends, fastest growing first (new topics after rising ones)."""
    if window <= timedelta(0):
        raise InvalidInput("window must be positive.")
    recent: dict[str, int] = {}
    previous: dict[str, int] = {}
    for topic, at, engagements in items:
        key = topic.strip().lower()
        if not key:
            continue
        if now - window <= at <= now:
            recent[key] = recent.get(key, 0) + engagements
        elif now - 2 * window <= at < now - window:
            previous[key] = previous.get(key, 0) + engagements
    trends = []
    for topic in set(recent) | set(previous):
        r, p = recent.get(topic, 0), previous.get(topic, 0)
        if r < min_engagements and p < min_engagements:
            continue
        if p == 0:
            trends.append(TopicTrend(topic, r, p, None, "new"))
            continue
        growth = (r - p) / p
        status = "rising" if growth >= threshold else "falling" if growth <= -threshold else "steady"
        trends.append(TopicTrend(topic, r, p, round(growth, 4), status))
    order = {"rising": 0, "new": 1, "steady": 2, "falling": 3}
    trends.sort(key=lambda t: (order[t.status], -(t.growth if t.growth is not None else 0), -t.recent, t.topic))
    return trends
