"""The audit log: every accepted event, append-only, hash-chained per workspace.

Each row stores `prev_hash` and `hash = sha256(canonical JSON of the event + prev_hash)`. Editing,
removing or reordering a row breaks the chain at that row, and `verify` says where. The chain head table
is updated before anything is read so that two writers (threads, processes, workers on PostgreSQL) append
one after the other instead of forking the chain.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Table, bindparam, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from creator_studio.events.models import EventChainHeadRow, EventLogRow
from creator_studio.events.schemas import Event, format_time
from creator_studio.store.db import Database, utcnow

GENESIS = "0" * 64
_EVENT_LOG: Table = EventLogRow.__table__  # type: ignore[assignment]
_HEADS: Table = EventChainHeadRow.__table__  # type: ignore[assignment]
_LOCK_HEAD = (update(_HEADS).where(_HEADS.c.workspace_id == bindparam("ws"))
              .values(length=_HEADS.c.length))
_NEW_HEAD = insert(_HEADS)
_READ_HEAD = select(_HEADS.c.length, _HEADS.c.hash).where(_HEADS.c.workspace_id == bindparam("ws"))
_MOVE_HEAD = update(_HEADS).where(_HEADS.c.workspace_id == bindparam("ws"))


def canonical_json(record: dict[str, Any]) -> str:
    return json.dumps(record, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False)


def chain_hash(record: dict[str, Any], prev_hash: str) -> str:
    return hashlib.sha256((canonical_json(record) + prev_hash).encode()).hexdigest()


def row_record(row: EventLogRow) -> dict[str, Any]:
    """The hashed content of a stored row; the same dict `Event.to_record()` gave when it was appended."""
    return {
        "id": row.event_id,
        "type": row.type,
        "version": row.version,
        "workspace_id": row.workspace_id,
        "occurred_at": format_time(row.occurred_at),
        "source": row.source,
        "correlation_id": row.correlation_id,
        "data": row.data,
    }


def row_event(row: EventLogRow) -> Event:
    return Event.model_validate(row_record(row))


class AuditLog:
    def __init__(self, db: Database) -> None:
        self._db = db

    def append(self, events: Sequence[Event]) -> list[Event]:
        """Append events in one transaction (all or none); returns those appended (stored ids are skipped)."""
        by_workspace: dict[str, list[Event]] = {}
        for event in {event.id: event for event in events}.values():  # the same id twice is one event
            by_workspace.setdefault(event.workspace_id, []).append(event)
        for _ in range(5):  # a first append for a new workspace may race another writer's; then retry
            try:
                with self._db.transaction() as session:
                    for workspace_id in sorted(by_workspace):  # fixed order: two writers never deadlock
                        self._append_chain(session, workspace_id, by_workspace[workspace_id])
                appended = {event.id for batch in by_workspace.values() for event in batch}
                return [event for event in events if event.id in appended]
            except IntegrityError:
                # Either an event id is already stored (a retried publish: skip it) or another writer created
                # this workspace's chain head first (then the next attempt locks it like any other).
                by_workspace = self._without_stored(by_workspace)
        raise RuntimeError("could not append to the audit log after 5 attempts (constant write conflicts)")

    def _without_stored(self, by_workspace: dict[str, list[Event]]) -> dict[str, list[Event]]:
        ids = [e.id for evs in by_workspace.values() for e in evs]
        with self._db.transaction() as session:
            stored = set(session.scalars(select(EventLogRow.event_id).where(EventLogRow.event_id.in_(ids))))
        return {ws: [e for e in evs if e.id not in stored] for ws, evs in by_workspace.items()}

    @staticmethod
    def _append_chain(session: Session, workspace_id: str, events: list[Event]) -> None:
        if not events:
            return
        # Core statements with bound parameters on the connection: compiled once, cheap per call (the ORM's
        # update/insert paths cost more than the SQL at one event per transaction).
        connection = session.connection()
        # UPDATE first: it takes the write lock (SQLite) or the row lock (PostgreSQL) before the head is read.
        locked = connection.execute(_LOCK_HEAD, {"ws": workspace_id})
        if locked.rowcount == 0:
            connection.execute(_NEW_HEAD, {"workspace_id": workspace_id, "length": 0, "hash": GENESIS})
        length, prev = connection.execute(_READ_HEAD, {"ws": workspace_id}).one()
        now = utcnow()
        rows: list[dict[str, Any]] = []
        for event in events:
            record = event.to_record()
            digest = chain_hash(record, prev)
            length += 1
            rows.append({
                "workspace_id": workspace_id, "position": length, "event_id": event.id, "type": event.type,
                "version": event.version, "source": event.source, "correlation_id": event.correlation_id,
                "occurred_at": event.occurred_at, "recorded_at": now, "data": event.data,
                "prev_hash": prev, "hash": digest,
            })
            prev = digest
        connection.execute(_EVENT_LOG.insert(), rows)
        connection.execute(_MOVE_HEAD, {"ws": workspace_id, "length": length, "hash": prev})

    def verify(self, workspace_id: str | None = None, *, batch: int = 2000) -> list[ChainReport]:
        """Recompute every chain (or one workspace's) and report the first broken link of each."""
        with self._db.transaction() as session:
            heads = {row.workspace_id: row for row in session.scalars(select(EventChainHeadRow))}
            stored = set(session.scalars(select(EventLogRow.workspace_id).distinct()))
        names = sorted(set(heads) | stored) if workspace_id is None else [workspace_id]
        return [self._verify_one(name, heads.get(name), batch) for name in names]

    def _verify_one(self, workspace_id: str, head: EventChainHeadRow | None, batch: int) -> ChainReport:
        report = ChainReport(workspace_id=workspace_id)
        prev, expected_position, last = GENESIS, 1, 0
        while True:
            with self._db.transaction() as session:
                rows = list(session.scalars(
                    select(EventLogRow)
                    .where(EventLogRow.workspace_id == workspace_id, EventLogRow.position > last)
                    .order_by(EventLogRow.position)
                    .limit(batch)
                ))
            if not rows:
                break
            for row in rows:
                report.checked += 1
                if row.position != expected_position:
                    report.problems.append(f"position {expected_position}: missing (next row is {row.position})")
                    return report
                if row.prev_hash != prev:
                    report.problems.append(f"position {row.position} (event {row.event_id}): prev_hash does not "
                                           f"match the previous row's hash (a row was removed or reordered)")
                    return report
                if chain_hash(row_record(row), prev) != row.hash:
                    report.problems.append(f"position {row.position} (event {row.event_id}): content does not "
                                           f"match its hash (the row was edited)")
                    return report
                prev, expected_position, last = row.hash, row.position + 1, row.position
        if head is None:
            if report.checked:
                report.problems.append("the chain head is missing")
        elif head.length != report.checked or head.hash != prev:
            report.problems.append(f"the chain head says {head.length} events ending in {head.hash[:12]}, the log "
                                   f"has {report.checked} ending in {prev[:12]} (rows were removed at the end)")
        return report


@dataclass
class ChainReport:
    workspace_id: str
    checked: int = 0
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems
