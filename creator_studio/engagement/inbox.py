"""The Audience Hub inbox: direct messages and email replies, beside the comments on posts.

DMs come from a platform's inbox (the sandbox world's audience, or a real platform's sync) through `receive_dm`;
email replies come as raw messages through `receive_email` (providers/email/inbound.py parses them). Both are
stored once per external id and read by `list_comments` with the comments (channel `dm` / `email_reply`), so a
goal about "what my audience says" sees them, always as untrusted data. Studio does not answer them itself yet:
replying or hiding is refused with a message saying so.
"""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from creator_studio.engagement.models import InboxMessageRow
from creator_studio.errors import InvalidInput, NotFound
from creator_studio.providers.email.inbound import parse_inbound_email
from creator_studio.store.db import Database, new_id, utcnow
from creator_studio.tools.types import SocialPlatform

InboxChannel = Literal["dm", "email_reply"]
ID_PREFIX = "inb"
MAX_DM_CHARS = 10_000


class InboxMessage(BaseModel):
    id: str
    channel: InboxChannel
    platform: SocialPlatform | Literal["email"]
    author_handle: str
    author_name: str
    subject: str | None
    text: str
    in_reply_to: str | None
    received_at: datetime


def is_inbox_id(message_id: str) -> bool:
    return message_id.startswith(f"{ID_PREFIX}_")


class Inbox:
    def __init__(self, db: Database) -> None:
        self._db = db

    def receive_dm(self, workspace_id: str, platform: SocialPlatform, *, external_id: str, author_handle: str,
                   author_name: str, text: str, received_at: datetime | None = None) -> InboxMessage:
        if not text.strip():
            raise InvalidInput("A direct message needs text.")
        if not external_id.strip():
            raise InvalidInput("A direct message needs the platform's message id (external_id).")
        return self._store(InboxMessageRow(
            workspace_id=workspace_id, channel="dm", platform=platform, external_id=external_id.strip(),
            author_handle=author_handle, author_name=author_name or author_handle, subject=None,
            text=text[:MAX_DM_CHARS], in_reply_to=None, received_at=received_at or utcnow()))

    def receive_email(self, workspace_id: str, raw: bytes, *, received_at: datetime | None = None) -> InboxMessage:
        """A raw reply (RFC 5322 bytes); InvalidInput names what made it unreadable."""
        email = parse_inbound_email(raw)
        return self._store(InboxMessageRow(
            workspace_id=workspace_id, channel="email_reply", platform="email", external_id=email.message_id[:255],
            author_handle=email.from_address, author_name=email.from_name[:200], subject=email.subject[:300] or None,
            text=email.text, in_reply_to=(email.in_reply_to or "")[:255] or None,
            received_at=received_at or utcnow()))

    def messages(self, workspace_id: str, *, channel: InboxChannel | None = None, platform: str | None = None,
                 since: datetime | None = None) -> list[InboxMessage]:
        query = select(InboxMessageRow).where(InboxMessageRow.workspace_id == workspace_id)
        if channel is not None:
            query = query.where(InboxMessageRow.channel == channel)
        if platform is not None:
            query = query.where(InboxMessageRow.platform == platform)
        if since is not None:
            query = query.where(InboxMessageRow.received_at >= since)
        with self._db.transaction() as session:
            return [_message(r) for r in session.scalars(query.order_by(InboxMessageRow.received_at))]

    def get(self, workspace_id: str, message_id: str) -> InboxMessage:
        with self._db.transaction() as session:
            row = session.get(InboxMessageRow, message_id)
            if row is None or row.workspace_id != workspace_id:
                raise NotFound(f"No message {message_id!r} in the inbox: `list_comments` shows what you can read.")
            return _message(row)

    def _store(self, row: InboxMessageRow) -> InboxMessage:
        row.id = new_id(ID_PREFIX)
        try:
            with self._db.transaction() as session:
                session.add(row)
                session.flush()
                return _message(row)
        except IntegrityError:  # delivered before (a redelivered email, a re-synced DM): keep the first
            with self._db.transaction() as session:
                existing = session.scalar(select(InboxMessageRow).where(
                    InboxMessageRow.workspace_id == row.workspace_id, InboxMessageRow.channel == row.channel,
                    InboxMessageRow.external_id == row.external_id))
                assert existing is not None
                return _message(existing)


def _message(row: InboxMessageRow) -> InboxMessage:
    return InboxMessage.model_validate(row, from_attributes=True)
