"""Content Studio over HTTP: drafts (versioned: ETag / If-Match), the calendar and published posts."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Annotated, Literal

from fastapi import APIRouter, Header, Path, Query, Response
from pydantic import BaseModel, ConfigDict, Field, field_validator

from creator_studio.api.deps import Editor, State, Viewer
from creator_studio.api.params import IsoDateTime
from creator_studio.api.problems import ApiProblem, responses
from creator_studio.content.service import CalendarEntry, Draft, PostPerformance, StaleDraftVersion
from creator_studio.tools.types import SocialPlatform

router = APIRouter(prefix="/api/content", tags=["content"])
DraftId = Annotated[str, Path(min_length=1, max_length=64, description="A draft id, e.g. draft_0123456789ab.")]


class NewDraft(BaseModel):
    # The limits apply to the text as sent, as the OpenAPI description says (stripping first let 300 characters
    # plus trailing spaces through); surrounding spaces are dropped afterwards.
    model_config = ConfigDict(extra="forbid")
    platform: SocialPlatform
    topic: str = Field(min_length=1, max_length=300, pattern=r"\S")
    tone: str | None = Field(default=None, max_length=100)
    call_to_action: str | None = Field(default=None, max_length=300)
    audience: str | None = Field(default=None, max_length=300)

    @field_validator("topic", "tone", "call_to_action", "audience")
    @classmethod
    def _strip(cls, value: str | None) -> str | None:
        return None if value is None else value.strip()


class DraftChanges(BaseModel):
    model_config = ConfigDict(extra="forbid")
    text: str | None = Field(default=None, min_length=1, max_length=20000)
    title: str | None = Field(default=None, max_length=300)
    topic: str | None = Field(default=None, max_length=300)


# A version tag as sent back from an ETag: "3", W/"3" or * (any version).
IF_MATCH_PATTERN = r'^(\*|(W/)?"[0-9]{1,9}"|[0-9]{1,9})$'


def etag(version: int) -> str:
    return f'"{version}"'


def parse_if_match(value: str | None) -> int | None:
    """The version an If-Match names; None for `*` or absent."""
    if value is None or value.strip() == "*":
        return None
    cleaned = value.strip().removeprefix("W/").strip('"')
    if not cleaned.isdigit():
        raise ApiProblem(422, "Invalid input", f'header.If-Match: {value!r} is not a version tag like "3".',
                         kind="validation", errors=[{"field": "header.if-match", "message": "not a version tag"}])
    return int(cleaned)


@router.get("/drafts", response_model=list[Draft], responses=responses(401, 403, 422, 500))
def drafts(principal: Viewer, state: State, status: Literal["draft", "scheduled", "published"] | None = None,
           limit: Annotated[int, Query(ge=1, le=500)] = 50) -> list[Draft]:
    """Drafts newest first."""
    return state.studio.content.list_drafts(principal.workspace, status=status, limit=limit)


@router.post("/drafts", response_model=Draft, status_code=201, responses=responses(401, 403, 404, 422, 500))
def create_draft(body: NewDraft, principal: Editor, state: State, response: Response) -> Draft:
    """Write a draft post in the creator's voice (nothing is published)."""
    studio = state.studio
    draft = studio.content.draft_post(principal.workspace, studio.writer.write, platform=body.platform,
                                      topic=body.topic, tone=body.tone, call_to_action=body.call_to_action,
                                      audience=body.audience)
    response.headers["ETag"] = etag(draft.version)
    state.changed(principal.workspace_id, "draft", draft_id=draft.id)
    return draft


@router.get("/drafts/{draft_id}", response_model=Draft, responses=responses(401, 403, 404, 422, 500))
def get_draft(draft_id: DraftId, principal: Viewer, state: State, response: Response) -> Draft:
    """One draft; its ETag is its version (send it back in If-Match to edit)."""
    draft = state.studio.content.get_draft(principal.workspace, draft_id)
    response.headers["ETag"] = etag(draft.version)
    return draft


@router.patch("/drafts/{draft_id}", response_model=Draft,
              responses=responses(401, 403, 404, 409, 422, 500))
def edit_draft(draft_id: DraftId, body: DraftChanges, principal: Editor, state: State, response: Response,
               if_match: Annotated[str, Header(pattern=IF_MATCH_PATTERN,
                                               description='The version you edited (its ETag), e.g. "3".')]
               ) -> Draft:
    """Edit a draft. If someone saved it since you read it, you get 409 with both versions to choose from."""
    expected = parse_if_match(if_match)
    try:
        draft = state.studio.content.update_draft(principal.workspace, draft_id, expected_version=expected,
                                                  text=body.text, title=body.title, topic=body.topic)
    except StaleDraftVersion as stale:
        raise ApiProblem(409, "Conflict", f"Draft {draft_id} changed since you read it (you edited version "
                         f"{stale.expected}, it is now version {stale.current.version}). Choose which to keep and send "
                         f"it again with If-Match: \"{stale.current.version}\".", kind="edit-conflict",
                         current=stale.current.model_dump(mode="json"),
                         yours={"version": stale.expected, **body.model_dump(exclude_none=True)}) from None
    response.headers["ETag"] = etag(draft.version)
    state.changed(principal.workspace_id, "draft", draft_id=draft.id)
    return draft


@router.get("/calendar", response_model=list[CalendarEntry], responses=responses(401, 403, 422, 500))
def calendar(principal: Viewer, state: State, start: IsoDateTime | None = None,
             days: Annotated[int, Query(ge=1, le=366, description="How many days from start.")] = 37
             ) -> list[CalendarEntry]:
    """Scheduled and published posts from `start` (default: 7 days ago) for `days` days."""
    begin: datetime = start or state.studio.now() - timedelta(days=7)
    try:
        finish = begin + timedelta(days=days)
    except OverflowError:  # the last days of year 9999
        finish = datetime.max.replace(tzinfo=UTC)
    return state.studio.content.calendar(principal.workspace, begin, finish)


@router.get("/posts", response_model=list[PostPerformance], responses=responses(401, 403, 422, 500))
def posts(principal: Viewer, state: State, since: IsoDateTime | None = None) -> list[PostPerformance]:
    """Published posts with their engagement, best engagement rate first."""
    return state.studio.content.performance(principal.workspace, since=since)
