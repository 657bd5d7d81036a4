"""Liveness, readiness, Prometheus metrics and the JSON metrics summary."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Query, Request, Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from pydantic import BaseModel
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from creator_studio.api.deps import State, Viewer
from creator_studio.api.problems import ApiProblem, responses
from creator_studio.command_center.service import DashboardSummary
from creator_studio.tools.base import ToolContext

router = APIRouter(tags=["system"])
PeriodParam = Literal["7d", "30d", "90d", "mtd"]


class Health(BaseModel):
    status: Literal["ok"]


class Readiness(BaseModel):
    status: Literal["ready"]
    database: Literal["reachable"]


@router.get("/healthz", response_model=Health, responses=responses(500))
def healthz() -> Health:
    """The process is up (no dependencies checked)."""
    return Health(status="ok")


@router.get("/readyz", response_model=Readiness, responses=responses(500, 503))
def readyz(state: State) -> Readiness:
    """Ready to serve: the database answers."""
    try:
        with state.studio.db.transaction() as session:
            session.execute(text("SELECT 1"))
    except SQLAlchemyError as exc:
        raise ApiProblem(503, "Service unavailable", f"The database cannot be reached ({type(exc).__name__}).",
                         kind="not-ready") from exc
    return Readiness(status="ready", database="reachable")


@router.get("/metrics", response_class=Response, responses={
    200: {"content": {CONTENT_TYPE_LATEST: {"schema": {"type": "string"}}}, "description": "Prometheus metrics"},
    **responses(500)})
def prometheus_metrics(request: Request) -> Response:
    """Request counts and latencies in the Prometheus text format."""
    return Response(generate_latest(request.app.state.metrics.registry), media_type=CONTENT_TYPE_LATEST)


@router.get("/api/metrics", response_model=DashboardSummary, responses=responses(401, 403, 422, 500))
def metrics_summary(principal: Viewer, state: State,
                    period: Annotated[PeriodParam, Query(description="7d, 30d, 90d or mtd.")] = "30d"
                    ) -> Response:
    """The studio's numbers across modules: followers, content, engagement, revenue, automation, targets.
    Cached per workspace until the next event or change in it (at most a few seconds): `generated_at` says
    when these numbers were computed."""
    studio = state.studio
    ws = principal.workspace

    def compute() -> bytes:
        ctx = ToolContext(studio=studio, workspace=ws, agent="api", now=studio.now())
        summary = studio.command_center.dashboard(ws, accounts=studio.social.accounts(ws.id), period=period,
                                                  since=ctx.period_start(period), now=ctx.now)
        return summary.model_dump_json().encode()

    return Response(state.summaries.get(ws.id, period, compute), media_type="application/json")
