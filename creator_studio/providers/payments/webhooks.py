"""Verifying Stripe webhooks: the `Stripe-Signature` header over the raw body, a 300 s tolerance, a
constant-time compare, and refusal of an event id seen before (a replayed delivery).

Stripe signs `"{t}.{raw body}"` with HMAC-SHA256 under the endpoint's secret and sends
`Stripe-Signature: t=<unix time>,v1=<hex>[,v1=<hex>...]` (several v1 while a secret is being rolled).
The body must be the exact bytes received: parsing and re-serialising JSON changes them.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel

from creator_studio.errors import StudioError

if TYPE_CHECKING:
    from creator_studio.studio import Studio

DEFAULT_TOLERANCE_S = 300


class WebhookRejected(StudioError, ValueError):
    """The request is not a genuine, fresh, first delivery of a Stripe event: answer 400 and do nothing.
    (A ValueError too, which is what the API's webhook route turns into a 400.)"""

    code = "webhook_rejected"


class StripeEvent(BaseModel):
    id: str
    type: str
    created: int
    data: dict[str, Any]


class SeenEvents:
    """Event ids already accepted (bounded, in memory). Stripe retries deliveries for days; a database-backed
    set can be passed instead for multi-process servers."""

    def __init__(self, capacity: int = 10_000) -> None:
        self._ids: OrderedDict[str, None] = OrderedDict()
        self._capacity = capacity
        self._lock = threading.Lock()

    def add(self, event_id: str) -> bool:
        """True if the id is new (and now recorded), False if it was seen before."""
        with self._lock:
            if event_id in self._ids:
                return False
            self._ids[event_id] = None
            if len(self._ids) > self._capacity:
                self._ids.popitem(last=False)
            return True


def sign(payload: bytes, secret: str, timestamp: int) -> str:
    """The header Stripe would send (for tests and for replaying stored events)."""
    mac = hmac.new(secret.encode(), f"{timestamp}.".encode() + payload, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={mac}"


class WebhookVerifier:
    def __init__(
        self,
        secret: str,
        *,
        tolerance_s: int = DEFAULT_TOLERANCE_S,
        seen: SeenEvents | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        if not secret:
            raise WebhookRejected("No webhook signing secret is configured (STUDIO_STRIPE_WEBHOOK_SECRET).")
        self._secret = secret.encode()
        self._tolerance_s = tolerance_s
        self._seen = seen if seen is not None else SeenEvents()
        self._clock = clock

    def verify(self, payload: bytes, signature_header: str | None) -> StripeEvent:
        timestamp, signatures = _parse_header(signature_header)
        expected = hmac.new(self._secret, f"{timestamp}.".encode() + payload, hashlib.sha256).hexdigest()
        # compare_digest against every v1 given: constant time, so the compare leaks nothing about the secret.
        if not any(hmac.compare_digest(expected, candidate) for candidate in signatures):
            raise WebhookRejected("The Stripe-Signature does not match this body and secret.")
        age = self._clock() - timestamp
        if abs(age) > self._tolerance_s:
            raise WebhookRejected(
                f"The webhook timestamp is {int(abs(age))} s {'old' if age > 0 else 'in the future'}; "
                f"the limit is {self._tolerance_s} s."
            )
        try:
            event = StripeEvent.model_validate(json.loads(payload))
        except (ValueError, TypeError) as exc:
            raise WebhookRejected(f"The webhook body is not a Stripe event: {str(exc)[:200]}") from exc
        if not self._seen.add(event.id):
            raise WebhookRejected(f"Event {event.id} was already received (a replayed delivery).")
        return event


def _parse_header(header: str | None) -> tuple[int, list[str]]:
    if not header:
        raise WebhookRejected("The request has no Stripe-Signature header.")
    timestamp: int | None = None
    signatures: list[str] = []
    for item in header.split(","):
        key, _, value = item.strip().partition("=")
        if key == "t":
            try:
                timestamp = int(value)
            except ValueError as exc:
                raise WebhookRejected(f"The Stripe-Signature timestamp {value!r} is not a number.") from exc
        elif key == "v1" and value:
            signatures.append(value)
    if timestamp is None or not signatures:
        raise WebhookRejected("The Stripe-Signature header has no t= timestamp or no v1= signature.")
    return timestamp, signatures


# One verifier per signing secret for the whole process, so a replayed event id is refused across requests.
_VERIFIERS: dict[str, WebhookVerifier] = {}
_VERIFIERS_LOCK = threading.Lock()


def verifier_for(secret: str) -> WebhookVerifier:
    with _VERIFIERS_LOCK:
        if secret not in _VERIFIERS:
            _VERIFIERS[secret] = WebhookVerifier(secret)
        return _VERIFIERS[secret]


def handle_stripe_webhook(studio: Studio, workspace_id: str, payload: bytes, signature_header: str | None) -> Any:
    """What the API's `/api/webhooks/stripe/{workspace}` route calls: verify (WebhookRejected, a ValueError, on
    a bad signature, stale timestamp or replay), then publish the mapped event through the events module."""
    secret = studio.settings.stripe_webhook_secret
    if secret is None:
        raise WebhookRejected("No webhook signing secret is configured (STUDIO_STRIPE_WEBHOOK_SECRET).")
    from creator_studio.events.inbound import InboundEvents  # here: events.inbound imports this module

    inbound = InboundEvents(studio.events, stripe_verifier=verifier_for(secret.get_secret_value()))
    return inbound.from_stripe(payload, signature_header, workspace_id=workspace_id)
