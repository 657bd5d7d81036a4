"""The idempotency ledger: every side effect is written down before the provider is called.

A replayed or resumed run asks the ledger first: a side effect that succeeded returns its stored result
without touching the provider; one whose outcome is unknown (the process died mid-call) is performed again
with the same idempotency key, which every provider honours, so the platform still sees it once.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from pydantic import BaseModel
from sqlalchemy import select

from creator_studio.errors import Conflict, StudioError
from creator_studio.logs import get_logger
from creator_studio.runs.models import LedgerRow
from creator_studio.store.db import Database

log = get_logger("runs.ledger")


class LedgerOutcome(BaseModel):
    result: dict[str, Any]
    replayed: bool
    attempts: int


class LedgerEntry(BaseModel):
    idempotency_key: str
    tool: str
    status: str
    attempts: int
    run_id: str | None
    result: dict[str, Any] | None
    error: str | None


class Ledger:
    def __init__(self, db: Database) -> None:
        self._db = db

    def execute(self, *, key: str, workspace_id: str, run_id: str | None, tool: str,
                arguments: dict[str, Any], perform: Callable[[], dict[str, Any]],
                side_effect: bool = True) -> LedgerOutcome:
        with self._db.transaction() as session:
            row = session.get(LedgerRow, (workspace_id, key), with_for_update=True)
            if row is None:
                row = LedgerRow(idempotency_key=key, workspace_id=workspace_id, run_id=run_id, tool=tool,
                                side_effect=side_effect, arguments=arguments, status="started", attempts=0)
                session.add(row)
            elif row.tool != tool:
                raise Conflict(f"The idempotency key {key!r} was already used for {row.tool}; use a new key for "
                               f"{tool}.")
            elif row.status == "succeeded":
                return LedgerOutcome(result=dict(row.result or {}), replayed=True, attempts=row.attempts)
            elif row.status == "failed":
                raise StudioError(row.error or f"{tool} failed earlier and is not retried automatically.")
            else:
                log.warning("side effect with unknown outcome is performed again under the same key",
                            extra={"tool": tool, "run_id": run_id})
            row.attempts += 1
            attempts = row.attempts
        try:
            result = perform()
        except StudioError as exc:
            self._finish(workspace_id, key, status="failed", error=exc.message)
            raise
        self._finish(workspace_id, key, status="succeeded", result=result)
        return LedgerOutcome(result=result, replayed=False, attempts=attempts)

    def _finish(self, workspace_id: str, key: str, *, status: str, result: dict[str, Any] | None = None,
                error: str | None = None) -> None:
        with self._db.transaction() as session:
            row = session.get(LedgerRow, (workspace_id, key))
            assert row is not None, "ledger row vanished between start and finish"
            row.status = status
            row.result = result
            row.error = error

    def get(self, workspace_id: str, key: str) -> LedgerEntry | None:
        with self._db.transaction() as session:
            row = session.get(LedgerRow, (workspace_id, key))
            return None if row is None else _entry(row)

    def entries(self, *, workspace_id: str, run_id: str | None = None, side_effects_only: bool = True
                ) -> list[LedgerEntry]:
        with self._db.transaction() as session:
            query = select(LedgerRow).where(LedgerRow.workspace_id == workspace_id)
            if side_effects_only:
                query = query.where(LedgerRow.side_effect.is_(True))
            if run_id is not None:
                query = query.where(LedgerRow.run_id == run_id)
            rows = session.scalars(query.order_by(LedgerRow.created_at)).all()
            return [_entry(r) for r in rows]


def _entry(row: LedgerRow) -> LedgerEntry:
    return LedgerEntry(idempotency_key=row.idempotency_key, tool=row.tool, status=row.status, attempts=row.attempts,
                       run_id=row.run_id, result=row.result, error=row.error)
