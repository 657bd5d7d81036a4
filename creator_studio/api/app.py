"""The FastAPI application: JSON API under /api, the Command Center page, health and metrics.

`create_app(studio)` is what tests and `studio serve` call; the studio (database, providers, services) is
shared by every request, and one Runner drives the graph for chat and approvals.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi
from fastapi.staticfiles import StaticFiles

from creator_studio.api import events_bridge, observability, problems
from creator_studio.api.deps import ApiState
from creator_studio.api.observability import ApiMetrics
from creator_studio.api.problems import Problem
from creator_studio.api.routers import (
    audience,
    chat,
    content,
    dashboard,
    email_links,
    events,
    revenue,
    runs,
    settings,
    system,
    webhooks,
    workflows,
)
from creator_studio.api.sse import Hub
from creator_studio.api.tokens import TokenService
from creator_studio.runs.runner import Runner
from creator_studio.studio import Studio

STATIC_DIR = Path(__file__).resolve().parent / "static"


def create_app(studio: Studio, *, runner: Runner | None = None) -> FastAPI:
    app = FastAPI(title="Creator Studio API", version="1.0.0",
                  description="Runs, approvals, content, audience, revenue, workflows and events of one "
                              "workspace (the token's). Errors are RFC 9457 problem details.")
    hub = Hub()
    metrics = ApiMetrics()
    state = ApiState(studio=studio, runner=runner or Runner(studio), hub=hub, tokens=TokenService(studio.db),
                     metrics=metrics)
    app.state.api = state
    problems.install(app)
    observability.install(app, metrics)
    for module in (system, chat, runs, content, audience, revenue, workflows, events, webhooks, settings,
                   dashboard, email_links):
        app.include_router(module.router)
    app.mount("/static", StaticFiles(directory=str(STATIC_DIR)), name="static")
    app.state.event_subscription = events_bridge.connect(studio, hub,
                                                          lambda ws_id: state.summaries.invalidate(ws_id))
    app.openapi = lambda: _openapi(app)  # type: ignore[method-assign]
    return app


def _openapi(app: FastAPI) -> dict[str, Any]:
    """The generated schema, with the Problem document registered once for every error response, and every event
    stream described event by event."""
    if app.openapi_schema:
        return app.openapi_schema
    schema = get_openapi(title=app.title, version=app.version, description=app.description, routes=app.routes)
    components = schema.setdefault("components", {}).setdefault("schemas", {})
    components.setdefault("Problem", Problem.model_json_schema(ref_template="#/components/schemas/{model}"))
    for name, sub in Problem.model_json_schema(ref_template="#/components/schemas/{model}").get("$defs", {}).items():
        components.setdefault(name, sub)
    components["Problem"].pop("$defs", None)
    components.setdefault("ServerSentEvent", SERVER_SENT_EVENT)
    for operations in schema.get("paths", {}).values():
        for operation in operations.values():
            for response in operation.get("responses", {}).values():
                stream = response.get("content", {}).get("text/event-stream")
                if stream is not None:
                    stream["schema"] = {"$ref": "#/components/schemas/ServerSentEvent"}
    app.openapi_schema = schema
    return schema


# Before OpenAPI 3.2 (FastAPI writes 3.1), the schema of a `text/event-stream` response describes each event of
# the stream, not the stream as one string; the event's `data` is JSON text, described in each route's docs.
SERVER_SENT_EVENT: dict[str, Any] = {
    "title": "ServerSentEvent", "type": "object", "required": ["data"],
    "properties": {"event": {"type": "string"}, "data": {"type": "string"}, "id": {"type": "string"},
                   "retry": {"type": "integer", "minimum": 0}},
}
