"""Listing drafts and editing one with optimistic concurrency (If-Match on its version).

ContentService has no list or edit method for drafts yet; until it does, these two queries live here and
touch only `content_drafts` (TODO: move into ContentService as `list_drafts` / `update_draft`). The edit is
a compare-and-swap on `version`, so two people editing at once never silently overwrite each other.
"""

from __future__ import annotations

from sqlalchemy import select, update

from creator_studio.content.models import DraftRow
from creator_studio.content.platforms import check_length
from creator_studio.content.service import Draft
from creator_studio.errors import InvalidInput
from creator_studio.store.db import Database, utcnow
from creator_studio.workspaces.service import Workspace


class StaleVersion(Exception):
    def __init__(self, current: Draft) -> None:
        super().__init__(f"draft {current.id} is at version {current.version}")
        self.current = current


def list_drafts(db: Database, ws: Workspace, *, status: str | None, limit: int) -> list[Draft]:
    with db.transaction() as session:
        query = select(DraftRow).where(DraftRow.workspace_id == ws.id)
        if status:
            query = query.where(DraftRow.status == status)
        rows = session.scalars(query.order_by(DraftRow.created_at.desc(), DraftRow.id).limit(limit)).all()
        return [Draft.model_validate(r, from_attributes=True) for r in rows]


def update_draft(db: Database, current: Draft, *, expected_version: int, text: str | None, title: str | None,
                 topic: str | None) -> Draft:
    """Apply the changes if the draft is still at `expected_version`; raise StaleVersion otherwise.

    `current` comes from ContentService.get_draft, which already checked the workspace."""
    if current.status != "draft":
        raise InvalidInput(f"status: draft {current.id} is already {current.status}; only drafts can be edited.")
    if text is not None:
        try:
            check_length(current.platform, text)
        except InvalidInput as exc:
            raise InvalidInput(f"text: {exc.message}") from exc
    changes: dict[str, object] = {"version": DraftRow.version + 1, "updated_at": utcnow()}
    if text is not None:
        changes["text"] = text
    if title is not None:
        changes["title"] = title
    if topic is not None:
        changes["topic"] = topic
    with db.transaction() as session:
        result = session.execute(update(DraftRow).where(DraftRow.id == current.id,
                                                        DraftRow.version == expected_version).values(**changes))
        swapped = getattr(result, "rowcount", 0) == 1
        row = session.get(DraftRow, current.id)
        assert row is not None
        session.refresh(row)
        fresh = Draft.model_validate(row, from_attributes=True)
    if not swapped:
        raise StaleVersion(fresh)
    return fresh
