"""The real social provider: the same interface as the sandbox, dispatching to the connected account's adapter.

It keeps what it published and the comments it has fetched in the workspace database, so `posts`,
`get_post` and `get_comment` need no network call and ids stay stable. `comments()` first syncs the
notifications of every connected account (background priority); a failing account is logged and skipped so
one expired connection doesn't hide the others' comments. Hiding a comment hides it in Studio's inbox only:
the platforms offer no common way to hide a reply.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from creator_studio.connections.service import ConnectionService
from creator_studio.errors import Conflict, InvalidInput, NotFound
from creator_studio.logs import get_logger
from creator_studio.providers.reliability import Priority, ProviderError
from creator_studio.providers.social.accounts import AdapterFactory
from creator_studio.providers.social.base import Account, Comment, PostMetrics, PublishedPost
from creator_studio.providers.social.inbox import comment_row, comments_query
from creator_studio.providers.social.models import RealCommentRow, RealPostRow
from creator_studio.store.db import Database, new_id, utcnow
from creator_studio.tools.types import SocialPlatform

IMAGE_SUFFIXES = {".png", ".jpg", ".jpeg", ".gif", ".webp"}

log = get_logger("providers.social.real")


class RealSocialProvider:
    def __init__(self, db: Database, connections: ConnectionService, adapters: AdapterFactory | None = None,
                 priority: Priority = Priority.CREATOR) -> None:
        self._db = db
        self._connections = connections
        self._adapters = adapters or AdapterFactory(connections)
        self.priority = priority

    def accounts(self, workspace_id: str, platform: SocialPlatform | None = None) -> list[Account]:
        return [Account(platform=c.platform, handle=c.handle, followers=0)
                for c in self._connections.list(workspace_id, platform)]

    def publish(self, workspace_id: str, platform: SocialPlatform, text: str, *, account: str | None,
                idempotency_key: str, topic: str | None = None, media: Sequence[Path] = ()) -> PublishedPost:
        with self._db.transaction() as session:
            existing = self._by_key(session, workspace_id, idempotency_key)
            if existing is not None:
                return _post(existing)
        connection = self._connections.get(workspace_id, platform, account)
        adapter = self._adapters.adapter(connection)
        videos = [p for p in media if p.suffix.lower() not in IMAGE_SUFFIXES]
        if videos:
            raise InvalidInput(f"Posting video to {platform} through its API is not supported yet ({videos[0].name}); "
                               "attach images, or post the video from the platform's app.")
        published = adapter.publish(text, idempotency_key=idempotency_key, images=list(media) or None,
                                    priority=self.priority)
        with self._db.transaction() as session:
            row = RealPostRow(id=new_id("post"), workspace_id=workspace_id, platform=platform,
                              account=connection.handle, platform_id=published.id, url=published.url, text=text,
                              topic=topic, published_at=published.published_at, idempotency_key=idempotency_key,
                              metrics={}, media=[str(p) for p in media])
            session.add(row)
            session.flush()
            return _post(row)

    def posts(self, workspace_id: str, *, platform: SocialPlatform | None = None,
              since: datetime | None = None) -> list[PublishedPost]:
        with self._db.transaction() as session:
            query = select(RealPostRow).where(RealPostRow.workspace_id == workspace_id)
            if platform:
                query = query.where(RealPostRow.platform == platform)
            if since:
                query = query.where(RealPostRow.published_at >= since)
            return [_post(r) for r in session.scalars(query.order_by(RealPostRow.published_at.desc()))]

    def get_post(self, workspace_id: str, post_id: str) -> PublishedPost:
        with self._db.transaction() as session:
            row = session.get(RealPostRow, post_id)
            if row is None or row.workspace_id != workspace_id:
                raise NotFound(f"No published post {post_id!r}.")
            return _post(row)

    def sync_comments(self, workspace_id: str, since: datetime | None = None) -> int:
        """Fetch replies and mentions of every connected account; returns how many were new."""
        added = 0
        for connection in self._connections.list(workspace_id):
            try:
                found = self._adapters.adapter(connection).notifications(since, Priority.BACKGROUND)
            except ProviderError as exc:
                log.warning("comment sync skipped an account: %s", exc.message,
                            extra={"workspace_id": workspace_id})
                continue
            with self._db.transaction() as session:
                for item in found:
                    if item.kind not in {"reply", "mention", "quote"}:
                        continue
                    known = session.scalar(select(RealCommentRow.id).where(
                        RealCommentRow.workspace_id == workspace_id, RealCommentRow.platform == connection.platform,
                        RealCommentRow.platform_id == item.id))
                    if known:
                        continue
                    post_id = session.scalar(select(RealPostRow.id).where(
                        RealPostRow.workspace_id == workspace_id, RealPostRow.platform_id == item.post_id))
                    session.add(RealCommentRow(
                        id=new_id("cmt"), workspace_id=workspace_id, platform=connection.platform,
                        account=connection.handle, platform_id=item.id, post_id=post_id or item.post_id or "",
                        author_handle=item.author_handle, author_name=item.author_name, text=item.text,
                        created_at=item.created_at))
                    added += 1
        return added

    def comments(self, workspace_id: str, *, platform: SocialPlatform | None = None,
                 since: datetime | None = None, unreplied_only: bool = False,
                 include_hidden: bool = False) -> list[Comment]:
        self.sync_comments(workspace_id, since)
        with self._db.transaction() as session:
            query = comments_query(RealCommentRow, workspace_id, platform=platform, since=since,
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
            platform, handle, target = row.platform, row.account, row.platform_id
        connection = self._connections.get(workspace_id, platform, handle)  # type: ignore[arg-type]
        self._adapters.adapter(connection).publish(text, idempotency_key=idempotency_key, reply_to=target,
                                                   priority=self.priority)
        with self._db.transaction() as session:
            row = self._comment_row(session, workspace_id, comment_id)
            row.reply_text, row.replied_at, row.reply_key = text, utcnow(), idempotency_key
            session.flush()
            return _comment(row)

    def hide_comment(self, workspace_id: str, comment_id: str, *, idempotency_key: str) -> Comment:
        with self._db.transaction() as session:
            row = self._comment_row(session, workspace_id, comment_id)
            row.hidden = True
            session.flush()
            return _comment(row)

    @staticmethod
    def _by_key(session: Session, workspace_id: str, key: str) -> RealPostRow | None:
        return session.scalar(select(RealPostRow).where(RealPostRow.workspace_id == workspace_id,
                                                        RealPostRow.idempotency_key == key))

    @staticmethod
    def _comment_row(session: Session, workspace_id: str, comment_id: str) -> RealCommentRow:
        return comment_row(session, RealCommentRow, workspace_id, comment_id)


def _post(row: RealPostRow) -> PublishedPost:
    return PublishedPost(id=row.id, platform=row.platform, account=row.account,
                         text=row.text, topic=row.topic, url=row.url, published_at=row.published_at,
                         metrics=PostMetrics.model_validate(row.metrics or {}), media=list(row.media or []))


def _comment(row: RealCommentRow) -> Comment:
    return Comment(id=row.id, platform=row.platform, post_id=row.post_id,
                   author_handle=row.author_handle, author_name=row.author_name, text=row.text,
                   created_at=row.created_at, reply_text=row.reply_text, replied_at=row.replied_at,
                   hidden=row.hidden)
