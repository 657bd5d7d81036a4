"""The audit log: every accepted event, append-only, hash-chained per workspace.

Each row stores `prev_hash` and `hash = sha256(canonical JSON of the event + prev_hash)`. Editing,
removing or reordering a row breaks the chain at that row, and `verify` says where. The chain head table
is updated before anything is read so that two writers (threads, processes, workers on PostgreSQL) append
one after the other instead of forking the chain.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from json.encoder import encode_basestring  # what JSONEncoder(ensure_ascii=False) uses
from typing import Any

from sqlalchemy import Dialect, Table, bindparam, insert, select, update
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


# Built once: `json.dumps` with options builds a new encoder on every call.
_CANONICAL = json.JSONEncoder(sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False).encode


def canonical_json(record: dict[str, Any]) -> str:
    return _CANONICAL(record)


def chain_hash(record: dict[str, Any], prev_hash: str) -> str:
    return hashlib.sha256((_CANONICAL(record) + prev_hash).encode()).hexdigest()


# The audit insert's columns, in order. The batch insert runs as one driver-level executemany with each
# column's own SQLAlchemy bind processor applied (so values are stored exactly as the ORM stores them):
# SQLAlchemy's per-row parameter handling cost more than the insert itself at thousands of rows a batch.
_INSERT_COLUMNS = ("workspace_id", "position", "event_id", "type", "version", "source", "correlation_id",
                   "occurred_at", "recorded_at", "data", "prev_hash", "hash")


def record_json(event: Event) -> tuple[str, str]:
    """`canonical_json(event.to_record())` built from its parts, and the data's canonical JSON on its own
    (SQLite stores that as the `data` column). Same bytes as `canonical_json` (tests/unit/test_events.py
    checks), at a fraction of the cost of sorting and encoding the whole record again for every event."""
    data = _CANONICAL(event.data)
    correlation = "null" if event.correlation_id is None else encode_basestring(event.correlation_id)
    text = (f'{{"correlation_id":{correlation},"data":{data},"id":{encode_basestring(event.id)},'
            f'"occurred_at":{encode_basestring(format_time(event.occurred_at))},'
            f'"source":{encode_basestring(event.source)},"type":{encode_basestring(event.type)},'
            f'"version":{int(event.version)!r},"workspace_id":{encode_basestring(event.workspace_id)}}}')
    return text, data


@dataclass(frozen=True)
class _BatchInsert:
    sql: str
    positional: bool
    names: tuple[str, ...]  # the bind names in the driver's order (positional) or the dict keys (named)
    processors: tuple[Callable[[Any], Any] | None, ...]  # per name; None where the value is ready as it is
    data_as_text: bool  # SQLite: the `data` value is its JSON text already (the JSON type stores that text)

    def parameters(self, rows: list[tuple[Any, ...]]) -> list[Any]:
        """Driver parameters for rows given in `_INSERT_COLUMNS` order."""
        order = [_INSERT_COLUMNS.index(name) for name in self.names]
        steps = [(position, processor) for position, processor in enumerate(self.processors) if processor]
        converted: list[Any] = []
        for row in rows:
            values = [row[index] for index in order]
            for position, processor in steps:
                values[position] = processor(values[position])
            converted.append(tuple(values) if self.positional else dict(zip(self.names, values, strict=True)))
        return converted


_BATCH_INSERTS: dict[str, _BatchInsert] = {}


def _batch_insert(dialect: Dialect) -> _BatchInsert:
    found = _BATCH_INSERTS.get(dialect.name)
    if found is None:
        statement = insert(_EVENT_LOG).values({name: bindparam(name) for name in _INSERT_COLUMNS})
        compiled = statement.compile(dialect=dialect)
        names = tuple(compiled.positiontup or ()) if compiled.positional else _INSERT_COLUMNS
        if sorted(names) != sorted(_INSERT_COLUMNS):
            raise RuntimeError(f"unexpected bind parameters in the audit insert: {names}")
        data_as_text = dialect.name == "sqlite"
        ready = {"recorded_at"} | ({"data"} if data_as_text else set())  # recorded_at: processed once a batch
        processors = tuple(None if name in ready else _EVENT_LOG.c[name].type._cached_bind_processor(dialect)
                           for name in names)
        found = _BatchInsert(sql=compiled.string, positional=compiled.positional, names=names,
                             processors=processors, data_as_text=data_as_text)
        _BATCH_INSERTS[dialect.name] = found
    return found


def _processed(dialect: Dialect, column: str, value: Any) -> Any:
    processor = _EVENT_LOG.c[column].type._cached_bind_processor(dialect)
    return processor(value) if processor else value


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
        batch = _batch_insert(connection.dialect)
        now = _processed(connection.dialect, "recorded_at", utcnow())
        rows: list[tuple[Any, ...]] = []
        for event in events:
            text, data = record_json(event)
            digest = hashlib.sha256((text + prev).encode()).hexdigest()
            length += 1
            rows.append((workspace_id, length, event.id, event.type, event.version, event.source,
                         event.correlation_id, event.occurred_at, now, data if batch.data_as_text else event.data,
                         prev, digest))
            prev = digest
        connection.exec_driver_sql(batch.sql, batch.parameters(rows))
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
