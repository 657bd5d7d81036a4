"""`POST /api/chat`: run a goal and stream what happens as server-sent events.

The runner works in a worker thread; its live events (agent started, tool called, approval requested) are
handed to the response's loop as they happen. Events: `step`, `approval`, `token` (the answer, word by
word), then `done` with the run (its recorded steps included), or `error` with a problem document.
"""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import AsyncIterator
from typing import Any

from fastapi import APIRouter
from pydantic import BaseModel, ConfigDict, Field
from sse_starlette import EventSourceResponse, ServerSentEvent

from creator_studio.api.deps import ApiState, Editor, State
from creator_studio.api.problems import Problem, responses
from creator_studio.errors import StudioError
from creator_studio.logs import get_logger
from creator_studio.runs.runner import MAX_GOAL_CHARS, RunOutcome

router = APIRouter(prefix="/api", tags=["chat"])
log = get_logger("api.chat")
_DONE = object()


class ChatRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    goal: str = Field(min_length=1, max_length=MAX_GOAL_CHARS, pattern=r"\S",
                      description="What you want done, in plain language.")
    auto_approve: bool = Field(default=False, description="Approve every action of this run (owner only).")


def run_goal(state: ApiState, workspace_id: str, goal: str, *, auto_approve: bool,
             on_event: Any = None) -> RunOutcome:
    with state.run_lock:
        outcome = state.runner.start(goal, workspace_id=workspace_id, auto_approve=auto_approve,
                                     on_event=on_event, source="api")
    state.metrics.runs.labels(outcome.status).inc()
    state.changed(workspace_id, "run", run_id=outcome.run_id, status=outcome.status)
    return outcome


def outcome_event(outcome: RunOutcome) -> dict[str, Any]:
    return outcome.model_dump(mode="json")


@router.post("/chat", responses={
    200: {"description": "A stream of server-sent events: step, approval, token, done (or error).",
          "content": {"text/event-stream": {"schema": {"type": "string"}}}},
    **responses(401, 403, 422, 500)})
async def chat(body: ChatRequest, principal: Editor, state: State) -> EventSourceResponse:
    """Send a goal to the Command Center and watch it work."""
    from creator_studio.api.problems import ApiProblem

    if body.auto_approve and principal.token.role != "owner":
        raise ApiProblem(403, "Forbidden", "auto_approve needs an owner token: editors approve each action.")
    loop = asyncio.get_running_loop()
    queue: asyncio.Queue[Any] = asyncio.Queue()

    def on_event(event: dict[str, Any]) -> None:
        loop.call_soon_threadsafe(queue.put_nowait, event)

    async def work() -> None:
        try:
            outcome = await asyncio.to_thread(run_goal, state, principal.workspace_id, body.goal,
                                              auto_approve=body.auto_approve, on_event=on_event)
            queue.put_nowait(outcome)
        except StudioError as exc:
            queue.put_nowait(exc)
        except Exception as exc:  # logged; the client gets a problem document, not a traceback
            log.exception("chat run failed", extra={"workspace_id": principal.workspace_id})
            queue.put_nowait(exc)
        finally:
            queue.put_nowait(_DONE)

    async def stream() -> AsyncIterator[ServerSentEvent]:
        task = asyncio.create_task(work())
        try:
            while True:
                item = await queue.get()
                if item is _DONE:
                    return
                if isinstance(item, RunOutcome):
                    for word in re.findall(r"\S+\s*", item.answer or ""):
                        yield ServerSentEvent(json.dumps({"text": word}), event="token")
                    yield ServerSentEvent(json.dumps(outcome_event(item)), event="done")
                elif isinstance(item, StudioError):
                    problem = Problem(type="https://creator-studio.dev/problems/invalid-input", title="Invalid input",
                                      status=422, detail=item.message)
                    yield ServerSentEvent(problem.model_dump_json(exclude_none=True), event="error")
                elif isinstance(item, Exception):
                    problem = Problem(type="https://creator-studio.dev/problems/internal-server-error",
                                      title="Internal server error", status=500,
                                      detail="The run failed on our side; it has been logged.")
                    yield ServerSentEvent(problem.model_dump_json(exclude_none=True), event="error")
                elif isinstance(item, dict):
                    kind = "approval" if item.get("type") == "approval_requested" else "step"
                    yield ServerSentEvent(json.dumps(item, default=str), event=kind)
        finally:
            if not task.done():
                # The client left: the run still finishes in its thread (it holds the run lock), we just stop
                # listening. Its result is in the run record.
                task.add_done_callback(lambda _t: None)

    return EventSourceResponse(stream(), ping=15)
