"""Automation Lab over HTTP: workflows (create, list, read, update, archive), run, pause and resume.

A workflow's ETag is its version. Changing one with If-Match checks that version first, so an edit made
on stale information gets 409 with the current workflow (and, for an update, what you sent). DELETE archives:
the workflow stops firing and leaves the listing, but it and its runs stay readable by id. An
`Idempotency-Key` header makes a create or a run safe to retry (the service records the key).
"""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Header, Path, Query, Response
from pydantic import BaseModel, ConfigDict, Field

from creator_studio.api.deps import Editor, Principal, State, Viewer
from creator_studio.api.problems import ApiProblem, responses
from creator_studio.api.routers.content import IF_MATCH_PATTERN, etag, parse_if_match
from creator_studio.automation.definitions import WorkflowDefinition
from creator_studio.automation.service import (
    StaleWorkflowVersion,
    Workflow,
    WorkflowRun,
    WorkflowStatusChange,
    WorkflowUpdate,
)
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


class WorkflowChanges(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str | None = Field(default=None, min_length=1, max_length=120, description="Omit to keep the name.")
    definition: WorkflowDefinition = Field(description="The whole new definition: trigger and steps.")


def _conflict(stale: StaleWorkflowVersion, yours: dict[str, object]) -> ApiProblem:
    return ApiProblem(409, "Conflict", f"Workflow {stale.current.id} changed since you read it (you saw version "
                      f"{stale.expected}, it is now version {stale.current.version}). Choose which to keep and "
                      f"send it again with If-Match: \"{stale.current.version}\".", kind="edit-conflict",
                      current=stale.current.model_dump(mode="json"), yours={"version": stale.expected, **yours})


def _check_version(state: State, principal: Principal, workflow_id: str, if_match: str) -> Workflow:
    current = state.studio.automation.get_workflow(principal.workspace, workflow_id)
    expected = parse_if_match(if_match)
    if expected is not None and expected != current.version:
        raise ApiProblem(409, "Conflict", f"Workflow {workflow_id} changed since you read it (you saw version "
                         f"{expected}, it is now version {current.version}).", kind="edit-conflict",
                         current=current.model_dump(mode="json"), yours={"version": expected})
    return current


@router.get("", response_model=list[Workflow], responses=responses(401, 403, 422, 500))
def list_workflows(principal: Viewer, state: State,
                   status: Annotated[Literal["active", "paused", "archived"] | None,
                                     Query(description="Archived workflows are listed only when asked for.")]
                   = None) -> list[Workflow]:
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


@router.get("/{workflow_id}/runs", response_model=list[WorkflowRun], responses=responses(401, 403, 404, 422, 500))
def workflow_runs(workflow_id: WorkflowId, principal: Viewer, state: State,
                  status: Literal["queued", "running", "waiting", "succeeded", "failed", "skipped", "cancelled"]
                  | None = None,
                  limit: Annotated[int, Query(ge=1, le=500)] = 50) -> list[WorkflowRun]:
    """A workflow's runs, newest first (an archived workflow's too)."""
    return state.studio.automation.runs(principal.workspace, workflow_id=workflow_id, status=status, limit=limit)


@router.put("/{workflow_id}", response_model=Workflow, responses=responses(401, 403, 404, 409, 422, 500))
def update_workflow(workflow_id: WorkflowId, body: WorkflowChanges, principal: Editor, state: State,
                    response: Response,
                    if_match: Annotated[str, Header(pattern=IF_MATCH_PATTERN,
                                                    description='The version you edited (its ETag), e.g. "2"; '
                                                                '* to overwrite whatever is stored.')]
                    ) -> Workflow:
    """Replace a workflow's definition (a new version). A stale If-Match gets 409 with both versions; sending
    what is already stored changes nothing (same version, same ETag). An archived workflow cannot change (409)."""
    automation = state.studio.automation
    expected = parse_if_match(if_match)
    try:
        updated: WorkflowUpdate = automation.update_workflow(principal.workspace, workflow_id,
                                                             definition=body.definition, name=body.name,
                                                             expected_version=expected, now=state.studio.now())
    except StaleWorkflowVersion as stale:
        raise _conflict(stale, body.model_dump(mode="json", exclude_none=True)) from None
    response.headers["ETag"] = etag(updated.workflow.version)
    if updated.changed:
        state.changed(principal.workspace_id, "workflow", workflow_id=workflow_id)
    return updated.workflow


@router.delete("/{workflow_id}", response_model=Workflow, responses=responses(401, 403, 404, 409, 422, 500))
def archive_workflow(workflow_id: WorkflowId, principal: Editor, state: State, if_match: IfMatch = "*"
                     ) -> Workflow:
    """Archive (soft-delete) a workflow: it no longer triggers, schedules or runs and is left out of the list,
    but it and its runs stay readable. Archiving it again, or an id that does not exist, is a problem (409, 404)."""
    expected = parse_if_match(if_match)
    try:
        archived = state.studio.automation.archive_workflow(principal.workspace, workflow_id,
                                                            expected_version=expected, now=state.studio.now())
    except StaleWorkflowVersion as stale:
        raise _conflict(stale, {}) from None
    state.changed(principal.workspace_id, "workflow", workflow_id=workflow_id)
    return archived


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
