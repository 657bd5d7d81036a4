"""Double opt-in: an address joins the list only after opening the link in a confirmation email.

The token is random and shown once (in the email); only its SHA-256 is stored. Requests expire after
`ttl`; confirming twice is harmless (the second time returns the same subscriber).
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta
from urllib.parse import urlencode

from pydantic import BaseModel
from sqlalchemy import select

from creator_studio.errors import InvalidInput
from creator_studio.providers.email.base import Subscriber
from creator_studio.providers.email.message import OutgoingEmail
from creator_studio.providers.email.models import EmailOptInRow
from creator_studio.providers.email.outbox import Delivery
from creator_studio.providers.email.smtp_provider import SmtpEmailProvider
from creator_studio.store.db import Database, new_id, utcnow


class OptInRequest(BaseModel):
    id: str
    email: str
    confirm_url: str
    delivery: Delivery


class DoubleOptIn:
    def __init__(
        self, db: Database, provider: SmtpEmailProvider, base_url: str, *, ttl: timedelta = timedelta(days=7)
    ) -> None:
        self._db = db
        self._provider = provider
        self._base_url = base_url.rstrip("/")
        self._ttl = ttl

    def request(
        self, workspace_id: str, email: str, name: str, *, tags: list[str] | None = None,
        list_name: str = "the newsletter", now: datetime | None = None,
    ) -> OptInRequest:
        address = email.strip().lower()
        if "@" not in address or address.startswith("@") or address.endswith("@"):
            raise InvalidInput(f"{email!r} is not an email address.")
        when = now or utcnow()
        token = secrets.token_urlsafe(24)
        row = EmailOptInRow(
            id=new_id("optin"), workspace_id=workspace_id, email=address, name=name.strip(),
            tags=sorted({t.strip().lower() for t in tags or [] if t.strip()}), token_hash=_hash(token),
            created=when, expires=when + self._ttl,
        )
        with self._db.transaction() as session:
            session.add(row)
        url = f"{self._base_url}/email/confirm?{urlencode({'token': token})}"
        delivery = self._provider.send_one(OutgoingEmail(
            idempotency_key=f"{workspace_id}:optin:{row.id}", workspace_id=workspace_id, to_email=address,
            to_name=row.name, subject=f"Please confirm your subscription to {list_name}",
            body=f"Hi {row.name or 'there'},\n\nPlease confirm that you want to receive {list_name}:\n{url}\n\n"
                 "If you did not ask for this, ignore this email and nothing will happen.\n",
        ))
        return OptInRequest(id=row.id, email=address, confirm_url=url, delivery=delivery)

    def confirm(self, token: str, *, now: datetime | None = None) -> Subscriber:
        when = now or utcnow()
        with self._db.transaction() as session:
            row = session.scalar(select(EmailOptInRow).where(EmailOptInRow.token_hash == _hash(token)))
            if row is None:
                raise InvalidInput("This confirmation link is not valid (it may have been changed or cut short).")
            if row.confirmed_at is None and row.expires < when:
                raise InvalidInput("This confirmation link has expired; sign up again to get a new one.")
            workspace_id, email, name, tags = row.workspace_id, row.email, row.name, list(row.tags)
        subscriber = self._provider.add_subscriber(workspace_id, email, name, tags=tags)
        if subscriber.status != "subscribed":  # an address that unsubscribed earlier opted in again
            subscriber = self._provider.resubscribe(workspace_id, subscriber.id)
        with self._db.transaction() as session:
            stored = session.get(EmailOptInRow, row.id)
            assert stored is not None
            stored.confirmed_at = stored.confirmed_at or when
            stored.subscriber_id = subscriber.id
        return subscriber


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()
