"""The event log over HTTP: query past events, or follow them live over server-sent events."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import APIRouter, Query
from pydantic import Field
from sse_starlette import EventSourceResponse, ServerSentEvent

from creator_studio.api.deps import State, Viewer
from creator_studio.api.params import IsoDateTime
from creator_studio.api.problems import ApiProblem, responses
from creator_studio.events.schemas import EVENT_TYPE_NAMES, Event, check_pattern, matches

router = APIRouter(prefix="/api/events", tags=["events"])
# Every pattern that can match something, listed in the OpenAPI description (check_pattern enforces it).
EVENT_PATTERNS = ["*", *sorted(EVENT_TYPE_NAMES), *sorted({f"{t.split('.')[0]}.*" for t in EVENT_TYPE_NAMES})]
EventPattern = Annotated[str, Field(json_schema_extra={"enum": EVENT_PATTERNS})]
TypePatterns = Annotated[list[EventPattern] | None,
                         Query(max_length=20, description="Types or patterns: content.published, revenue.* or *.")]


def patterns(types: list[str] | None) -> tuple[str, ...] | None:
    if not types:
        return None
    try:
        return tuple(check_pattern(t) for t in types)
    except ValueError as exc:
        raise ApiProblem(422, "Invalid input", f"query.types: {exc}", kind="validation",
                         errors=[{"field": "query.types", "message": str(exc)}]) from None


@router.get("", response_model=list[Event], responses=responses(401, 403, 422, 500))
def query_events(principal: Viewer, state: State, types: TypePatterns = None, since: IsoDateTime | None = None,
                 correlation_id: Annotated[str | None, Query(max_length=100)] = None,
                 limit: Annotated[int, Query(ge=1, le=1000)] = 100) -> list[Event]:
    """Stored events of this workspace, oldest first, filtered by type, time and correlation id."""
    return state.studio.events.query(principal.workspace_id, types=patterns(types), since=since,
                                     correlation_id=correlation_id, limit=limit)


@router.get("/stream", responses={
    200: {"description": "Server-sent events named `event`, one per studio event (its JSON record).",
          "content": {"text/event-stream": {"schema": {"type": "string"}}}},
    **responses(401, 403, 422, 500)})
async def stream_events(principal: Viewer, state: State, types: TypePatterns = None) -> EventSourceResponse:
    """Follow this workspace's events live."""
    wanted = patterns(types)
    subscription = state.hub.subscribe(principal.workspace_id)
    state.metrics.sse_clients.inc()

    async def stream() -> AsyncIterator[ServerSentEvent | dict[str, str]]:
        try:
            yield {"comment": "connected"}
            async for message in state.hub.listen(subscription):
                if message is None:
                    yield {"comment": "keep-alive"}
                elif message.kind == "event" and matches(str(message.data.get("type", "")), wanted):
                    yield ServerSentEvent(message.encode(), event="event", id=str(message.data.get("id", "")))
        finally:
            state.metrics.sse_clients.dec()

    return EventSourceResponse(stream(), ping=15)
