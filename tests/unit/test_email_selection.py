"""STUDIO_PROVIDERS=real with STUDIO_SMTP_URL selects the SMTP email provider; anything else the sandbox."""

from __future__ import annotations

from pathlib import Path

import pytest

from creator_studio.errors import ConfigurationError
from creator_studio.providers.email.factory import build_email_provider
from creator_studio.providers.email.sandbox import SandboxEmailProvider
from creator_studio.providers.email.smtp_provider import SmtpEmailProvider
from creator_studio.store.db import Database
from tests.conftest import make_settings

pytestmark = pytest.mark.unit


def test_email_provider_selection(tmp_path: Path) -> None:
    db = Database(f"sqlite:///{tmp_path / 'x.db'}")
    sandbox = SandboxEmailProvider(db)
    assert build_email_provider(make_settings(tmp_path), db, sandbox=sandbox) is sandbox
    assert build_email_provider(make_settings(tmp_path, providers="real"), db, sandbox=sandbox) is sandbox

    real = build_email_provider(make_settings(tmp_path, providers="real", secret_key="s" * 32,
                                              smtp_url="smtp://127.0.0.1:2525?from=maya@maya.test"),
                                db, sandbox=sandbox)
    assert isinstance(real, SmtpEmailProvider)
    assert real.outbox.from_address == "maya@maya.test"
    assert real.links.url("ws", "sub_1").startswith("http://127.0.0.1:8400/email/unsubscribe?")

    with pytest.raises(ConfigurationError, match="STUDIO_SECRET_KEY"):
        build_email_provider(make_settings(tmp_path, providers="real", smtp_url="smtp://h:25?from=a@b.test"),
                             db, sandbox=sandbox)
    with pytest.raises(ConfigurationError, match="sandbox` or `real"):
        build_email_provider(make_settings(tmp_path, providers="live"), db, sandbox=sandbox)
    db.dispose()
