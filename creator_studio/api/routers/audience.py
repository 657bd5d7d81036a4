"""Audience Hub over HTTP: comments, leads and segments (read-only; replies go through approvals)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query

from creator_studio.api.deps import State, Viewer
from creator_studio.api.params import IsoDateTime
from creator_studio.api.problems import responses
from creator_studio.engagement.service import CommentView, Lead, Segment
from creator_studio.tools.types import SocialPlatform

router = APIRouter(prefix="/api/audience", tags=["audience"])


@router.get("/comments", response_model=list[CommentView], responses=responses(401, 403, 422, 500))
def comments(principal: Viewer, state: State, platform: SocialPlatform | None = None,
             since: IsoDateTime | None = None, unreplied_only: bool = False,
             limit: Annotated[int, Query(ge=1, le=500)] = 100) -> list[CommentView]:
    """Comments with their kind and sentiment, newest first."""
    found = state.studio.engagement.comments(principal.workspace, platform=platform, since=since,
                                             unreplied_only=unreplied_only)
    return found[:limit]


@router.get("/leads", response_model=list[Lead], responses=responses(401, 403, 422, 500))
def leads(principal: Viewer, state: State, min_score: Annotated[int, Query(ge=0, le=100)] = 50) -> list[Lead]:
    """People most likely to buy, scored from their engagement, best first (nothing is saved)."""
    scored = state.studio.engagement.score_leads(principal.workspace, now=state.studio.now())
    return sorted((lead for lead in scored.values() if lead.score >= min_score), key=lambda x: -x.score)


@router.get("/segments", response_model=list[Segment], responses=responses(401, 403, 500))
def segments(principal: Viewer, state: State) -> list[Segment]:
    return state.studio.engagement.segments(principal.workspace)


@router.get("/segments/{name}", response_model=Segment, responses=responses(401, 403, 404, 422, 500))
def segment(name: Annotated[str, Path(min_length=1, max_length=100)], principal: Viewer, state: State) -> Segment:
    return state.studio.engagement.get_segment(principal.workspace, name)
