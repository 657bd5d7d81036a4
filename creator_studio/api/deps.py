"""What every route needs: the app's shared state, and who is calling (token → workspace and role)."""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import APIKeyCookie, HTTPAuthorizationCredentials, HTTPBearer

from creator_studio.api.observability import ApiMetrics
from creator_studio.api.problems import ApiProblem
from creator_studio.api.sse import Hub
from creator_studio.api.summary_cache import SummaryCache
from creator_studio.api.tokens import ApiToken, TokenService, role_allows
from creator_studio.errors import NotFound
from creator_studio.runs.runner import Runner
from creator_studio.studio import Studio
from creator_studio.workspaces.service import Workspace

SESSION_COOKIE = "studio_session"
_bearer = HTTPBearer(auto_error=False, description="An API token: `studio tokens create --role editor`.")
_cookie = APIKeyCookie(name=SESSION_COOKIE, auto_error=False, description="The dashboard's login session.")


@dataclass
class ApiState:
    studio: Studio
    runner: Runner
    hub: Hub
    tokens: TokenService
    metrics: ApiMetrics
    summaries: SummaryCache = field(default_factory=SummaryCache)
    # One graph run at a time per process: the checkpointer and the sandbox world are shared.
    run_lock: threading.Lock = field(default_factory=threading.Lock)

    def changed(self, workspace_id: str, what: str, **data: object) -> None:
        """Tell live dashboards that something they show changed (and drop the cached summary)."""
        self.summaries.invalidate(workspace_id)
        self.hub.publish(workspace_id, "changed", {"what": what, **data})


@dataclass(frozen=True)
class Principal:
    token: ApiToken
    workspace: Workspace

    @property
    def workspace_id(self) -> str:
        return self.workspace.id


def get_state(request: Request) -> ApiState:
    state: ApiState = request.app.state.api
    return state


State = Annotated[ApiState, Depends(get_state)]


def token_from(request: Request) -> str | None:
    header = request.headers.get("authorization", "")
    scheme, _, value = header.partition(" ")
    if scheme.lower() == "bearer" and value.strip():
        return value.strip()
    return request.cookies.get(SESSION_COOKIE) or None


def authenticate(state: ApiState, token: str | None) -> Principal:
    if not token:
        raise ApiProblem(401, "Unauthorized", "Send an API token: `Authorization: Bearer <token>` "
                         "(create one with `studio tokens create --role editor`).",
                         headers={"WWW-Authenticate": "Bearer"})
    found = state.tokens.authenticate(token)  # looked up on every request: revocation is immediate
    if found is None:
        raise ApiProblem(401, "Unauthorized", "This token is unknown or revoked: create a new one with "
                         "`studio tokens create`.", headers={"WWW-Authenticate": 'Bearer error="invalid_token"'})
    try:
        workspace = state.studio.workspaces.get(found.workspace_id)
    except NotFound as exc:
        raise ApiProblem(401, "Unauthorized", "This token's workspace no longer exists.",
                         headers={"WWW-Authenticate": 'Bearer error="invalid_token"'}) from exc
    return Principal(token=found, workspace=workspace)


def require(role: str) -> Callable[..., Principal]:
    def dependency(request: Request, state: State,
                   _bearer_credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
                   _cookie_value: Annotated[str | None, Depends(_cookie)]) -> Principal:
        principal = authenticate(state, token_from(request))
        if not role_allows(principal.token.role, role):
            raise ApiProblem(403, "Forbidden", f"This needs the {role} role; your token is a {principal.token.role} "
                             "token. Ask an owner for a token with more rights.")
        return principal

    return dependency


Viewer = Annotated[Principal, Depends(require("viewer"))]
Editor = Annotated[Principal, Depends(require("editor"))]
Owner = Annotated[Principal, Depends(require("owner"))]
