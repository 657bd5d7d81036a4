"""Dead letters: what could not be accepted (invalid) or processed (a handler kept failing), with the reason."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel
from sqlalchemy import select

from creator_studio.errors import NotFound
from creator_studio.events.models import DeadLetterRow
from creator_studio.store.db import Database, new_id, utcnow

Stage = Literal["validate", "handler", "delivery"]


class DeadLetter(BaseModel):
    id: str
    workspace_id: str | None
    event_id: str | None
    type: str | None
    stage: str
    module: str | None
    handler: str | None
    reason: str
    attempts: int
    payload: Any
    created_at: datetime
    replayed_at: datetime | None

    @classmethod
    def of(cls, row: DeadLetterRow) -> DeadLetter:
        return cls.model_validate(row, from_attributes=True)


def _text(value: Any, limit: int) -> str | None:
    return value[:limit] if isinstance(value, str) and value else None


class DeadLetterStore:
    def __init__(self, db: Database) -> None:
        self._db = db

    def record(self, stage: Stage, reason: str, payload: Any, *, module: str | None = None,
               handler: str | None = None, attempts: int = 1) -> DeadLetter:
        """Store a message that failed; fields are read from the payload when it has them (it may be junk)."""
        fields = payload if isinstance(payload, dict) else {}
        row = DeadLetterRow(
            id=new_id("dl"), workspace_id=_text(fields.get("workspace_id"), 64), event_id=_text(fields.get("id"), 36),
            type=_text(fields.get("type"), 100), stage=stage, module=module, handler=handler, reason=reason,
            attempts=attempts, payload=_jsonable(payload), created_at=utcnow(),
        )
        with self._db.transaction() as session:
            session.add(row)
        return DeadLetter.of(row)

    def list(self, workspace_id: str | None = None, *, limit: int = 100, include_replayed: bool = True,
             ) -> list[DeadLetter]:
        query = select(DeadLetterRow).order_by(DeadLetterRow.created_at.desc(), DeadLetterRow.id).limit(limit)
        if workspace_id is not None:
            query = query.where(DeadLetterRow.workspace_id == workspace_id)
        if not include_replayed:
            query = query.where(DeadLetterRow.replayed_at.is_(None))
        with self._db.transaction() as session:
            return [DeadLetter.of(row) for row in session.scalars(query)]

    def get(self, dead_letter_id: str) -> DeadLetter:
        with self._db.transaction() as session:
            row = session.get(DeadLetterRow, dead_letter_id)
            if row is None:
                raise NotFound(f"no dead letter {dead_letter_id!r}; `studio events dead-letters` lists them")
            return DeadLetter.of(row)

    def mark_replayed(self, dead_letter_id: str) -> None:
        with self._db.transaction() as session:
            row = session.get(DeadLetterRow, dead_letter_id)
            if row is not None:
                row.replayed_at = utcnow()


def _jsonable(payload: Any) -> Any:
    """Raw input may hold bytes or objects JSON cannot store; keep what can be kept, as text otherwise."""
    if isinstance(payload, bytes):
        return payload.decode("utf-8", errors="replace")
    if isinstance(payload, dict):
        return {str(key): _jsonable(value) for key, value in payload.items()}
    if isinstance(payload, list | tuple):
        return [_jsonable(value) for value in payload]
    if payload is None or isinstance(payload, str | int | float | bool):
        return payload
    if isinstance(payload, datetime):
        return payload.isoformat()
    return repr(payload)
