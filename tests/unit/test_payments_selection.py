"""STUDIO_PROVIDERS=real with STUDIO_STRIPE_API_KEY selects the Stripe provider; anything else the sandbox."""

from __future__ import annotations

from pathlib import Path

import pytest

from creator_studio.errors import ConfigurationError
from creator_studio.providers.payments.factory import build_payments_provider
from creator_studio.providers.payments.sandbox import SandboxPaymentsProvider
from creator_studio.providers.payments.stripe import StripePaymentsProvider
from creator_studio.store.db import Database
from tests.conftest import make_settings

pytestmark = pytest.mark.unit


def test_payments_provider_selection(tmp_path: Path) -> None:
    db = Database(f"sqlite:///{tmp_path / 'x.db'}")
    sandbox = SandboxPaymentsProvider(db)
    assert build_payments_provider(make_settings(tmp_path), sandbox=sandbox) is sandbox
    assert build_payments_provider(make_settings(tmp_path, providers="real"), sandbox=sandbox) is sandbox
    real = build_payments_provider(make_settings(tmp_path, providers="real", stripe_api_key="sk_test_abc",
                                                 stripe_api_base="http://127.0.0.1:8420"), sandbox=sandbox)
    assert isinstance(real, StripePaymentsProvider) and real.test_mode
    with pytest.raises(ConfigurationError, match="secret key"):
        build_payments_provider(make_settings(tmp_path, providers="real", stripe_api_key="pk_test_abc"),
                                sandbox=sandbox)
    db.dispose()
