"""Runs and approvals: list, inspect, resume, cancel; approve, reject or edit what an agent wants to do."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Path, Query
from fastapi.concurrency import run_in_threadpool
from pydantic import BaseModel, ConfigDict, Field

from creator_studio.api.deps import ApiState, Editor, State, Viewer
from creator_studio.api.problems import responses
from creator_studio.runs.approvals import Approval, ApprovalDecision
from creator_studio.runs.records import RunRecord
from creator_studio.runs.runner import RunOutcome

router = APIRouter(prefix="/api", tags=["runs"])
RunId = Annotated[str, Path(min_length=1, max_length=64, description="A run id, e.g. run_0123456789ab.")]
ApprovalId = Annotated[str, Path(min_length=1, max_length=64, description="An approval id.")]
RunStatusFilter = Literal["running", "waiting_approval", "completed", "failed", "cancelled"]
ApprovalStatusFilter = Literal["pending", "approved", "rejected", "edited", "all"]


class RejectBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    reason: str | None = Field(default=None, max_length=1000, description="Told to the agent.")


class EditBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    arguments: dict[str, Any] = Field(min_length=1, description="The arguments to change; the rest stay.")


@router.get("/runs", response_model=list[RunRecord], responses=responses(401, 403, 422, 500))
def list_runs(principal: Viewer, state: State, status: RunStatusFilter | None = None,
              limit: Annotated[int, Query(ge=1, le=500)] = 50) -> list[RunRecord]:
    """Recent runs of the workspace, newest first."""
    return state.studio.runs.recent(principal.workspace_id, status=status, limit=limit)


@router.get("/runs/{run_id}", response_model=RunOutcome, responses=responses(401, 403, 404, 422, 500))
def get_run(run_id: RunId, principal: Viewer, state: State) -> RunOutcome:
    """One run: its answer, trajectory (steps with durations and model calls) and approvals."""
    state.studio.runs.get(run_id, principal.workspace_id)
    return state.runner.outcome(run_id)


def _locked_resume(state: ApiState, run_id: str, workspace_id: str) -> RunOutcome:
    with state.run_lock:
        outcome = state.runner.resume(run_id)
    state.changed(workspace_id, "run", run_id=run_id, status=outcome.status)
    return outcome


@router.post("/runs/{run_id}/resume", response_model=RunOutcome, responses=responses(401, 403, 404, 422, 500))
async def resume_run(run_id: RunId, principal: Editor, state: State) -> RunOutcome:
    """Continue a run after its approvals were decided (or after its process died)."""
    state.studio.runs.get(run_id, principal.workspace_id)
    return await run_in_threadpool(_locked_resume, state, run_id, principal.workspace_id)


@router.post("/runs/{run_id}/cancel", response_model=RunOutcome,
             responses=responses(401, 403, 404, 422, 500))
def cancel_run(run_id: RunId, principal: Editor, state: State) -> RunOutcome:
    """Stop a run: its pending approvals are rejected and nothing more happens."""
    state.studio.runs.get(run_id, principal.workspace_id)
    with state.run_lock:
        outcome = state.runner.cancel(run_id)
    state.changed(principal.workspace_id, "run", run_id=run_id, status=outcome.status)
    return outcome


@router.get("/approvals", response_model=list[Approval], tags=["approvals"],
            responses=responses(401, 403, 422, 500))
def list_approvals(principal: Viewer, state: State, status: ApprovalStatusFilter = "pending",
                   run_id: Annotated[str | None, Query(max_length=64)] = None) -> list[Approval]:
    """Actions waiting for a decision (or decided ones, by status)."""
    return state.studio.approvals.list(principal.workspace_id, status=None if status == "all" else status,
                                       run_id=run_id)


@router.get("/approvals/{approval_id}", response_model=Approval, tags=["approvals"],
            responses=responses(401, 403, 404, 422, 500))
def get_approval(approval_id: ApprovalId, principal: Viewer, state: State) -> Approval:
    return state.studio.approvals.get(approval_id, principal.workspace_id)


def decide(state: ApiState, workspace_id: str, approval_id: str, decision: ApprovalDecision) -> RunOutcome:
    """Record the decision; the run resumes (in this thread) once its whole batch is decided."""
    with state.run_lock:
        outcome = state.runner.decide(approval_id, decision, workspace_id=workspace_id)
    state.changed(workspace_id, "approval", approval_id=approval_id, run_id=outcome.run_id, status=outcome.status)
    return outcome


_DECIDE_RESPONSES = responses(401, 403, 404, 409, 422, 500)


@router.post("/approvals/{approval_id}/approve", response_model=RunOutcome, tags=["approvals"],
             responses=_DECIDE_RESPONSES)
async def approve(approval_id: ApprovalId, principal: Editor, state: State) -> RunOutcome:
    """Approve the action; returns the run as it stands after resuming."""
    state.studio.approvals.get(approval_id, principal.workspace_id)
    return await run_in_threadpool(decide, state, principal.workspace_id, approval_id,
                                   ApprovalDecision(decision="approve", decided_by=f"token:{principal.token.id}"))


@router.post("/approvals/{approval_id}/reject", response_model=RunOutcome, tags=["approvals"],
             responses=_DECIDE_RESPONSES)
async def reject(approval_id: ApprovalId, principal: Editor, state: State,
                 body: RejectBody | None = None) -> RunOutcome:
    """Reject the action: it does not happen, and the agent is told why."""
    state.studio.approvals.get(approval_id, principal.workspace_id)
    reason = body.reason if body else None
    return await run_in_threadpool(decide, state, principal.workspace_id, approval_id, ApprovalDecision(
        decision="reject", reason=reason, decided_by=f"token:{principal.token.id}"))


@router.post("/approvals/{approval_id}/edit", response_model=RunOutcome, tags=["approvals"],
             responses=_DECIDE_RESPONSES)
async def edit(approval_id: ApprovalId, body: EditBody, principal: Editor, state: State) -> RunOutcome:
    """Change the action's arguments (validated like the tool's own), then approve it."""
    state.studio.approvals.get(approval_id, principal.workspace_id)
    return await run_in_threadpool(decide, state, principal.workspace_id, approval_id, ApprovalDecision(
        decision="edit", arguments=body.arguments, decided_by=f"token:{principal.token.id}"))
