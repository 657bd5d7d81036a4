"""The seam between the event backbone and the API: studio events go to live SSE clients.

The API subscribes to every event type on `Studio.events` and hands each event to the hub:
`/api/events/stream` clients get it as it is, open dashboards re-render what it may have changed. On the
in-process bus this sees every event published in this process; with Redis, events published elsewhere
reach it once this process runs the bus's consumers (`studio worker`).
"""

from __future__ import annotations

from creator_studio.api.sse import Hub
from creator_studio.events.schemas import Event
from creator_studio.events.service import Subscription
from creator_studio.studio import Studio

MODULE = "api"


def connect(studio: Studio, hub: Hub) -> Subscription:
    def forward(event: Event) -> None:
        hub.publish(event.workspace_id, "event", event.to_record())

    return studio.events.subscribe(MODULE, forward)
