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
    app.state.event_subscription = events_bridge.connect(studio, hub)
    app.openapi = lambda: _openapi(app)  # type: ignore[method-assign]
    return app


def _openapi(app: FastAPI) -> dict[str, Any]:
    """The generated schema, with the Problem document registered once for every error response."""
    if app.openapi_schema:
        return app.openapi_schema
    schema = get_openapi(title=app.title, version=app.version, description=app.description, routes=app.routes)
    components = schema.setdefault("components", {}).setdefault("schemas", {})
    components.setdefault("Problem", Problem.model_json_schema(ref_template="#/components/schemas/{model}"))
    for name, sub in Problem.model_json_schema(ref_template="#/components/schemas/{model}").get("$defs", {}).items():
        components.setdefault(name, sub)
    components["Problem"].pop("$defs", None)
    app.openapi_schema = schema
    return schema
