"""Which social provider a studio uses is configuration: `STUDIO_PROVIDERS=real` dispatches to the connected
accounts' platform adapters; anything else keeps the sandbox world."""

from __future__ import annotations

from creator_studio.connections.crypto import cipher_for
from creator_studio.connections.service import ConnectionService
from creator_studio.errors import ConfigurationError
from creator_studio.providers.social.real import RealSocialProvider
from creator_studio.providers.social.sandbox import SandboxSocialProvider
from creator_studio.settings import Settings
from creator_studio.store.db import Database


def connection_service(settings: Settings, db: Database) -> ConnectionService:
    return ConnectionService(db, lambda: cipher_for(settings))


def build_social_provider(settings: Settings, db: Database, *, sandbox: SandboxSocialProvider,
                          connections: ConnectionService) -> SandboxSocialProvider | RealSocialProvider:
    if settings.providers == "real":
        return RealSocialProvider(db, connections)
    if settings.providers != "sandbox":
        raise ConfigurationError(f"STUDIO_PROVIDERS must be `sandbox` or `real`, not {settings.providers!r}.")
    return sandbox
