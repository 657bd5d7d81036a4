"""Which email provider a studio uses is configuration: with `STUDIO_PROVIDERS=real` and `STUDIO_SMTP_URL`,
mail goes out through that server (the SMTP provider); otherwise the sandbox world keeps it."""

from __future__ import annotations

import hashlib

from creator_studio.errors import ConfigurationError
from creator_studio.providers.email.base import EmailProvider
from creator_studio.providers.email.message import UnsubscribeLinks, domain_of
from creator_studio.providers.email.outbox import Outbox
from creator_studio.providers.email.sandbox import SandboxEmailProvider
from creator_studio.providers.email.smtp import SmtpConfig, SmtpSender
from creator_studio.providers.email.smtp_provider import SmtpEmailProvider
from creator_studio.settings import Settings
from creator_studio.store.db import Database


def public_url(settings: Settings) -> str:
    """Where links in emails point (unsubscribe, confirm): the studio's HTTP API."""
    return f"http://{settings.api_host}:{settings.api_port}"


def build_email_provider(settings: Settings, db: Database, *, sandbox: SandboxEmailProvider) -> EmailProvider:
    if settings.providers == "sandbox":
        return sandbox
    if settings.providers != "real":
        raise ConfigurationError(f"STUDIO_PROVIDERS must be `sandbox` or `real`, not {settings.providers!r}.")
    if not settings.smtp_url:
        return sandbox  # real platforms, but no mail server configured: email stays in the sandbox world
    if settings.secret_key is None:
        raise ConfigurationError("Sending real email needs STUDIO_SECRET_KEY (it signs the unsubscribe links).")
    config = SmtpConfig.from_url(settings.smtp_url)
    # A key of its own for unsubscribe links, derived from the secret key (rotating that key rotates links).
    link_key = hashlib.sha256(b"unsubscribe-links:" + settings.secret_key.get_secret_value().encode()).digest()
    links = UnsubscribeLinks(link_key, public_url(settings), mailto_domain=domain_of(config.from_address))
    return SmtpEmailProvider(db, Outbox(db, SmtpSender(config)), links)
