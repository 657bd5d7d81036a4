"""Inbound webhook event ids already received, kept in the database.

An in-memory set forgets on restart and is not shared between API processes, so a replayed delivery sent to
another process (or after a restart) would be accepted again. Here a row per (source, event id) is claimed with
an insert that does nothing on conflict: exactly one process wins, across processes and restarts.

A claim is completed once the event has been processed. A claim that was never completed (the process died in
between) may be taken over after `stale_after`, so the sender's retry is not refused as a replay and the event
is not lost; processing downstream is idempotent by event id. Rows older than `retention` are pruned: by then
the 300 s signature tolerance refuses a replay anyway, and Stripe stops retrying after 3 days.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta

from sqlalchemy import String, delete, func, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Mapped, mapped_column

from creator_studio.store.db import Base, Database, UTCDateTime, utcnow

DEFAULT_RETENTION = timedelta(days=7)
DEFAULT_STALE_AFTER = timedelta(minutes=2)


class ReceivedWebhookEventRow(Base):
    """One inbound webhook event id; the primary key is the uniqueness that refuses a second delivery."""

    __tablename__ = "received_webhook_events"

    source: Mapped[str] = mapped_column(String(40), primary_key=True)  # "stripe"
    event_id: Mapped[str] = mapped_column(String(255), primary_key=True)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
    completed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class SeenEventStore:
    """Database-backed replay protection for one webhook source (all processes on the same database agree)."""

    def __init__(self, db: Database, source: str = "stripe", *, clock: Callable[[], datetime] = utcnow,
                 retention: timedelta = DEFAULT_RETENTION, stale_after: timedelta = DEFAULT_STALE_AFTER) -> None:
        if retention <= stale_after or retention < timedelta(hours=1):
            raise ValueError("retention must be at least an hour and longer than stale_after: shorter would let a "
                             "sender's retry of a processed event through")
        self._db = db
        self.source = source
        self._clock = clock
        self.retention = retention
        self.stale_after = stale_after

    def claim(self, event_id: str) -> bool:
        """True if this call may process the event (first delivery, or a stale unfinished claim), else False."""
        now = self._clock()
        values = {"source": self.source, "event_id": event_id, "received_at": now, "completed_at": None}
        insert: postgresql.Insert | sqlite.Insert
        dialect = self._db.engine.dialect.name
        if dialect == "postgresql":
            insert = postgresql.insert(ReceivedWebhookEventRow).values(**values).on_conflict_do_nothing()
        elif dialect == "sqlite":
            insert = sqlite.insert(ReceivedWebhookEventRow).values(**values).on_conflict_do_nothing()
        else:
            raise NotImplementedError(f"seen webhook events need SQLite or PostgreSQL, not {dialect}")
        with self._db.transaction() as session:
            connection = session.connection()  # Core statements: the driver's row count, not the ORM's
            inserted = connection.execute(insert.returning(ReceivedWebhookEventRow.event_id)).first()
            if inserted is not None:  # a new id: this call won it
                connection.execute(delete(ReceivedWebhookEventRow).where(
                    ReceivedWebhookEventRow.received_at < now - self.retention))
                return True
            # Seen before. Only an unfinished claim old enough that its process must have died is taken over;
            # the compare-and-set on received_at lets just one of several concurrent retries win it.
            taken = connection.execute(
                update(ReceivedWebhookEventRow)
                .where(ReceivedWebhookEventRow.source == self.source, ReceivedWebhookEventRow.event_id == event_id,
                       ReceivedWebhookEventRow.completed_at.is_(None),
                       ReceivedWebhookEventRow.received_at < now - self.stale_after)
                .values(received_at=now))
            return taken.rowcount == 1

    def complete(self, event_id: str) -> None:
        """The event was processed: from now on every further delivery of it is a replay."""
        with self._db.transaction() as session:
            session.execute(update(ReceivedWebhookEventRow)
                            .where(ReceivedWebhookEventRow.source == self.source,
                                   ReceivedWebhookEventRow.event_id == event_id)
                            .values(completed_at=self._clock()))

    def release(self, event_id: str) -> None:
        """Processing failed (our fault, not the sender's): forget the claim so the sender's retry is processed."""
        with self._db.transaction() as session:
            session.execute(delete(ReceivedWebhookEventRow).where(
                ReceivedWebhookEventRow.source == self.source, ReceivedWebhookEventRow.event_id == event_id,
                ReceivedWebhookEventRow.completed_at.is_(None)))

    def count(self) -> int:
        """How many event ids are remembered (for tests and the health view)."""
        with self._db.transaction() as session:
            return int(session.scalar(select(func.count()).select_from(ReceivedWebhookEventRow)
                                      .where(ReceivedWebhookEventRow.source == self.source)) or 0)
