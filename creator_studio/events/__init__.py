"""The event backbone: schemas, the event service (in-process or Redis Streams), the audit log, webhooks."""

from creator_studio.events.schemas import EVENT_SCHEMAS, EVENT_TYPE_NAMES, EVENT_TYPES, Event
from creator_studio.events.service import EventService, InvalidEvent, Subscription

__all__ = ["EVENT_SCHEMAS", "EVENT_TYPES", "EVENT_TYPE_NAMES", "Event", "EventService", "InvalidEvent",
           "Subscription"]
