"""Reading stored comments, the same for the sandbox world and for comments synced from real platforms: both
keep them in tables of the same shape."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, TypeVar

from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from creator_studio.errors import NotFound

if TYPE_CHECKING:  # the sandbox module imports this one
    from creator_studio.providers.social.models import RealCommentRow
    from creator_studio.providers.social.sandbox import SandboxCommentRow

CommentRow = TypeVar("CommentRow", "SandboxCommentRow", "RealCommentRow")


def comments_query(table: type[CommentRow], workspace_id: str, *, platform: str | None, since: datetime | None,
                   unreplied_only: bool, include_hidden: bool) -> Select[CommentRow]:
    query = select(table).where(table.workspace_id == workspace_id)
    if platform:
        query = query.where(table.platform == platform)
    if since:
        query = query.where(table.created_at >= since)
    if unreplied_only:
        query = query.where(table.reply_text.is_(None))
    if not include_hidden:
        query = query.where(table.hidden.is_(False))
    return query.order_by(table.created_at)


def comment_row(session: Session, table: type[CommentRow], workspace_id: str, comment_id: str) -> CommentRow:
    row = session.get(table, comment_id)
    if row is None or row.workspace_id != workspace_id:
        raise NotFound(f"No comment {comment_id!r}: `list_comments` shows the comments you can act on.")
    return row
