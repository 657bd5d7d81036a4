"""Revenue credited to individual posts (interim: analytics attributes to channels, not posts yet).

Uses the analytics attribution rules (`analytics.attribution.credit`) with each touch's post as its "channel":
a purchase's revenue is shared among the posts (and post-less channels like email) the buyer touched in the
30 days before it.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime, timedelta

from creator_studio.analytics.attribution import Touch, credit
from creator_studio.studio import Studio
from creator_studio.workspaces.service import Workspace

LOOKBACK = timedelta(days=30)


def content_attribution(studio: Studio, ws: Workspace, *, since: datetime, until: datetime,
                        model: str = "linear") -> dict[str, int]:
    """Cents of revenue per post id (or channel, for touches without a post) from purchases in the window."""
    purchases = [c for c in studio.payments.list_charges(ws.id, since=since, until=until) if c.is_purchase]
    touches = defaultdict(list)
    for touch in studio.revenue.touchpoints(ws, customer_ids=sorted({c.customer_id for c in purchases})):
        touches[touch.customer_id].append(touch)
    revenue: dict[str, float] = defaultdict(float)
    for charge in purchases:
        journey = [Touch(channel=t.post_id or t.channel, occurred_at=t.occurred_at)
                   for t in touches[charge.customer_id]
                   if charge.created - LOOKBACK <= t.occurred_at <= charge.created]
        for key, weight in credit(model, journey, charge.created):
            revenue[key] += weight * charge.amount
    return {key: round(value) for key, value in sorted(revenue.items(), key=lambda kv: -kv[1])}


def attributed_to(studio: Studio, ws: Workspace, post_ids: list[str], *, since: datetime, until: datetime) -> int:
    credited = content_attribution(studio, ws, since=since, until=until)
    return sum(credited.get(post_id, 0) for post_id in post_ids)
