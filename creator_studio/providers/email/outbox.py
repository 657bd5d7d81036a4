"""Exactly-once email delivery: every intended message is a row keyed by its idempotency key, written before
the mail server is called and updated after.

- Already `sent`: a retry returns at once; nothing is sent again.
- A retry-safe failure (the server refused, or the connection failed before the body was handed over): the
  row goes back to `pending` and the send is retried with backoff, up to `max_attempts`.
- The server may have accepted the message (timeout after the body was sent), or the process died between
  calling the server and recording the result (the row is still `sending`): the row becomes `unknown` and the
  message is NOT sent again automatically; it is reported. SMTP has no way to ask "did you get it?".

Residual window (honest): if the mail server accepted the message but the reply was lost, the message was
delivered once and we report "unknown"; an operator who chooses `resend_unknown` may cause a second copy,
which carries the same Message-ID (many receivers then show it once). Nothing is ever sent twice without
that explicit choice.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import datetime
from typing import Literal

from pydantic import BaseModel
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from creator_studio.providers.email.message import OutgoingEmail, build_message, domain_of, message_id_for
from creator_studio.providers.email.models import EmailDeliveryRow
from creator_studio.providers.email.ratelimit import TokenBucket
from creator_studio.providers.email.smtp import SmtpSender, SmtpSendError
from creator_studio.store.db import Database, new_id, utcnow

DeliveryStatus = Literal["pending", "sending", "sent", "failed", "unknown"]


class Delivery(BaseModel):
    idempotency_key: str
    message_id: str
    to_email: str
    subject: str
    status: DeliveryStatus
    attempts: int
    last_error: str | None
    sent_at: datetime | None


class OutboxStats(BaseModel):
    """Counters for the figures: SMTP conversations started and retries made."""

    attempts: int = 0
    retries: int = 0
    skipped_already_sent: int = 0


class Outbox:
    def __init__(
        self,
        db: Database,
        sender: SmtpSender,
        *,
        bucket: TokenBucket | None = None,
        max_attempts: int = 5,
        backoff_s: float = 0.5,
        max_backoff_s: float = 30.0,
        sleep: Callable[[float], None] = time.sleep,
        from_name: str = "",
    ) -> None:
        self._db = db
        self._sender = sender
        self.bucket = bucket or TokenBucket(sender.config.rate_per_s, sender.config.burst)
        self._max_attempts = max_attempts
        self._backoff_s = backoff_s
        self._max_backoff_s = max_backoff_s
        self._sleep = sleep
        self._from_name = from_name
        self.stats = OutboxStats()

    @property
    def from_address(self) -> str:
        return self._sender.config.from_address

    def deliver(self, email: OutgoingEmail) -> Delivery:
        row = self._claim(email)
        if row.status in ("sent", "failed", "unknown"):
            self.stats.skipped_already_sent += row.status == "sent"
            return _delivery(row)
        if row.status == "sending":
            # Found mid-send: an earlier process died after calling the server. It may have been delivered.
            return self._finish(email.idempotency_key, "unknown", "interrupted while the mail server was called")
        message = build_message(email, self.from_address, self._from_name)
        for attempt in range(1, self._max_attempts + 1):
            self.bucket.acquire()
            self._mark(email.idempotency_key, "sending", None, count_attempt=True)
            self.stats.attempts += 1
            try:
                self._sender.send(message, email.to_email)
            except SmtpSendError as exc:
                if exc.kind == "unknown":
                    return self._finish(email.idempotency_key, "unknown", exc.detail)
                if exc.kind == "permanent":
                    return self._finish(email.idempotency_key, "failed", exc.detail)
                self._mark(email.idempotency_key, "pending", exc.detail)
                if attempt < self._max_attempts:
                    self.stats.retries += 1
                    self._sleep(min(self._max_backoff_s, self._backoff_s * 2 ** (attempt - 1)))
                    continue
                return self._finish(email.idempotency_key, "failed",
                                    f"gave up after {attempt} attempts; last: {exc.detail}")
            return self._finish(email.idempotency_key, "sent", None)
        raise AssertionError("unreachable: the loop returns")

    def resend_unknown(self, email: OutgoingEmail) -> Delivery:
        """An operator's explicit choice: send once more a message whose outcome was unknown (same Message-ID)."""
        with self._db.transaction() as session:
            row = session.scalar(
                select(EmailDeliveryRow).where(EmailDeliveryRow.idempotency_key == email.idempotency_key)
            )
            if row is None or row.status != "unknown":
                raise ValueError(f"no delivery with an unknown outcome for key {email.idempotency_key!r}")
            row.status = "pending"
        return self.deliver(email)

    def get(self, idempotency_key: str) -> Delivery | None:
        with self._db.transaction() as session:
            row = session.scalar(select(EmailDeliveryRow).where(EmailDeliveryRow.idempotency_key == idempotency_key))
            return _delivery(row) if row is not None else None

    def list(self, workspace_id: str, *, status: DeliveryStatus | None = None) -> list[Delivery]:
        with self._db.transaction() as session:
            query = select(EmailDeliveryRow).where(EmailDeliveryRow.workspace_id == workspace_id)
            if status is not None:
                query = query.where(EmailDeliveryRow.status == status)
            return [_delivery(r) for r in session.scalars(query.order_by(EmailDeliveryRow.created))]

    # Rows -------------------------------------------------------------------------------------------
    def _claim(self, email: OutgoingEmail) -> EmailDeliveryRow:
        """The row for this key, created as `pending` (committed) if it is new."""
        now = utcnow()
        try:
            with self._db.transaction() as session:
                row = session.scalar(
                    select(EmailDeliveryRow).where(EmailDeliveryRow.idempotency_key == email.idempotency_key)
                )
                if row is None:
                    row = EmailDeliveryRow(
                        id=new_id("dlv"), workspace_id=email.workspace_id, idempotency_key=email.idempotency_key,
                        message_id=message_id_for(email.idempotency_key, domain_of(self.from_address)),
                        to_email=email.to_email, subject=email.subject, status="pending", attempts=0,
                        created=now, updated=now,
                    )
                    session.add(row)
                return row
        except IntegrityError:  # another worker claimed the same key a moment ago: use its row
            with self._db.transaction() as session:
                row = session.scalar(
                    select(EmailDeliveryRow).where(EmailDeliveryRow.idempotency_key == email.idempotency_key)
                )
                assert row is not None
                return row

    def _mark(self, key: str, status: DeliveryStatus, error: str | None, *, count_attempt: bool = False) -> None:
        with self._db.transaction() as session:
            row = session.scalar(select(EmailDeliveryRow).where(EmailDeliveryRow.idempotency_key == key))
            assert row is not None
            row.status, row.updated = status, utcnow()
            if error is not None:
                row.last_error = error
            if count_attempt:
                row.attempts += 1
            if status == "sent":
                row.sent_at = row.updated

    def _finish(self, key: str, status: DeliveryStatus, error: str | None) -> Delivery:
        self._mark(key, status, error)
        found = self.get(key)
        assert found is not None
        return found


def _delivery(row: EmailDeliveryRow) -> Delivery:
    return Delivery.model_validate(row, from_attributes=True)
