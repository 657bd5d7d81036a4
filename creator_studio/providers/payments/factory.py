"""Which payments provider a studio uses is configuration: with `STUDIO_PROVIDERS=real` and
`STUDIO_STRIPE_API_KEY`, Stripe (at `STUDIO_STRIPE_API_BASE` if set); otherwise the sandbox world."""

from __future__ import annotations

from creator_studio.errors import ConfigurationError
from creator_studio.providers.payments.base import PaymentsProvider
from creator_studio.providers.payments.sandbox import SandboxPaymentsProvider
from creator_studio.providers.payments.stripe import StripePaymentsProvider, make_client
from creator_studio.settings import Settings


def build_payments_provider(settings: Settings, *, sandbox: SandboxPaymentsProvider) -> PaymentsProvider:
    if settings.providers == "sandbox":
        return sandbox
    if settings.providers != "real":
        raise ConfigurationError(f"STUDIO_PROVIDERS must be `sandbox` or `real`, not {settings.providers!r}.")
    if settings.stripe_api_key is None:
        return sandbox  # real platforms, but no Stripe account configured
    key = settings.stripe_api_key.get_secret_value()
    client = make_client(key, api_base=settings.stripe_api_base)
    return StripePaymentsProvider(client, test_mode=key.startswith(("sk_test_", "rk_test_")))
