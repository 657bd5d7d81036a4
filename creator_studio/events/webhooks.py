"""Outbound webhooks: POST each matching event, signed, retried with backoff, every attempt logged.

The signature follows Stripe's scheme so receivers can reuse their code: the header
`Studio-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<body>" with the subscription's secret>`.
A receiver recomputes it (`verify_signature`) and rejects old timestamps to stop replays.

Signing secrets are stored encrypted with the connections' key (`TokenCipher`, the same Fernet key and
rotation as OAuth tokens), decrypted only to sign a delivery; the secret is returned once, by `add`, and
never by `get`/`subscriptions` or in a repr or a log line.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import secrets
import threading
import time
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any

import httpx
from cryptography.fernet import Fernet
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import select, text
from sqlalchemy.exc import OperationalError
from tenacity import Retrying, retry_if_exception_type, stop_after_attempt, wait_exponential

from creator_studio.connections.crypto import TokenCipher
from creator_studio.errors import ConfigurationError, InvalidInput, NotFound
from creator_studio.events.models import WebhookDeliveryRow, WebhookSubscriptionRow
from creator_studio.events.schemas import Event, check_pattern, matches
from creator_studio.store.db import Database, new_id, utcnow

logger = logging.getLogger(__name__)
SIGNATURE_HEADER = "Studio-Signature"
DEFAULT_TOLERANCE_S = 300


def sign(body: bytes, secret: str, timestamp: int) -> str:
    digest = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={digest}"


def verify_signature(body: bytes, header: str, secret: str, *, now: float | None = None,
                     tolerance_s: int = DEFAULT_TOLERANCE_S) -> bool:
    """What a receiver does: the header parses, one v1 matches, and the timestamp is recent."""
    parts: dict[str, list[str]] = {}
    for item in header.split(","):
        key, _, value = item.strip().partition("=")
        parts.setdefault(key, []).append(value)
    try:
        timestamp = int(parts["t"][0])
    except (KeyError, ValueError):
        return False
    if abs((now if now is not None else time.time()) - timestamp) > tolerance_s:
        return False
    expected = sign(body, secret, timestamp).split("v1=", 1)[1]
    return any(hmac.compare_digest(expected, candidate) for candidate in parts.get("v1", []))


class WebhookSubscription(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    workspace_id: str
    url: str
    event_types: list[str]
    active: bool
    description: str | None
    created_at: datetime


class NewWebhook(WebhookSubscription):
    """What `add` returns: the subscription and, this one time, its signing secret (kept out of reprs)."""

    secret: str = Field(repr=False)


class WebhookDelivery(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    subscription_id: str
    workspace_id: str
    event_id: str
    event_type: str
    status: str
    attempts: int
    response_status: int | None
    error: str | None
    body: str
    created_at: datetime


class DeliveryFailed(Exception):
    """A non-2xx answer: worth another attempt."""

    def __init__(self, status: int) -> None:
        super().__init__(f"the receiver answered HTTP {status}")
        self.status = status


class WebhookService:
    def __init__(self, db: Database, *, clock: Callable[[], datetime] = utcnow, attempts: int = 4,
                 backoff_s: float = 0.5, max_backoff_s: float = 8.0, timeout_s: float = 5.0,
                 cache_ttl_s: float = 5.0, client: httpx.Client | None = None,
                 cipher: Callable[[], TokenCipher] | None = None) -> None:
        self._db = db
        self._cipher_factory = cipher
        self._cipher: TokenCipher | None = None
        self._cipher_lock = threading.Lock()
        self._clock = clock
        self.attempts = attempts
        self.backoff_s = backoff_s
        self.max_backoff_s = max_backoff_s
        self._client = client or httpx.Client(timeout=timeout_s, follow_redirects=False)
        self._cache_ttl_s = cache_ttl_s
        self._cache: tuple[float, list[WebhookSubscription]] | None = None
        self._cache_lock = threading.Lock()

    # -- secrets --------------------------------------------------------------------------------------------
    def use_cipher(self, factory: Callable[[], TokenCipher]) -> None:
        """Encrypt secrets with this cipher (the Studio passes the connections' one: `cipher_for(settings)`)."""
        with self._cipher_lock:
            self._cipher_factory, self._cipher = factory, None

    def cipher(self) -> TokenCipher:
        """The cipher, made on first use (like connections, the key file is only created when needed). Plaintext
        secrets left from before migration 0010 are encrypted then, once."""
        with self._cipher_lock:
            if self._cipher is None:
                if self._cipher_factory is None:
                    # A bare EventService (tests, benchmarks) has no settings, so no key: one for this process.
                    # Its secrets can't be read by another process; the Studio always configures the real key.
                    self._cipher = TokenCipher([Fernet.generate_key().decode()])
                else:
                    self._cipher = self._cipher_factory()
                    self.encrypt_legacy_secrets(self._cipher)
            return self._cipher

    def encrypt_legacy_secrets(self, cipher: TokenCipher) -> int:
        """Encrypt plaintext secrets stored before migration 0010 and clear them; returns how many."""
        with self._db.transaction() as session:
            rows = list(session.scalars(select(WebhookSubscriptionRow)
                                        .where(WebhookSubscriptionRow.legacy_secret.is_not(None))))
            if not rows:
                return 0
            for row in rows:
                row.secret_ciphertext = cipher.encrypt(row.legacy_secret or "")
                row.legacy_secret = None
        if self._db.engine.dialect.name == "sqlite":
            # An updated row's old bytes stay in the file (free space, old pages, the WAL), and so would copies
            # left by migration 0010's table rebuild: rewrite the file once, so no plaintext is left at rest.
            try:
                with self._db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
                    connection.execute(text("VACUUM"))
                    connection.execute(text("PRAGMA wal_checkpoint(TRUNCATE)"))
            except OperationalError as exc:  # busy past the timeout: the secrets are encrypted all the same
                logger.warning("webhook secrets encrypted, but VACUUM failed (%s): run `sqlite3 studio.db VACUUM` to "
                            "remove their old plaintext copies from the file", exc)
        self._cache = None
        return len(rows)

    def reencrypt_secrets(self, cipher: TokenCipher) -> int:
        """Re-encrypt every secret with `cipher`'s first key (`TokenCipher.rotate`): to be run by key rotation,
        with a cipher holding the new and the old keys, before the old key is retired."""
        count = 0
        with self._db.transaction() as session:
            for row in session.scalars(select(WebhookSubscriptionRow)
                                       .where(WebhookSubscriptionRow.secret_ciphertext.is_not(None))):
                row.secret_ciphertext = cipher.rotate(row.secret_ciphertext or "")
                count += 1
        with self._cipher_lock:
            self._cipher = cipher
        return count

    def _signing_secret(self, subscription_id: str) -> str:
        """Decrypted here and only here, right before signing."""
        cipher = self.cipher()
        with self._db.transaction() as session:
            row = session.get(WebhookSubscriptionRow, subscription_id)
            if row is None:
                raise NotFound(f"no webhook {subscription_id!r}; `studio webhooks list` shows them")
            ciphertext, legacy = row.secret_ciphertext, row.legacy_secret
        if ciphertext is None:
            if legacy is None:
                raise ConfigurationError(f"webhook {subscription_id} has no signing secret: remove and add it again")
            return legacy  # only without a configured key (a bare EventService); see `cipher`
        try:
            return cipher.decrypt(ciphertext)
        except ConfigurationError as exc:
            raise ConfigurationError(
                f"The signing secret of webhook {subscription_id} cannot be decrypted with the current key "
                "(STUDIO_SECRET_KEY or home/secret.key changed?): restore the key, or remove the webhook and "
                "add it again.") from exc

    # -- subscriptions --------------------------------------------------------------------------------------
    def add(self, workspace_id: str, url: str, event_types: Sequence[str], *, secret: str | None = None,
            description: str | None = None) -> NewWebhook:
        parsed = httpx.URL(url)
        if parsed.scheme not in ("http", "https") or not parsed.host:
            raise InvalidInput(f"webhook URL {url!r} must be an absolute http(s) URL, e.g. https://example.com/hook")
        if not event_types:
            raise InvalidInput("a webhook needs at least one event type or pattern, e.g. 'revenue.*' or '*'")
        try:
            patterns = [check_pattern(pattern) for pattern in event_types]
        except ValueError as exc:
            raise InvalidInput(str(exc)) from None
        plaintext = secret or "whsec_" + secrets.token_hex(24)
        row = WebhookSubscriptionRow(id=new_id("wh"), workspace_id=workspace_id, url=url, event_types=patterns,
                                     secret_ciphertext=self.cipher().encrypt(plaintext), legacy_secret=None,
                                     active=True, description=description, created_at=self._clock())
        with self._db.transaction() as session:
            session.add(row)
        self._cache = None
        return NewWebhook(**WebhookSubscription.model_validate(row).model_dump(), secret=plaintext)

    def remove(self, subscription_id: str) -> None:
        with self._db.transaction() as session:
            row = session.get(WebhookSubscriptionRow, subscription_id)
            if row is None:
                raise NotFound(f"no webhook {subscription_id!r}; `studio webhooks list` shows them")
            session.delete(row)
        self._cache = None

    def subscriptions(self, workspace_id: str | None = None) -> list[WebhookSubscription]:
        query = select(WebhookSubscriptionRow).order_by(WebhookSubscriptionRow.created_at)
        if workspace_id is not None:
            query = query.where(WebhookSubscriptionRow.workspace_id == workspace_id)
        with self._db.transaction() as session:
            rows = list(session.scalars(query))
            found = [WebhookSubscription.model_validate(row) for row in rows]
        self._encrypt_legacy_if_any(rows)
        return found

    def get(self, subscription_id: str) -> WebhookSubscription:
        with self._db.transaction() as session:
            row = session.get(WebhookSubscriptionRow, subscription_id)
            if row is None:
                raise NotFound(f"no webhook {subscription_id!r}; `studio webhooks list` shows them")
            found = WebhookSubscription.model_validate(row)
        self._encrypt_legacy_if_any([row])
        return found

    def _encrypt_legacy_if_any(self, rows: Sequence[WebhookSubscriptionRow]) -> None:
        # Resolving the cipher encrypts every plaintext secret from before 0010 (once); without plaintext rows
        # nothing is done, so merely reading subscriptions never creates a key file.
        if self._cipher is None and self._cipher_factory is not None and any(r.legacy_secret for r in rows):
            self.cipher()

    def _active(self) -> list[WebhookSubscription]:
        # Read on every event would cost a query per event; a short cache is enough (add/remove clear it here,
        # other processes see changes within `cache_ttl_s`).
        with self._cache_lock:
            now = time.monotonic()
            if self._cache is None or now - self._cache[0] > self._cache_ttl_s:
                self._cache = (now, [s for s in self.subscriptions() if s.active])
            return self._cache[1]

    # -- delivery -------------------------------------------------------------------------------------------
    def handle(self, event: Event) -> None:
        """The event subscriber: deliver to every active subscription of the workspace that wants the type."""
        for subscription in self._active():
            if subscription.workspace_id == event.workspace_id and matches(event.type, tuple(subscription.event_types)):
                self.deliver(subscription, event)

    def deliver(self, subscription: WebhookSubscription, event: Event) -> WebhookDelivery:
        """POST with retries (exponential backoff); the outcome, success or not, is in the delivery log."""
        body = json.dumps(event.to_record(), separators=(",", ":"), sort_keys=True)
        return self._send(subscription, event.id, event.type, body)

    def _send(self, subscription: WebhookSubscription, event_id: str, event_type: str, body: str) -> WebhookDelivery:
        attempts = 0
        status: int | None = None
        error: str | None = None
        try:
            signing_secret: str | None = self._signing_secret(subscription.id)
        except (ConfigurationError, NotFound) as exc:  # logged as a failed delivery; the other subscribers go on
            signing_secret, error = None, exc.message

        def attempt() -> None:
            nonlocal attempts, status
            attempts += 1
            payload = body.encode()
            headers = {
                "Content-Type": "application/json",
                SIGNATURE_HEADER: sign(payload, signing_secret or "", int(time.time())),
                "Studio-Event-Id": event_id,
                "Studio-Event-Type": event_type,
                "User-Agent": "CreatorStudio-Webhooks/1",
            }
            response = self._client.post(subscription.url, content=payload, headers=headers)
            status = response.status_code
            if not response.is_success:
                raise DeliveryFailed(response.status_code)

        retrying = Retrying(
            stop=stop_after_attempt(self.attempts),
            wait=wait_exponential(multiplier=self.backoff_s, max=self.max_backoff_s),
            retry=retry_if_exception_type((DeliveryFailed, httpx.TransportError)),
            reraise=True,
        )
        if signing_secret is None:
            outcome = "failed"
        else:
            try:
                retrying(attempt)
                outcome = "delivered"
            except (DeliveryFailed, httpx.HTTPError) as exc:
                outcome, error = "failed", f"{type(exc).__name__}: {exc}"
        row = WebhookDeliveryRow(id=new_id("whd"), subscription_id=subscription.id,
                                 workspace_id=subscription.workspace_id, event_id=event_id, event_type=event_type,
                                 status=outcome, attempts=attempts, response_status=status, error=error, body=body,
                                 created_at=self._clock())
        with self._db.transaction() as session:
            session.add(row)
        return WebhookDelivery.model_validate(row)

    def deliveries(self, *, subscription_id: str | None = None, workspace_id: str | None = None,
                   status: str | None = None, limit: int = 50) -> list[WebhookDelivery]:
        query = select(WebhookDeliveryRow).order_by(WebhookDeliveryRow.created_at.desc(),
                                                    WebhookDeliveryRow.id).limit(limit)
        if subscription_id is not None:
            query = query.where(WebhookDeliveryRow.subscription_id == subscription_id)
        if workspace_id is not None:
            query = query.where(WebhookDeliveryRow.workspace_id == workspace_id)
        if status is not None:
            query = query.where(WebhookDeliveryRow.status == status)
        with self._db.transaction() as session:
            return [WebhookDelivery.model_validate(row) for row in session.scalars(query)]

    def replay(self, delivery_id: str) -> WebhookDelivery:
        """Send a logged delivery's body again (freshly signed); a new delivery row records the outcome."""
        with self._db.transaction() as session:
            row = session.get(WebhookDeliveryRow, delivery_id)
            if row is None:
                raise NotFound(f"no webhook delivery {delivery_id!r}; `studio webhooks deliveries` lists them")
            delivery = WebhookDelivery.model_validate(row)
        subscription = self.get(delivery.subscription_id)
        return self._send(subscription, delivery.event_id, delivery.event_type, delivery.body)

    def close(self) -> None:
        self._client.close()


def parse_body(body: bytes | str) -> dict[str, Any]:
    """A receiver's helper: the event record a webhook carries."""
    value = json.loads(body)
    if not isinstance(value, dict):
        raise ValueError("a webhook body is a JSON object")
    return value
