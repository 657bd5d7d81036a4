"""API tokens: one per integration or person, scoped to a workspace, with a role.

A token reads `cs_<id>_<secret>`. Only the sha256 of the whole token is stored, so a leaked database does
not leak tokens; the id lets us find the row without scanning. Every request looks the token up again (no
cache), so a revocation or a role change applies to the very next request.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from datetime import datetime
from typing import Literal, get_args

from pydantic import BaseModel
from sqlalchemy import select
from sqlalchemy.orm import Session

from creator_studio.api.models import ApiTokenRow
from creator_studio.errors import InvalidInput, NotFound
from creator_studio.store.db import Database, utcnow

Role = Literal["owner", "editor", "viewer"]
ROLES: tuple[str, ...] = get_args(Role)
# What each role may do, lowest first: a role may do everything the roles before it may.
_RANK = {"viewer": 0, "editor": 1, "owner": 2}
TOKEN_PREFIX = "cs"


class ApiToken(BaseModel):
    id: str
    workspace_id: str
    name: str
    role: Role
    created_at: datetime
    revoked_at: datetime | None


class CreatedToken(BaseModel):
    token: str  # shown once; only its hash is kept
    info: ApiToken


def role_allows(role: str, needed: str) -> bool:
    return _RANK.get(role, -1) >= _RANK[needed]


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


class TokenService:
    def __init__(self, db: Database) -> None:
        self._db = db

    def create(self, workspace_id: str, *, role: str, name: str = "api") -> CreatedToken:
        if role not in ROLES:
            raise InvalidInput(f"role: {role!r} is not one of {', '.join(ROLES)}.")
        name = " ".join(name.split()) or "api"
        token_id = secrets.token_hex(6)
        token = f"{TOKEN_PREFIX}_{token_id}_{secrets.token_urlsafe(24)}"
        with self._db.transaction() as session:
            row = ApiTokenRow(id=token_id, workspace_id=workspace_id, name=name[:120], role=role,
                              secret_hash=hash_token(token), created_at=utcnow())
            session.add(row)
            session.flush()
            return CreatedToken(token=token, info=_token(row))

    def authenticate(self, token: str) -> ApiToken | None:
        """The live token for this secret, or None (unknown, malformed or revoked)."""
        parts = token.strip().split("_", 2)
        if len(parts) != 3 or parts[0] != TOKEN_PREFIX:
            return None
        with self._db.transaction() as session:
            row = session.get(ApiTokenRow, parts[1])
            if row is None or row.revoked_at is not None:
                return None
            if not hmac.compare_digest(row.secret_hash, hash_token(token.strip())):
                return None
            return _token(row)

    def list(self, workspace_id: str, *, include_revoked: bool = False) -> list[ApiToken]:
        with self._db.transaction() as session:
            query = select(ApiTokenRow).where(ApiTokenRow.workspace_id == workspace_id)
            if not include_revoked:
                query = query.where(ApiTokenRow.revoked_at.is_(None))
            return [_token(r) for r in session.scalars(query.order_by(ApiTokenRow.created_at)).all()]

    def revoke(self, workspace_id: str, token_id: str) -> ApiToken:
        with self._db.transaction() as session:
            row = self._row(session, workspace_id, token_id)
            if row.revoked_at is None:
                row.revoked_at = utcnow()
            session.flush()
            return _token(row)

    def set_role(self, workspace_id: str, token_id: str, role: str) -> ApiToken:
        if role not in ROLES:
            raise InvalidInput(f"role: {role!r} is not one of {', '.join(ROLES)}.")
        with self._db.transaction() as session:
            row = self._row(session, workspace_id, token_id)
            if row.revoked_at is not None:
                raise InvalidInput(f"Token {token_id} is revoked; create a new one instead.")
            row.role = role
            session.flush()
            return _token(row)

    @staticmethod
    def _row(session: Session, workspace_id: str, token_id: str) -> ApiTokenRow:
        row = session.get(ApiTokenRow, token_id)
        if row is None or row.workspace_id != workspace_id:
            raise NotFound(f"No token {token_id!r} in this workspace: `studio tokens list` shows them.")
        return row


def _token(row: ApiTokenRow) -> ApiToken:
    return ApiToken.model_validate(row, from_attributes=True)
