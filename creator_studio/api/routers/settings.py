"""Workspace settings (last write wins: they are small and rarely edited at once) and API tokens."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path
from pydantic import BaseModel, ConfigDict, Field

from creator_studio.api.deps import Owner, State, Viewer
from creator_studio.api.params import TimeZoneName
from creator_studio.api.problems import responses
from creator_studio.api.tokens import ApiToken, CreatedToken, Role
from creator_studio.errors import InvalidInput
from creator_studio.workspaces.service import BrandVoice, Workspace, validate_timezone

router = APIRouter(prefix="/api", tags=["settings"])
TokenId = Annotated[str, Path(min_length=1, max_length=32, description="The token's id (its public prefix).")]


class SettingsChanges(BaseModel):
    model_config = ConfigDict(extra="forbid")
    timezone: TimeZoneName | None = Field(default=None, description="IANA zone, e.g. Europe/Berlin.")
    brand_voice: BrandVoice | None = None
    auto_approve: list[str] | None = Field(default=None, max_length=50, description="Tools approved by policy.")


class NewToken(BaseModel):
    model_config = ConfigDict(extra="forbid")
    role: Role
    name: str = Field(default="api", min_length=1, max_length=120)


class RoleChange(BaseModel):
    model_config = ConfigDict(extra="forbid")
    role: Role


@router.get("/settings", response_model=Workspace, responses=responses(401, 403, 500))
def get_settings(principal: Viewer, state: State) -> Workspace:
    return state.studio.workspaces.get(principal.workspace_id)


@router.patch("/settings", response_model=Workspace, responses=responses(401, 403, 422, 500))
def change_settings(body: SettingsChanges, principal: Owner, state: State) -> Workspace:
    """Change the time zone, brand voice or auto-approved tools. The last write wins."""
    if body.timezone is not None:
        try:
            validate_timezone(body.timezone)
        except InvalidInput as exc:
            raise InvalidInput(f"timezone: {exc.message}") from exc
    updated = state.studio.workspaces.update(principal.workspace_id, timezone=body.timezone,
                                             brand_voice=body.brand_voice, auto_approve=body.auto_approve)
    state.changed(principal.workspace_id, "settings")  # the time zone moves "this month" in the metrics
    return updated


@router.get("/tokens", response_model=list[ApiToken], tags=["tokens"], responses=responses(401, 403, 500))
def list_tokens(principal: Owner, state: State) -> list[ApiToken]:
    return state.tokens.list(principal.workspace_id)


@router.post("/tokens", response_model=CreatedToken, status_code=201, tags=["tokens"],
             responses=responses(401, 403, 422, 500))
def create_token(body: NewToken, principal: Owner, state: State) -> CreatedToken:
    """A new token for this workspace. The token itself is shown only in this response."""
    return state.tokens.create(principal.workspace_id, role=body.role, name=body.name)


@router.patch("/tokens/{token_id}", response_model=ApiToken, tags=["tokens"],
              responses=responses(401, 403, 404, 422, 500))
def change_role(token_id: TokenId, body: RoleChange, principal: Owner, state: State) -> ApiToken:
    """Takes effect on the token's next request."""
    return state.tokens.set_role(principal.workspace_id, token_id, body.role)


@router.delete("/tokens/{token_id}", response_model=ApiToken, tags=["tokens"],
               responses=responses(401, 403, 404, 422, 500))
def revoke_token(token_id: TokenId, principal: Owner, state: State) -> ApiToken:
    """Revoked at once: the token's next request gets 401."""
    return state.tokens.revoke(principal.workspace_id, token_id)
