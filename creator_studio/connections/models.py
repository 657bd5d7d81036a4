"""The connections table: one row per connected account (several per platform are fine)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from creator_studio.store.db import Base, UTCDateTime


class ConnectionRow(Base):
    __tablename__ = "connections"
    __table_args__ = (UniqueConstraint("workspace_id", "platform", "handle"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    workspace_id: Mapped[str] = mapped_column(String(64), index=True)
    platform: Mapped[str] = mapped_column(String(16))
    handle: Mapped[str] = mapped_column(String(200))
    # The platform's stable id for the account: a DID, a Mastodon/X/Threads user id, a LinkedIn person URN.
    account_id: Mapped[str] = mapped_column(String(300))
    base_url: Mapped[str | None] = mapped_column(String(300), nullable=True)
    scopes: Mapped[list[str]] = mapped_column(JSON, default=list)
    # Fernet token of the JSON secrets (access/refresh tokens, app password): never stored in clear.
    secrets_ciphertext: Mapped[str] = mapped_column(Text)
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())
