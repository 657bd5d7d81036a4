"""The sandbox social world: platform state kept in the workspace database, so every tool has real effects.

It behaves like a platform that honours idempotency keys (as Mastodon's `Idempotency-Key` does): the same
key twice returns the first result instead of posting again.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from pathlib import Path

from sqlalchemy import JSON, Boolean, Integer, String, Text, UniqueConstraint, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from creator_studio.errors import Conflict, NotFound
from creator_studio.providers.social.base import Account, Comment, PostMetrics, PublishedPost
from creator_studio.providers.social.inbox import comment_row, comments_query
from creator_studio.store.db import Base, Database, UTCDateTime, new_id, utcnow
from creator_studio.tools.types import SocialPlatform

_URL = {
    "bluesky": "https://bsky.app/profile/{handle}/post/{id}",
    "mastodon": "https://mastodon.social/@{handle}/{id}",
    "x": "https://x.com/{handle}/status/{id}",
    "linkedin": "https://www.linkedin.com/feed/update/{id}",
    "threads": "https://www.threads.net/@{handle}/post/{id}",
}


class SandboxAccountRow(Base):
    __tablename__ = "sandbox_social_accounts"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    workspace_id: Mapped[str] = mapped_column(String(64), index=True)
    platform: Mapped[str] = mapped_column(String(16))
    handle: Mapped[str] = mapped_column(String(200))
    followers: Mapped[int] = mapped_column(Integer, default=0)


class SandboxPostRow(Base):
    __tablename__ = "sandbox_social_posts"
    __table_args__ = (UniqueConstraint("workspace_id", "idempotency_key"),)

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    workspace_id: Mapped[str] = mapped_column(String(64), index=True)
    platform: Mapped[str] = mapped_column(String(16), index=True)
    account: Mapped[str] = mapped_column(String(200))
    text: Mapped[str] = mapped_column(Text)
    topic: Mapped[str | None] = mapped_column(String(300), nullable=True)
    published_at: Mapped[datetime] = mapped_column(UTCDateTime())
    idempotency_key: Mapped[str | None] = mapped_column(String(128), nullable=True)
    metrics: Mapped[dict[str, int]] = mapped_column(JSON, default=dict)
    media: Mapped[list[str]] = mapped_column(JSON, default=list, server_default="[]")


class SandboxCommentRow(Base):
    __tablename__ = "sandbox_social_comments"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    workspace_id: Mapped[str] = mapped_column(String(64), index=True)
    platform: Mapped[str] = mapped_column(String(16), index=True)
    post_id: Mapped[str] = mapped_column(String(64))
    author_handle: Mapped[str] = mapped_column(String(200))
    author_name: Mapped[str] = mapped_column(String(200))
    text: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    reply_text: Mapped[str | None] = mapped_column(Text, nullable=True)
    replied_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    reply_key: Mapped[str | None] = mapped_column(String(128), unique=True, nullable=True)
    hidden: Mapped[bool] = mapped_column(Boolean, default=False)
    hide_key: Mapped[str | None] = mapped_column(String(128), nullable=True)


class SandboxSocialProvider:
    def __init__(self, db: Database) -> None:
        self._db = db

    def accounts(self, workspace_id: str, platform: SocialPlatform | None = None) -> list[Account]:
        with self._db.transaction() as session:
            query = select(SandboxAccountRow).where(SandboxAccountRow.workspace_id == workspace_id)
            if platform:
                query = query.where(SandboxAccountRow.platform == platform)
            return [Account(platform=r.platform, handle=r.handle, followers=r.followers)
                    for r in session.scalars(query.order_by(SandboxAccountRow.id))]

    def add_account(self, workspace_id: str, platform: SocialPlatform, handle: str, followers: int) -> Account:
        with self._db.transaction() as session:
            session.add(SandboxAccountRow(workspace_id=workspace_id, platform=platform, handle=handle,
                                          followers=followers))
        return Account(platform=platform, handle=handle, followers=followers)

    def publish(self, workspace_id: str, platform: SocialPlatform, text: str, *, account: str | None,
                idempotency_key: str, topic: str | None = None, published_at: datetime | None = None,
                metrics: PostMetrics | None = None, media: Sequence[Path] = ()) -> PublishedPost:
        with self._db.transaction() as session:
            existing = session.scalar(select(SandboxPostRow).where(
                SandboxPostRow.workspace_id == workspace_id, SandboxPostRow.idempotency_key == idempotency_key))
            if existing is not None:
                return _post(existing)
            handle = self._resolve_account(session, workspace_id, platform, account)
            row = SandboxPostRow(id=new_id("post"), workspace_id=workspace_id, platform=platform, account=handle,
                                 text=text, topic=topic, published_at=published_at or utcnow(),
                                 idempotency_key=idempotency_key,
                                 metrics=(metrics or PostMetrics()).model_dump(), media=[str(p) for p in media])
            session.add(row)
            session.flush()
            return _post(row)

    def posts(self, workspace_id: str, *, platform: SocialPlatform | None = None,
              since: datetime | None = None) -> list[PublishedPost]:
        with self._db.transaction() as session:
            query = select(SandboxPostRow).where(SandboxPostRow.workspace_id == workspace_id)
            if platform:
                query = query.where(SandboxPostRow.platform == platform)
            if since:
                query = query.where(SandboxPostRow.published_at >= since)
            return [_post(r) for r in session.scalars(query.order_by(SandboxPostRow.published_at.desc()))]

    def get_post(self, workspace_id: str, post_id: str) -> PublishedPost:
        with self._db.transaction() as session:
            row = session.get(SandboxPostRow, post_id)
            if row is None or row.workspace_id != workspace_id:
                raise NotFound(f"No published post {post_id!r}.")
            return _post(row)

    def set_metrics(self, workspace_id: str, post_id: str, metrics: PostMetrics) -> PublishedPost:
        with self._db.transaction() as session:
            row = session.get(SandboxPostRow, post_id)
            if row is None or row.workspace_id != workspace_id:
                raise NotFound(f"No published post {post_id!r}.")
            row.metrics = metrics.model_dump()
            session.flush()
            return _post(row)

    def add_comment(self, workspace_id: str, post_id: str, author_handle: str, author_name: str, text: str,
                    created_at: datetime | None = None) -> Comment:
        with self._db.transaction() as session:
            post = session.get(SandboxPostRow, post_id)
            if post is None or post.workspace_id != workspace_id:
                raise NotFound(f"No published post {post_id!r}.")
            row = SandboxCommentRow(id=new_id("cmt"), workspace_id=workspace_id, platform=post.platform,
                                    post_id=post_id, author_handle=author_handle, author_name=author_name,
                                    text=text, created_at=created_at or utcnow())
            session.add(row)
            session.flush()
            return _comment(row)

    def comments(self, workspace_id: str, *, platform: SocialPlatform | None = None,
                 since: datetime | None = None, unreplied_only: bool = False,
                 include_hidden: bool = False) -> list[Comment]:
        with self._db.transaction() as session:
            query = comments_query(SandboxCommentRow, workspace_id, platform=platform, since=since,
                                   unreplied_only=unreplied_only, include_hidden=include_hidden)
            return [_comment(r) for r in session.scalars(query)]

    def get_comment(self, workspace_id: str, comment_id: str) -> Comment:
        with self._db.transaction() as session:
            return _comment(self._comment_row(session, workspace_id, comment_id))

    def reply(self, workspace_id: str, comment_id: str, text: str, *, idempotency_key: str) -> Comment:
        with self._db.transaction() as session:
            row = self._comment_row(session, workspace_id, comment_id)
            if row.reply_key == idempotency_key:
                return _comment(row)
            if row.reply_text is not None:
                raise Conflict(f"Comment {comment_id} already has a reply; it was not replied to twice.")
            row.reply_text, row.replied_at, row.reply_key = text, utcnow(), idempotency_key
            session.flush()
            return _comment(row)

    def hide_comment(self, workspace_id: str, comment_id: str, *, idempotency_key: str) -> Comment:
        with self._db.transaction() as session:
            row = self._comment_row(session, workspace_id, comment_id)
            row.hidden, row.hide_key = True, row.hide_key or idempotency_key
            session.flush()
            return _comment(row)

    @staticmethod
    def _comment_row(session: Session, workspace_id: str, comment_id: str) -> SandboxCommentRow:
        return comment_row(session, SandboxCommentRow, workspace_id, comment_id)

    @staticmethod
    def _resolve_account(session: Session, workspace_id: str, platform: str, account: str | None) -> str:
        query = select(SandboxAccountRow).where(SandboxAccountRow.workspace_id == workspace_id,
                                                SandboxAccountRow.platform == platform)
        rows = list(session.scalars(query.order_by(SandboxAccountRow.id)))
        if not rows:
            raise NotFound(f"No {platform} account is connected: run `studio connect {platform}` first.")
        if account is None:
            return rows[0].handle
        for row in rows:
            if row.handle.lower() == account.lower().lstrip("@"):
                return row.handle
        known = ", ".join(r.handle for r in rows)
        raise NotFound(f"No {platform} account {account!r}; connected: {known}.")


def _post(row: SandboxPostRow) -> PublishedPost:
    return PublishedPost(id=row.id, platform=row.platform, account=row.account,
                         text=row.text, topic=row.topic,
                         url=_URL[row.platform].format(handle=row.account, id=row.id),
                         published_at=row.published_at, metrics=PostMetrics.model_validate(row.metrics or {}),
                         media=list(row.media or []))


def _comment(row: SandboxCommentRow) -> Comment:
    return Comment.model_validate(row, from_attributes=True)
