"""What the real social provider remembers: the posts it published and the comments it has seen."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, Boolean, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from creator_studio.store.db import Base, UTCDateTime


class RealPostRow(Base):
    __tablename__ = "social_posts"
    __table_args__ = (UniqueConstraint("workspace_id", "idempotency_key"),)

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    workspace_id: Mapped[str] = mapped_column(String(64), index=True)
    platform: Mapped[str] = mapped_column(String(16), index=True)
    account: Mapped[str] = mapped_column(String(200))
    platform_id: Mapped[str] = mapped_column(String(300))
    url: Mapped[str] = mapped_column(String(500))
    text: Mapped[str] = mapped_column(Text)
    topic: Mapped[str | None] = mapped_column(String(300), nullable=True)
    published_at: Mapped[datetime] = mapped_column(UTCDateTime())
    idempotency_key: Mapped[str] = mapped_column(String(128))
    metrics: Mapped[dict[str, int]] = mapped_column(JSON, default=dict)
    media: Mapped[list[str]] = mapped_column(JSON, default=list, server_default="[]")


class RealCommentRow(Base):
    __tablename__ = "social_comments"
    __table_args__ = (UniqueConstraint("workspace_id", "platform", "platform_id"),)

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    workspace_id: Mapped[str] = mapped_column(String(64), index=True)
    platform: Mapped[str] = mapped_column(String(16), index=True)
    account: Mapped[str] = mapped_column(String(200))
    platform_id: Mapped[str] = mapped_column(String(300))
    post_id: Mapped[str] = mapped_column(String(300))
    author_handle: Mapped[str] = mapped_column(String(200))
    author_name: Mapped[str] = mapped_column(String(200))
    text: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    reply_text: Mapped[str | None] = mapped_column(Text, nullable=True)
    replied_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    reply_key: Mapped[str | None] = mapped_column(String(128), nullable=True)
    hidden: Mapped[bool] = mapped_column(Boolean, default=False)
