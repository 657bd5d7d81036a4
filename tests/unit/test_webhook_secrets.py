"""Outbound webhook signing secrets: encrypted at rest with the connections' cipher, shown once, decrypted only
to sign; plaintext rows from before migration 0010 are encrypted on first use; key rotation re-encrypts them."""

from __future__ import annotations

from datetime import UTC, datetime

import httpx
import pytest
from cryptography.fernet import Fernet

from creator_studio.connections.crypto import TokenCipher
from creator_studio.events.models import WebhookSubscriptionRow
from creator_studio.events.schemas import Event
from creator_studio.events.webhooks import WebhookService
from creator_studio.store.db import Database

pytestmark = pytest.mark.unit

SECRET = "whsec_unit_plaintext_secret"


def service(db: Database, key: str, requests: list[httpx.Request] | None = None) -> WebhookService:
    sent = requests if requests is not None else []

    def answer(request: httpx.Request) -> httpx.Response:
        sent.append(request)
        return httpx.Response(200)

    return WebhookService(db, attempts=1, client=httpx.Client(transport=httpx.MockTransport(answer)),
                          cipher=lambda: TokenCipher([key]))


def row(db: Database, subscription_id: str) -> WebhookSubscriptionRow:
    with db.transaction() as session:
        found = session.get(WebhookSubscriptionRow, subscription_id)
        assert found is not None
        return found


def event() -> Event:
    return Event.model_validate({"type": "revenue.purchase_completed", "workspace_id": "ws", "source": "stripe",
                                 "data": {"order_id": "cs_1", "amount_cents": 100, "currency": "usd"}})


def test_the_secret_is_shown_once_and_stored_encrypted(db: Database) -> None:
    key = Fernet.generate_key().decode()
    hooks = service(db, key)
    created = hooks.add("ws", "https://example.com/hook", ["revenue.*"], secret=SECRET)
    assert created.secret == SECRET and SECRET not in repr(created)
    assert "secret" not in hooks.get(created.id).model_dump()
    assert all("secret" not in s.model_dump() for s in hooks.subscriptions("ws"))
    stored = row(db, created.id)
    assert stored.legacy_secret is None and stored.secret_ciphertext is not None
    assert SECRET not in stored.secret_ciphertext
    assert Fernet(key.encode()).decrypt(stored.secret_ciphertext.encode()).decode() == SECRET


def test_a_plaintext_secret_from_before_0010_is_encrypted_when_first_read(db: Database) -> None:
    with db.transaction() as session:
        session.add(WebhookSubscriptionRow(id="wh_old", workspace_id="ws", url="https://example.com/hook",
                                           event_types=["*"], legacy_secret=SECRET, secret_ciphertext=None,
                                           active=True, description=None, created_at=datetime.now(UTC)))
    key = Fernet.generate_key().decode()
    requests: list[httpx.Request] = []
    hooks = service(db, key, requests)
    assert [s.id for s in hooks.subscriptions("ws")] == ["wh_old"]
    stored = row(db, "wh_old")
    assert stored.legacy_secret is None
    assert Fernet(key.encode()).decrypt((stored.secret_ciphertext or "").encode()).decode() == SECRET
    hooks.handle(event())
    assert len(requests) == 1  # still delivered, signed with the same secret
    assert requests[0].headers["Studio-Signature"].startswith("t=")


def test_an_undecryptable_secret_is_a_failed_delivery_naming_the_fix(db: Database) -> None:
    created = service(db, Fernet.generate_key().decode()).add("ws", "https://example.com/hook", ["*"])
    requests: list[httpx.Request] = []
    other_key = service(db, Fernet.generate_key().decode(), requests)  # the key file was replaced
    delivery = other_key.deliver(other_key.get(created.id), event())
    assert delivery.status == "failed" and "cannot be decrypted" in (delivery.error or "")
    assert "remove the webhook" in (delivery.error or "") and requests == []  # nothing sent unsigned


def test_key_rotation_reencrypts_secrets_with_the_new_key(db: Database) -> None:
    old, new = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    created = service(db, old).add("ws", "https://example.com/hook", ["*"], secret=SECRET)
    assert service(db, old).reencrypt_secrets(TokenCipher([new, old])) == 1
    ciphertext = row(db, created.id).secret_ciphertext or ""
    assert TokenCipher([new]).decrypt(ciphertext) == SECRET  # the old key can be retired now
