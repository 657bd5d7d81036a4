"""The seam between the event backbone and the API: studio events go to live SSE clients and invalidate the
workspace's cached metrics summary.

The API subscribes to every event type on `Studio.events` and hands each event to the hub:
`/api/events/stream` clients get it as it is, open dashboards re-render what it may have changed. On the
in-process bus this sees every event published in this process; with Redis, events published elsewhere
reach it once this process runs the bus's consumers (`studio worker`).
"""

from __future__ import annotations

from collections.abc import Callable

from creator_studio.api.sse import Hub
from creator_studio.events.schemas import Event
from creator_studio.events.service import Subscription
from creator_studio.studio import Studio

MODULE = "api"


def connect(studio: Studio, hub: Hub, invalidate: Callable[[str], None]) -> Subscription:
    """`invalidate(workspace_id)` drops what the API cached about that workspace."""

    def forward(event: Event) -> None:
        invalidate(event.workspace_id)  # before the hub: a client told of the event sees it reflected
        hub.publish(event.workspace_id, "event", event.to_record())

    return studio.events.subscribe(MODULE, forward)
