"""Builds the adapter for a connected account, wiring token refresh back into the encrypted store."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

import httpx
from pydantic import SecretStr

from creator_studio.connections import oauth
from creator_studio.connections.service import Connection, ConnectionService, Credentials
from creator_studio.errors import ConfigurationError
from creator_studio.providers.reliability import BudgetBook, ReauthorizeRequired
from creator_studio.providers.social.adapter import PlatformAdapter
from creator_studio.providers.social.platforms.bluesky import BlueskyAdapter, BlueskySession
from creator_studio.providers.social.platforms.linkedin import LinkedInAdapter
from creator_studio.providers.social.platforms.mastodon import MastodonAdapter
from creator_studio.providers.social.platforms.threads import ThreadsAdapter
from creator_studio.providers.social.platforms.x import XAdapter


@dataclass
class _TokenState:
    connection: Connection
    credentials: Credentials


def _secret(value: SecretStr | None) -> str:
    return value.get_secret_value() if value else ""


class AdapterFactory:
    def __init__(self, connections: ConnectionService, *, budgets: BudgetBook | None = None,
                 http: Callable[[], httpx.Client] = lambda: httpx.Client(timeout=30),
                 clock: Callable[[], datetime] | None = None) -> None:
        self._connections = connections
        self._budgets = budgets or BudgetBook()
        self._http = http
        self._clock = clock
        self._cache: dict[int, tuple[datetime, PlatformAdapter]] = {}

    def _now(self) -> datetime:
        from creator_studio.store.db import utcnow

        return self._clock() if self._clock else utcnow()

    def _oauth_refresh(self, connection: Connection, credentials: Credentials) -> tuple[Credentials, datetime | None]:
        with self._http() as http:
            grant = oauth.refresh(connection.platform, credentials, http=http, now=self._now())
        return grant.credentials, grant.expires_at

    def adapter(self, connection: Connection) -> PlatformAdapter:
        cached = self._cache.get(connection.id)
        if cached and cached[0] == connection.updated_at:
            return cached[1]
        connection, credentials = self._connections.fresh_credentials(connection, self._oauth_refresh)
        state = _TokenState(connection, credentials)

        def token() -> str:
            return _secret(state.credentials.access_token)

        def force_refresh() -> bool:
            """Called on a 401: refresh now (the token was revoked or expired early) and store the new one."""
            try:
                fresh, expires = self._oauth_refresh(state.connection, state.credentials)
            except ReauthorizeRequired:
                return False
            state.connection = self._connections.update_credentials(state.connection, fresh, expires)
            state.credentials = fresh
            return True

        adapter = self._build(connection, credentials, token, force_refresh)
        self._cache[connection.id] = (connection.updated_at, adapter)
        return adapter

    def _build(self, connection: Connection, credentials: Credentials, token: Callable[[], str],
               force_refresh: Callable[[], bool]) -> PlatformAdapter:
        platform, budgets = connection.platform, self._budgets
        if platform == "bluesky":
            if not connection.base_url:
                raise ConfigurationError("The Bluesky connection has no PDS URL: run `studio connect bluesky` again.")

            def persist(session: BlueskySession) -> None:
                renewed = credentials.model_copy(update={"access_token": SecretStr(session.access_jwt),
                                                         "refresh_token": SecretStr(session.refresh_jwt)})
                self._connections.update_credentials(connection, renewed, None)

            session = BlueskySession(did=connection.account_id, handle=connection.handle,
                                     access_jwt=token(), refresh_jwt=_secret(credentials.refresh_token))
            return BlueskyAdapter(connection.base_url, session, app_password=_secret(credentials.app_password) or None,
                                  on_session=persist, budgets=budgets)
        if platform == "mastodon":
            if not connection.base_url:
                raise ConfigurationError("The Mastodon connection has no instance URL: run `studio connect mastodon`.")
            return MastodonAdapter(connection.base_url, token(), handle=connection.handle,
                                   account_id=connection.account_id, budgets=budgets)
        if platform == "x":
            return XAdapter(token, handle=connection.handle, user_id=connection.account_id, refresh=force_refresh,
                            budgets=budgets)
        if platform == "linkedin":
            return LinkedInAdapter(token, handle=connection.handle, person_urn=connection.account_id,
                                   refresh=force_refresh, budgets=budgets)
        return ThreadsAdapter(token, handle=connection.handle, user_id=connection.account_id, refresh=force_refresh,
                              budgets=budgets)
