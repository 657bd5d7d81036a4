"""The Command Center page: server-rendered HTML, kept live over SSE (htmx + its SSE extension).

The login form puts the API token in an HttpOnly, SameSite=Strict cookie; every request looks the token up
again, like the API does. Page actions are small htmx requests that return HTML fragments; anything that
changes data also tells the live stream, which re-renders the tiles, approvals, calendar, alerts, run
timeline and charts for every open page of the workspace.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.templating import Jinja2Templates
from sse_starlette import EventSourceResponse, ServerSentEvent

from creator_studio.api import dashboard_data as data
from creator_studio.api.deps import SESSION_COOKIE, ApiState, Principal, authenticate, get_state
from creator_studio.api.problems import ApiProblem
from creator_studio.api.routers.chat import run_goal
from creator_studio.api.routers.runs import decide
from creator_studio.api.tokens import role_allows
from creator_studio.errors import StudioError
from creator_studio.runs.approvals import ApprovalDecision
from creator_studio.runs.runner import MAX_GOAL_CHARS

router = APIRouter(include_in_schema=False)
templates = Jinja2Templates(directory=str(Path(__file__).resolve().parent.parent / "templates"))
# Several changes in a burst (a run resuming writes many rows) become one re-render.
DEBOUNCE_S = 0.15
FRAGMENTS = ("tiles", "approvals", "calendar", "alerts", "timeline", "charts")


def _principal(request: Request) -> Principal:
    return authenticate(get_state(request), request.cookies.get(SESSION_COOKIE))


def _same_origin(request: Request) -> None:
    """SameSite=Strict already keeps the cookie off cross-site requests; checking Origin is a second lock."""
    origin = request.headers.get("origin")
    if origin and origin.rstrip("/") != str(request.base_url).rstrip("/"):
        raise ApiProblem(403, "Forbidden", "Cross-site request refused.", kind="cross-site")


def context(state: ApiState, principal: Principal, names: tuple[str, ...] = FRAGMENTS) -> dict[str, Any]:
    """Everything the named fragments need (read from the database now)."""
    studio, ws = state.studio, principal.workspace
    values: dict[str, Any] = {"workspace": ws, "role": principal.token.role, "zone": ws.zone}
    pending = studio.approvals.list(ws.id)
    if "tiles" in names:
        values["tiles"] = data.tiles(studio, ws)
    if "approvals" in names:
        values["approvals"] = pending
    if "calendar" in names:
        values["calendar"] = data.calendar(studio, ws)
    if "alerts" in names:
        values["alerts"] = data.alerts(studio, ws, pending)
    if "timeline" in names:
        values["timeline"] = data.timeline(studio, ws)
    if "charts" in names:
        values["series"] = [{"label": s.label, "summary": s.summary, "chart": data.svg_path(s.points)}
                            for s in data.series(studio, ws)]
    return values


def render(name: str, values: dict[str, Any]) -> str:
    return templates.get_template(f"partials/{name}.html").render(values)


@router.get("/")
def home() -> RedirectResponse:
    return RedirectResponse("/dashboard", status_code=303)


@router.get("/login", response_class=HTMLResponse)
def login_form(request: Request) -> HTMLResponse:
    return templates.TemplateResponse(request, "login.html", {"error": None})


@router.post("/login", response_class=HTMLResponse)
def login(request: Request, token: Annotated[str, Form(max_length=200)]) -> Response:
    _same_origin(request)  # no logging someone in from another site (login CSRF)
    state = get_state(request)
    found = state.tokens.authenticate(token)
    if found is None:
        return templates.TemplateResponse(request, "login.html", {
            "error": "That token is unknown or revoked. Check it, or create one with `studio tokens create`."},
            status_code=401)
    response = RedirectResponse("/dashboard", status_code=303)
    response.set_cookie(SESSION_COOKIE, token.strip(), httponly=True, samesite="strict",
                        secure=request.url.scheme == "https", path="/", max_age=12 * 3600)
    return response


@router.post("/logout")
def logout(request: Request) -> RedirectResponse:
    _same_origin(request)
    response = RedirectResponse("/login", status_code=303)
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response


@router.get("/dashboard", response_class=HTMLResponse)
async def dashboard(request: Request) -> Response:
    try:
        principal = _principal(request)
    except ApiProblem:
        return RedirectResponse("/login", status_code=303)
    state = get_state(request)
    values = await run_in_threadpool(context, state, principal)
    return templates.TemplateResponse(request, "dashboard.html", values)


@router.get("/dashboard/fragments/{name}", response_class=HTMLResponse)
async def fragment(name: str, request: Request) -> HTMLResponse:
    if name not in FRAGMENTS:
        raise ApiProblem(404, "Not found", f"No dashboard fragment {name!r}.")
    principal = _principal(request)
    values = await run_in_threadpool(context, get_state(request), principal, (name,))
    return HTMLResponse(render(name, values))


@router.get("/dashboard/stream")
async def stream(request: Request) -> EventSourceResponse:
    principal = _principal(request)
    state = get_state(request)
    subscription = state.hub.subscribe(principal.workspace_id)
    state.metrics.sse_clients.inc()

    async def events() -> AsyncIterator[ServerSentEvent | dict[str, str]]:
        try:
            yield {"comment": "connected"}
            async for message in state.hub.listen(subscription):
                if message is None:
                    yield {"comment": "keep-alive"}
                    continue
                await asyncio.sleep(DEBOUNCE_S)
                while not subscription.queue.empty():
                    subscription.queue.get_nowait()
                try:
                    current = _principal(request)  # revoked meanwhile: stop streaming
                except ApiProblem:
                    return
                values = await run_in_threadpool(context, state, current)
                for name in FRAGMENTS:
                    yield ServerSentEvent(render(name, values), event=name)
        finally:
            state.metrics.sse_clients.dec()

    return EventSourceResponse(events(), ping=15)


def _require_editor(principal: Principal) -> str | None:
    if role_allows(principal.token.role, "editor"):
        return None
    return f"Your {principal.token.role} token can look but not act; ask an owner for an editor token."


@router.post("/dashboard/chat", response_class=HTMLResponse)
async def chat(request: Request, goal: Annotated[str, Form(max_length=MAX_GOAL_CHARS)]) -> HTMLResponse:
    _same_origin(request)
    principal = _principal(request)
    state = get_state(request)
    values: dict[str, Any] = {"goal": goal, "error": _require_editor(principal), "pending": [], "zone": None}
    if values["error"] is None:
        try:
            outcome = await run_in_threadpool(lambda: run_goal(state, principal.workspace_id, goal,
                                                               auto_approve=False))
            values["outcome"] = outcome
            values["pending"] = outcome.pending_approvals
        except StudioError as exc:
            values["error"] = exc.message
    return HTMLResponse(templates.get_template("partials/chat_turn.html").render(values))


@router.get("/dashboard/approvals/{approval_id}", response_class=HTMLResponse)
def approval_item(approval_id: str, request: Request, prefix: str = "approval") -> HTMLResponse:
    """One approval as the page shows it: a copy in the chat refreshes itself when the queue changes."""
    principal = _principal(request)
    approval = get_state(request).studio.approvals.get(approval_id, principal.workspace_id)
    values = {"a": approval, "prefix": "chat-approval" if prefix == "chat-approval" else "approval"}
    return HTMLResponse(templates.get_template("partials/approval_item.html").render(values))


@router.post("/dashboard/approvals/{approval_id}/{action}", response_class=HTMLResponse)
async def decide_from_page(approval_id: str, action: str, request: Request) -> HTMLResponse:
    _same_origin(request)
    principal = _principal(request)
    state = get_state(request)
    approval = state.studio.approvals.get(approval_id, principal.workspace_id)
    if action not in ("approve", "reject", "edit"):
        raise ApiProblem(404, "Not found", f"No action {action!r}: approve, reject or edit.")
    form = await request.form()
    # The same item is shown in the queue and in the chat; the prefix keeps their element ids apart.
    prefix = "chat-approval" if form.get("prefix") == "chat-approval" else "approval"
    values: dict[str, Any] = {"a": approval, "prefix": prefix, "error": _require_editor(principal)}
    if values["error"] is None:
        try:
            if action == "edit":
                raw = str(form.get("arguments") or "")
                try:
                    arguments = json.loads(raw)
                except json.JSONDecodeError as exc:
                    raise StudioError(f"The arguments are not valid JSON: {exc.msg} (line {exc.lineno}).") from exc
                if not isinstance(arguments, dict):
                    raise StudioError("The arguments must be a JSON object, like {\"publish_at\": \"...\"}.")
                decision = ApprovalDecision(decision="edit", arguments=arguments)
            elif action == "reject":
                decision = ApprovalDecision(decision="reject", reason=str(form.get("reason") or "") or None)
            else:
                decision = ApprovalDecision(decision="approve")
            decision = decision.model_copy(update={"decided_by": f"dashboard:{principal.token.id}"})
            values["outcome"] = await run_in_threadpool(decide, state, principal.workspace_id, approval_id, decision)
        except StudioError as exc:
            values["error"] = exc.message
        values["a"] = state.studio.approvals.get(approval_id, principal.workspace_id)
    return HTMLResponse(templates.get_template("partials/approval_item.html").render(values))
