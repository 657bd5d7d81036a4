"""Tables of Audience Hub: qualified leads, saved segments and community invitations."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from creator_studio.store.db import Base, UTCDateTime, utcnow


class LeadRow(Base):
    """The latest lead score of one person (one row per workspace and handle, updated in place)."""

    __tablename__ = "engagement_leads"
    __table_args__ = (UniqueConstraint("workspace_id", "handle"),)

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    workspace_id: Mapped[str] = mapped_column(String(64), index=True)
    handle: Mapped[str] = mapped_column(String(200))
    display_name: Mapped[str] = mapped_column(String(200))
    platforms: Mapped[list[str]] = mapped_column(JSON, default=list)
    score: Mapped[int] = mapped_column(Integer)
    breakdown: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    comment_count: Mapped[int] = mapped_column(Integer, default=0)
    last_engaged_at: Mapped[datetime] = mapped_column(UTCDateTime())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)


class SegmentRow(Base):
    """A named audience segment: its criteria and the members they matched when it was (re)saved."""

    __tablename__ = "engagement_segments"
    # `name_key` is the case-folded name, so "Warm leads" and "warm leads" are the same segment.
    __table_args__ = (UniqueConstraint("workspace_id", "name_key"),)

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    workspace_id: Mapped[str] = mapped_column(String(64), index=True)
    name: Mapped[str] = mapped_column(String(100))
    name_key: Mapped[str] = mapped_column(String(100))
    criteria: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    members: Mapped[list[str]] = mapped_column(JSON, default=list)  # handles
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)


class InviteBatchRow(Base):
    """One invite_to_community call: its idempotency key and the result it gave, replayed for the same key."""

    __tablename__ = "engagement_community_invite_batches"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    workspace_id: Mapped[str] = mapped_column(String(64), index=True)
    community: Mapped[str] = mapped_column(String(100))
    message: Mapped[str | None] = mapped_column(Text, nullable=True)
    segment: Mapped[str | None] = mapped_column(String(100), nullable=True)
    invited: Mapped[list[str]] = mapped_column(JSON, default=list)
    skipped: Mapped[list[str]] = mapped_column(JSON, default=list)
    idempotency_key: Mapped[str] = mapped_column(String(128), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class CommunityInviteRow(Base):
    """One person invited to one community; the unique constraint is what stops a second invitation."""

    __tablename__ = "engagement_community_invites"
    __table_args__ = (UniqueConstraint("workspace_id", "member_handle", "community_key"),)

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    workspace_id: Mapped[str] = mapped_column(String(64), index=True)
    member_handle: Mapped[str] = mapped_column(String(200))
    member_name: Mapped[str] = mapped_column(String(200))
    community: Mapped[str] = mapped_column(String(100))
    community_key: Mapped[str] = mapped_column(String(100))
    message: Mapped[str | None] = mapped_column(Text, nullable=True)
    batch_id: Mapped[str] = mapped_column(ForeignKey("engagement_community_invite_batches.id"), index=True)
    invited_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class InboxMessageRow(Base):
    """A direct message or an email reply received by the creator (engagement/inbox.py); untrusted text.

    `external_id` is the platform's message id or the email's Message-ID: a redelivery is stored once."""

    __tablename__ = "engagement_inbox_messages"
    __table_args__ = (UniqueConstraint("workspace_id", "channel", "external_id"),)

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    workspace_id: Mapped[str] = mapped_column(String(64), index=True)
    channel: Mapped[str] = mapped_column(String(16))  # dm | email_reply
    platform: Mapped[str] = mapped_column(String(16))  # a social platform for a DM, `email` for a reply
    external_id: Mapped[str] = mapped_column(String(255))
    author_handle: Mapped[str] = mapped_column(String(320))
    author_name: Mapped[str] = mapped_column(String(200))
    subject: Mapped[str | None] = mapped_column(String(300), nullable=True)
    text: Mapped[str] = mapped_column(Text)
    in_reply_to: Mapped[str | None] = mapped_column(String(255), nullable=True)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
