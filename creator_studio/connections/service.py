"""Connected accounts: add, list, remove, read credentials, refresh before expiry, rotate the key."""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta

from pydantic import BaseModel, Field, SecretStr
from sqlalchemy import select

from creator_studio.connections.crypto import TokenCipher
from creator_studio.connections.models import ConnectionRow
from creator_studio.errors import InvalidInput, NotFound
from creator_studio.store.db import Database, utcnow
from creator_studio.tools.types import SocialPlatform

# Refresh a token this long before it expires, so a post never starts with a token about to lapse.
REFRESH_MARGIN = timedelta(minutes=5)


class Credentials(BaseModel):
    """Secrets of one connection. SecretStr: printing or logging a Credentials never shows a token."""

    access_token: SecretStr | None = None
    refresh_token: SecretStr | None = None
    app_password: SecretStr | None = None  # Bluesky: only used when the refresh token itself has expired
    client_id: str | None = None
    client_secret: SecretStr | None = None

    def to_json(self) -> str:
        return json.dumps({k: (v.get_secret_value() if isinstance(v, SecretStr) else v)
                           for k, v in self if v is not None})


class Connection(BaseModel):
    id: int
    workspace_id: str
    platform: SocialPlatform
    handle: str
    account_id: str
    base_url: str | None = None
    scopes: list[str] = Field(default_factory=list)
    expires_at: datetime | None = None
    created_at: datetime
    updated_at: datetime


Refresher = Callable[[Connection, Credentials], tuple[Credentials, datetime | None]]


class ConnectionService:
    def __init__(self, db: Database, cipher_factory: Callable[[], TokenCipher],
                 clock: Callable[[], datetime] = utcnow) -> None:
        self._db = db
        self._cipher_factory = cipher_factory  # lazy: the key file is only created when a token is stored
        self._cipher: TokenCipher | None = None
        self._clock = clock

    def now(self) -> datetime:
        return self._clock()

    @property
    def cipher(self) -> TokenCipher:
        if self._cipher is None:
            self._cipher = self._cipher_factory()
        return self._cipher

    def add(self, workspace_id: str, platform: SocialPlatform, *, handle: str, account_id: str,
            credentials: Credentials, scopes: list[str] | None = None, base_url: str | None = None,
            expires_at: datetime | None = None) -> Connection:
        """Connect an account; connecting the same handle again replaces its tokens and scopes."""
        handle = handle.strip().lstrip("@")
        if not handle:
            raise InvalidInput("A connection needs the account's handle.")
        now = self._clock()
        ciphertext = self.cipher.encrypt(credentials.to_json())
        with self._db.transaction() as session:
            row = session.scalar(select(ConnectionRow).where(
                ConnectionRow.workspace_id == workspace_id, ConnectionRow.platform == platform,
                ConnectionRow.handle == handle))
            if row is None:
                row = ConnectionRow(workspace_id=workspace_id, platform=platform, handle=handle, created_at=now)
                session.add(row)
            row.account_id, row.base_url, row.scopes = account_id, base_url, list(scopes or [])
            row.secrets_ciphertext, row.expires_at, row.updated_at = ciphertext, expires_at, now
            session.flush()
            return _connection(row)

    def list(self, workspace_id: str, platform: SocialPlatform | None = None) -> list[Connection]:
        with self._db.transaction() as session:
            query = select(ConnectionRow).where(ConnectionRow.workspace_id == workspace_id)
            if platform:
                query = query.where(ConnectionRow.platform == platform)
            return [_connection(r) for r in session.scalars(query.order_by(ConnectionRow.id))]

    def get(self, workspace_id: str, platform: SocialPlatform, handle: str | None = None) -> Connection:
        """The account to act as: the named one, else the first connected for the platform."""
        rows = self.list(workspace_id, platform)
        if not rows:
            raise NotFound(f"No {platform} account is connected: run `studio connect {platform}` first.")
        if handle is None:
            return rows[0]
        wanted = handle.strip().lstrip("@").lower()
        for row in rows:
            if row.handle.lower() == wanted:
                return row
        raise NotFound(f"No {platform} account {handle!r}; connected: {', '.join(r.handle for r in rows)}.")

    def remove(self, workspace_id: str, platform: SocialPlatform, handle: str) -> Connection:
        connection = self.get(workspace_id, platform, handle)
        with self._db.transaction() as session:
            row = session.get(ConnectionRow, connection.id)
            if row is not None:
                session.delete(row)
        return connection

    def credentials(self, connection: Connection) -> Credentials:
        with self._db.transaction() as session:
            row = session.get(ConnectionRow, connection.id)
            if row is None:
                raise NotFound(f"The {connection.platform} account {connection.handle} was disconnected.")
            return Credentials.model_validate_json(self.cipher.decrypt(row.secrets_ciphertext))

    def update_credentials(self, connection: Connection, credentials: Credentials,
                           expires_at: datetime | None) -> Connection:
        with self._db.transaction() as session:
            row = session.get(ConnectionRow, connection.id)
            if row is None:
                raise NotFound(f"The {connection.platform} account {connection.handle} was disconnected.")
            row.secrets_ciphertext = self.cipher.encrypt(credentials.to_json())
            row.expires_at, row.updated_at = expires_at, self._clock()
            session.flush()
            return _connection(row)

    def fresh_credentials(self, connection: Connection, refresher: Refresher) -> tuple[Connection, Credentials]:
        """Credentials valid for at least REFRESH_MARGIN: refreshed (and stored) first when they would lapse."""
        credentials = self.credentials(connection)
        if connection.expires_at is None or connection.expires_at - self._clock() > REFRESH_MARGIN:
            return connection, credentials
        credentials, expires_at = refresher(connection, credentials)
        return self.update_credentials(connection, credentials, expires_at), credentials

    def rotate_key(self, new_keys: Sequence[str], write_keys: Callable[[Sequence[str]], None],
                   also_reencrypt: Sequence[Callable[[TokenCipher], int]] = ()) -> int:
        """Re-encrypt every token with new_keys[0] (old keys still decrypt), then keep only the new key.

        The key file is written with both keys before any row changes and with the new key only after all
        rows are re-encrypted, so a crash at any point leaves every token readable. Other modules that encrypt
        with the same key (webhook signing secrets) re-encrypt theirs through `also_reencrypt`, while both keys
        still decrypt.
        """
        both = TokenCipher([*new_keys, *self.cipher.keys])
        new = [*new_keys]
        write_keys(both.keys)
        count = 0
        with self._db.transaction() as session:
            for row in session.scalars(select(ConnectionRow)):
                row.secrets_ciphertext = both.rotate(row.secrets_ciphertext)
                count += 1
        for reencrypt in also_reencrypt:
            reencrypt(both)
        write_keys(new)
        self._cipher = TokenCipher(new)
        return count


def _connection(row: ConnectionRow) -> Connection:
    return Connection.model_validate(row, from_attributes=True)
