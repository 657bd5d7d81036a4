"""Approvals: what a side-effect tool asks before it acts, and what the creator (or policy) decided."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel
from sqlalchemy import select
from sqlalchemy.orm import Session

from creator_studio.errors import Conflict, NotFound
from creator_studio.runs.models import ApprovalRow
from creator_studio.store.db import Database, utcnow

DecisionKind = Literal["approve", "reject", "edit"]


class ApprovalRequest(BaseModel):
    """The payload of a LangGraph interrupt: everything a person needs to decide."""

    kind: Literal["approval"] = "approval"
    approval_id: str
    run_id: str
    workspace_id: str
    agent: str
    tool: str
    arguments: dict[str, Any]
    preview: str
    idempotency_key: str


class ApprovalBatch(BaseModel):
    """One interrupt per agent turn: every side effect that turn wants, decided together or one by one."""

    kind: Literal["approvals"] = "approvals"
    run_id: str
    agent: str
    requests: list[ApprovalRequest]


class ApprovalDecision(BaseModel):
    decision: DecisionKind
    arguments: dict[str, Any] | None = None
    reason: str | None = None
    decided_by: str = "creator"


class Approval(BaseModel):
    id: str
    run_id: str
    workspace_id: str
    agent: str
    tool: str
    arguments: dict[str, Any]
    preview: str
    idempotency_key: str
    status: Literal["pending", "approved", "rejected", "edited"]
    decided_by: str | None
    reason: str | None
    final_arguments: dict[str, Any] | None
    created_at: datetime
    decided_at: datetime | None


_STATUS_OF: dict[DecisionKind, Literal["approved", "rejected", "edited"]] = {
    "approve": "approved", "reject": "rejected", "edit": "edited",
}


def _pending_row(request: ApprovalRequest) -> ApprovalRow:
    return ApprovalRow(id=request.approval_id, run_id=request.run_id, workspace_id=request.workspace_id,
                       agent=request.agent, tool=request.tool, arguments=request.arguments, preview=request.preview,
                       idempotency_key=request.idempotency_key, status="pending")


class ApprovalStore:
    def __init__(self, db: Database) -> None:
        self._db = db

    def open(self, request: ApprovalRequest) -> Approval:
        """Record a pending approval (once: a replayed interrupt finds the existing row)."""
        return self.open_once(request)[0]

    def open_once(self, request: ApprovalRequest) -> tuple[Approval, bool]:
        """Like `open`, and says whether this call created the row."""
        with self._db.transaction() as session:
            row = session.get(ApprovalRow, request.approval_id)
            created = row is None
            if row is None:
                row = _pending_row(request)
                session.add(row)
                session.flush()
            return _approval(row), created

    def open_decided(self, request: ApprovalRequest, decision: ApprovalDecision) -> Approval:
        """Record an approval and its decision in one transaction (a policy decides at once: nobody waits)."""
        with self._db.transaction() as session:
            row = session.get(ApprovalRow, request.approval_id)
            if row is None:
                row = _pending_row(request)
                session.add(row)
            return self._apply(session, row, decision)

    def decide(self, approval_id: str, decision: ApprovalDecision) -> Approval:
        with self._db.transaction() as session:
            row = session.get(ApprovalRow, approval_id)
            if row is None:
                raise NotFound(f"No approval {approval_id!r}: `studio approvals list` shows the pending ones.")
            return self._apply(session, row, decision)

    @staticmethod
    def _apply(session: Session, row: ApprovalRow, decision: ApprovalDecision) -> Approval:
        target = _STATUS_OF[decision.decision]
        if row.status != "pending":
            if row.status == target:
                return _approval(row)
            raise Conflict(f"Approval {row.id} was already {row.status}.")
        row.status = target
        row.decided_by = decision.decided_by
        row.reason = decision.reason
        row.final_arguments = decision.arguments if decision.decision == "edit" else row.arguments
        row.decided_at = utcnow()
        session.flush()
        return _approval(row)

    def get(self, approval_id: str, workspace_id: str | None = None) -> Approval:
        with self._db.transaction() as session:
            row = session.get(ApprovalRow, approval_id)
            if row is None or (workspace_id is not None and row.workspace_id != workspace_id):
                raise NotFound(f"No approval {approval_id!r}: `studio approvals list` shows the pending ones.")
            return _approval(row)

    def list(self, workspace_id: str, *, status: str | None = "pending", run_id: str | None = None
             ) -> list[Approval]:
        with self._db.transaction() as session:
            query = select(ApprovalRow).where(ApprovalRow.workspace_id == workspace_id)
            if status:
                query = query.where(ApprovalRow.status == status)
            if run_id:
                query = query.where(ApprovalRow.run_id == run_id)
            return [_approval(r) for r in session.scalars(query.order_by(ApprovalRow.created_at)).all()]


def _approval(row: ApprovalRow) -> Approval:
    return Approval.model_validate(row, from_attributes=True)
