"""What each event adds to the metrics store, and the seam that subscribes analytics to the event service.

The mapping is a pure function (event in, points and maybe a ledger entry out), so it is tested without a bus.
`subscribe()` works with anything that has the event service's `subscribe(module, handler, types=...)`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from datetime import datetime
from typing import Any, Protocol

from creator_studio.analytics.metrics_store import LedgerEntry, Point

# The event types analytics listens to.
EVENT_PATTERNS = ("content.*", "audience.*", "revenue.*")
MODULE = "analytics"


class EventLike(Protocol):
    @property
    def id(self) -> str: ...
    @property
    def type(self) -> str: ...
    @property
    def workspace_id(self) -> str: ...
    @property
    def occurred_at(self) -> datetime: ...
    @property
    def data(self) -> dict[str, Any]: ...


class Subscriber(Protocol):
    def subscribe(self, module: str, handler: Callable[[Any], None], *, types: Sequence[str] | None = None
                  ) -> Any: ...


def _num(data: Mapping[str, Any], key: str) -> float:
    value = data.get(key)
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else 0.0


def points_for(event: EventLike) -> tuple[list[Point], LedgerEntry | None]:
    """The metric points (and ledger entry, for payments) an event contributes; ([], None) for the others."""
    data = event.data
    platform = str(data.get("platform") or "")
    if event.type == "content.published":
        return [Point("posts_published", 1), Point("posts_published", 1, "platform", platform)], None
    if event.type == "content.engagement_received":
        post = str(data.get("post_id") or "")
        points = []
        for metric in ("likes", "comments", "shares", "views"):
            value = _num(data, metric)
            if value:
                points += [Point(metric, value), Point(metric, value, "platform", platform),
                           Point(metric, value, "post", post)]
        engagements = sum(_num(data, m) for m in ("likes", "comments", "shares"))
        if engagements:
            points += [Point("engagements", engagements), Point("engagements", engagements, "platform", platform),
                       Point("engagements", engagements, "post", post)]
        return points, None
    if event.type == "audience.follower_gained":
        count = _num(data, "count") or 1.0
        return [Point("followers_gained", count), Point("followers_gained", count, "platform", platform)], None
    if event.type == "audience.comment_received":
        return [Point("comments_received", 1), Point("comments_received", 1, "platform", platform)], None
    if event.type == "audience.lead_qualified":
        return [Point("leads_qualified", 1)], None
    if event.type == "revenue.purchase_completed":
        amount, currency = int(_num(data, "amount_cents")), str(data.get("currency", "usd")).lower()
        product = str(data.get("product_id") or "")
        ledger = LedgerEntry(event.id, "purchase", str(data.get("order_id", "")), product or None, amount, currency,
                             event.occurred_at)
        return [Point("purchases", 1), Point("purchases", 1, "product", product),
                Point(f"revenue_{currency}", amount), Point(f"revenue_{currency}", amount, "product", product)], ledger
    if event.type == "revenue.payment_failed":
        amount, currency = int(_num(data, "amount_cents")), str(data.get("currency", "usd")).lower()
        ledger = LedgerEntry(event.id, "failed", str(data.get("payment_id", "")), None, amount, currency,
                             event.occurred_at)
        return [Point("payment_failures", 1)], ledger
    return [], None


def subscribe(events: Subscriber, handler: Callable[[Any], None]) -> Any:
    return events.subscribe(MODULE, handler, types=list(EVENT_PATTERNS))
