"""Automation Lab over HTTP: workflows (create, list, read), run, pause and resume.

A workflow's ETag is its version. Changing one with If-Match checks that version first, so an edit made
on stale information gets 409 with the current workflow. An `Idempotency-Key` header makes a create or a
run safe to retry (the service records the key).
"""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Header, Path, Response
from pydantic import BaseModel, ConfigDict, Field

from creator_studio.api.deps import Editor, Principal, State, Viewer
from creator_studio.api.problems import ApiProblem, responses
from creator_studio.api.routers.content import IF_MATCH_PATTERN, etag, parse_if_match
from creator_studio.automation.definitions import WorkflowDefinition
from creator_studio.automation.service import Workflow, WorkflowRun, WorkflowStatusChange
from creator_studio.store.db import new_id

router = APIRouter(prefix="/api/workflows", tags=["workflows"])
WorkflowId = Annotated[str, Path(min_length=1, max_length=64, description="A workflow id, e.g. wf_0123456789ab.")]
IdempotencyKey = Annotated[str | None, Header(max_length=128, description="Makes a retry safe.")]
# Absent means "*" (no version check); a value is checked against the workflow's current version.
IfMatch = Annotated[str, Header(pattern=IF_MATCH_PATTERN, description='The version you saw, e.g. "2".')]


class NewWorkflow(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str = Field(min_length=1, max_length=120)
    definition: WorkflowDefinition


def _check_version(state: State, principal: Principal, workflow_id: str, if_match: str) -> Workflow:
    current = state.studio.automation.get_workflow(principal.workspace, workflow_id)
    expected = parse_if_match(if_match)
    if expected is not None and expected != current.version:
        raise ApiProblem(409, "Conflict", f"Workflow {workflow_id} changed since you read it (you saw version "
                         f"{expected}, it is now version {current.version}).", kind="edit-conflict",
                         current=current.model_dump(mode="json"), yours={"version": expected})
    return current


@router.get("", response_model=list[Workflow], responses=responses(401, 403, 422, 500))
def list_workflows(principal: Viewer, state: State, status: Literal["active", "paused"] | None = None
                   ) -> list[Workflow]:
    return state.studio.automation.list_workflows(principal.workspace, status=status)


@router.post("", response_model=Workflow, status_code=201, responses=responses(401, 403, 409, 422, 500))
def create_workflow(body: NewWorkflow, principal: Editor, state: State, response: Response,
                    idempotency_key: IdempotencyKey = None) -> Workflow:
    """Create a workflow: a trigger (cron, event, threshold, once) and its steps."""
    studio = state.studio
    workflow = studio.automation.create_workflow(principal.workspace, name=body.name, definition=body.definition,
                                                 idempotency_key=idempotency_key or new_id("api"), now=studio.now())
    response.headers["ETag"] = etag(workflow.version)
    state.changed(principal.workspace_id, "workflow", workflow_id=workflow.id)
    return workflow


@router.get("/{workflow_id}", response_model=Workflow, responses=responses(401, 403, 404, 422, 500))
def get_workflow(workflow_id: WorkflowId, principal: Viewer, state: State, response: Response) -> Workflow:
    workflow = state.studio.automation.get_workflow(principal.workspace, workflow_id)
    response.headers["ETag"] = etag(workflow.version)
    return workflow


@router.post("/{workflow_id}/run", response_model=WorkflowRun, status_code=202,
             responses=responses(401, 403, 404, 409, 422, 500))
def run_workflow(workflow_id: WorkflowId, principal: Editor, state: State, if_match: IfMatch = "*",
                 idempotency_key: IdempotencyKey = None) -> WorkflowRun:
    """Queue a manual run (the workflow worker executes it)."""
    _check_version(state, principal, workflow_id, if_match)
    run = state.studio.automation.run_workflow(principal.workspace, workflow_id,
                                               idempotency_key=idempotency_key or new_id("api"),
                                               now=state.studio.now())
    state.changed(principal.workspace_id, "workflow", workflow_id=workflow_id)
    return run


def _change(action: Literal["pause", "resume"], workflow_id: str, principal: Principal, state: State,
            if_match: str, idempotency_key: str | None) -> WorkflowStatusChange:
    _check_version(state, principal, workflow_id, if_match)
    automation = state.studio.automation
    method = automation.pause_workflow if action == "pause" else automation.resume_workflow
    change = method(principal.workspace, workflow_id, idempotency_key=idempotency_key or new_id("api"),
                    now=state.studio.now())
    state.changed(principal.workspace_id, "workflow", workflow_id=workflow_id)
    return change


@router.post("/{workflow_id}/pause", response_model=WorkflowStatusChange,
             responses=responses(401, 403, 404, 409, 422, 500))
def pause_workflow(workflow_id: WorkflowId, principal: Editor, state: State, if_match: IfMatch = "*",
                   idempotency_key: IdempotencyKey = None) -> WorkflowStatusChange:
    return _change("pause", workflow_id, principal, state, if_match, idempotency_key)


@router.post("/{workflow_id}/resume", response_model=WorkflowStatusChange,
             responses=responses(401, 403, 404, 409, 422, 500))
def resume_workflow(workflow_id: WorkflowId, principal: Editor, state: State, if_match: IfMatch = "*",
                    idempotency_key: IdempotencyKey = None) -> WorkflowStatusChange:
    return _change("resume", workflow_id, principal, state, if_match, idempotency_key)
