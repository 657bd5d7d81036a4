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
from typing import TYPE_CHECKING, Any, Protocol

from pydantic import BaseModel

from creator_studio.errors import StudioError
from creator_studio.providers.payments.seen_events import SeenEventStore

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


class SeenEventLog(Protocol):
    """Where accepted event ids are remembered: `SeenEvents` (this process) or `SeenEventStore` (the database)."""

    def claim(self, event_id: str) -> bool: ...  # True: first delivery, process it; False: a replay

    def complete(self, event_id: str) -> None: ...  # processed: every later delivery is a replay

    def release(self, event_id: str) -> None: ...  # processing failed on our side: accept the sender's retry


class SeenEvents:
    """Event ids already accepted, bounded, in this process's memory only: for tests and single-process tools.
    The API uses `SeenEventStore`, so a replay to another process or after a restart is refused too."""

    def __init__(self, capacity: int = 10_000) -> None:
        self._ids: OrderedDict[str, None] = OrderedDict()
        self._capacity = capacity
        self._lock = threading.Lock()

    def claim(self, event_id: str) -> bool:
        """True if the id is new (and now recorded), False if it was seen before."""
        with self._lock:
            if event_id in self._ids:
                return False
            self._ids[event_id] = None
            if len(self._ids) > self._capacity:
                self._ids.popitem(last=False)
            return True

    def complete(self, event_id: str) -> None:
        pass  # a claim here is final already

    def release(self, event_id: str) -> None:
        with self._lock:
            self._ids.pop(event_id, None)


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
        seen: SeenEventLog | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        if not secret:
            raise WebhookRejected("No webhook signing secret is configured (STUDIO_STRIPE_WEBHOOK_SECRET).")
        self._secret = secret.encode()
        self._tolerance_s = tolerance_s
        self._seen: SeenEventLog = seen if seen is not None else SeenEvents()
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
        if not self._seen.claim(event.id):
            raise WebhookRejected(f"Event {event.id} was already received (a replayed delivery).")
        return event

    def complete(self, event_id: str) -> None:
        """Call once the verified event was processed."""
        self._seen.complete(event_id)

    def release(self, event_id: str) -> None:
        """Call when processing a verified event failed on our side, so the sender's retry is not a replay."""
        self._seen.release(event_id)


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


def handle_stripe_webhook(studio: Studio, workspace_id: str, payload: bytes, signature_header: str | None) -> Any:
    """What the API's `/api/webhooks/stripe/{workspace}` route calls: verify (WebhookRejected, a ValueError, on
    a bad signature, stale timestamp or replay), then publish the mapped event through the events module.

    Seen event ids are in the database (`SeenEventStore`), so every API process and a restarted one refuse a
    replay; the claim is completed after publishing, or released if publishing failed, so Stripe's retry of
    an event we failed to process is not mistaken for a replay."""
    secret = studio.settings.stripe_webhook_secret
    if secret is None:
        raise WebhookRejected("No webhook signing secret is configured (STUDIO_STRIPE_WEBHOOK_SECRET).")
    from creator_studio.events.inbound import InboundEvents  # here: events.inbound imports this module

    claims = _RequestClaims(SeenEventStore(studio.db, "stripe", clock=studio.now))
    inbound = InboundEvents(studio.events, stripe_verifier=WebhookVerifier(secret.get_secret_value(), seen=claims))
    try:
        event = inbound.from_stripe(payload, signature_header, workspace_id=workspace_id)
    except BaseException:
        claims.release_claimed()  # nothing claimed when the request was rejected: then this does nothing
        raise
    claims.complete_claimed()
    return event


class _RequestClaims:
    """The seen-event log as one request uses it: remembers the id this request claimed, so that exactly that
    claim is completed or released (never another process's claim of the same id)."""

    def __init__(self, log: SeenEventLog) -> None:
        self._log = log
        self.claimed: str | None = None

    def claim(self, event_id: str) -> bool:
        won = self._log.claim(event_id)
        if won:
            self.claimed = event_id
        return won

    def complete(self, event_id: str) -> None:
        self._log.complete(event_id)

    def release(self, event_id: str) -> None:
        self._log.release(event_id)

    def complete_claimed(self) -> None:
        if self.claimed is not None:
            self._log.complete(self.claimed)

    def release_claimed(self) -> None:
        if self.claimed is not None:
            self._log.release(self.claimed)
