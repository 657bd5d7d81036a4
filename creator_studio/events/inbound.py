"""Inbound webhooks: a verified Stripe event or a platform notification becomes one of our events.

Signature checks are the payments provider's (`providers/payments/webhooks.py`); this module only maps
what was verified. Everything goes through `EventService.collect`, so a mapped payload that does not fit
its schema is dead-lettered with the reason rather than lost. Stripe event types we do not map are
ignored on purpose (Stripe sends dozens); an unknown platform notification is dead-lettered.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any

from creator_studio.events.schemas import Event, format_time
from creator_studio.events.service import EventService
from creator_studio.providers.payments.webhooks import StripeEvent, WebhookVerifier

# Stripe retries a delivery until it gets a 2xx: the same Stripe event always maps to the same event id,
# and the audit log stores an id once.
_NAMESPACE = uuid.UUID("6f1c2d1e-8a47-4c55-9d3e-4f1f5b2a7c10")


def _get(value: Any, *path: str) -> Any:
    for key in path:
        if not isinstance(value, Mapping):
            return None
        value = value.get(key)
    return value


def _purchase(obj: Mapping[str, Any]) -> tuple[str, dict[str, Any]]:
    return "revenue.purchase_completed", {
        "order_id": obj.get("id"), "amount_cents": obj.get("amount_total"), "currency": obj.get("currency"),
        "product_id": _get(obj, "metadata", "product_id"),
        "customer_email": _get(obj, "customer_details", "email") or obj.get("customer_email"),
    }


def _invoice_failed(obj: Mapping[str, Any]) -> tuple[str, dict[str, Any]]:
    attempt = obj.get("attempt_count")
    return "revenue.payment_failed", {
        "payment_id": obj.get("id"), "amount_cents": obj.get("amount_due"), "currency": obj.get("currency"),
        "customer_email": obj.get("customer_email"),
        "reason": f"invoice payment failed (attempt {attempt})" if attempt else "invoice payment failed",
    }


def _intent_failed(obj: Mapping[str, Any]) -> tuple[str, dict[str, Any]]:
    return "revenue.payment_failed", {
        "payment_id": obj.get("id"), "amount_cents": obj.get("amount"), "currency": obj.get("currency"),
        "customer_email": obj.get("receipt_email"), "reason": _get(obj, "last_payment_error", "message"),
    }


def _price(items: Any) -> tuple[str | None, int | None]:
    first = (_get(items, "data") or [None])[0]
    price = _get(first, "price")
    return _get(price, "id"), _get(price, "unit_amount")


def _subscription_updated(obj: Mapping[str, Any], previous: Mapping[str, Any]) -> tuple[str, dict[str, Any]] | None:
    if "items" not in previous:
        return None  # a status or metadata change, not a plan change
    new_plan, new_amount = _price(obj.get("items"))
    old_plan, old_amount = _price(previous.get("items"))
    if new_amount is None or old_amount is None or new_amount <= old_amount:
        return None  # a downgrade or a same-price change is not an upgrade
    return "revenue.subscription_upgraded", {
        "subscription_id": obj.get("id"), "to_plan": new_plan, "from_plan": old_plan,
        "customer_id": obj.get("customer"), "mrr_delta_cents": new_amount - old_amount,
    }


_STRIPE: dict[str, Callable[[Mapping[str, Any]], tuple[str, dict[str, Any]]]] = {
    "checkout.session.completed": _purchase,
    "invoice.payment_failed": _invoice_failed,
    "payment_intent.payment_failed": _intent_failed,
}


def map_stripe_event(stripe_event: StripeEvent) -> tuple[str, dict[str, Any]] | None:
    """(our event type, payload) for the Stripe event types we understand; None for the rest."""
    obj = _get(stripe_event.data, "object") or {}
    if stripe_event.type == "customer.subscription.updated":
        return _subscription_updated(obj, stripe_event.data.get("previous_attributes") or {})
    mapper = _STRIPE.get(stripe_event.type)
    return mapper(obj) if mapper else None


# Platform notification kinds (Bluesky, Mastodon, ... as the social providers report them).
_FOLLOW = {"follow", "followed"}
_COMMENT = {"comment", "reply", "mention", "quote"}
_ENGAGEMENT = {"like": "likes", "favourite": "likes", "repost": "shares", "reblog": "shares", "share": "shares"}


class InboundEvents:
    def __init__(self, events: EventService, *, stripe_verifier: WebhookVerifier | None = None) -> None:
        self._events = events
        self._verifier = stripe_verifier

    def from_stripe(self, payload: bytes, signature_header: str | None, *, workspace_id: str) -> Event | None:
        """Verify (raises `WebhookRejected`), map, publish. None: a Stripe type we do not map, or a payload
        that did not fit our schema (then it is in the dead letters)."""
        if self._verifier is None:
            raise RuntimeError("no Stripe webhook verifier: set STUDIO_STRIPE_WEBHOOK_SECRET")
        stripe_event = self._verifier.verify(payload, signature_header)
        mapped = map_stripe_event(stripe_event)
        if mapped is None:
            return None
        event_type, data = mapped
        obj = _get(stripe_event.data, "object") or {}
        return self._events.collect({
            "id": str(uuid.uuid5(_NAMESPACE, f"stripe:{stripe_event.id}")), "type": event_type, "version": 1,
            "workspace_id": _get(obj, "metadata", "workspace_id") or workspace_id,
            "occurred_at": format_time(datetime.fromtimestamp(stripe_event.created, UTC)),
            "source": "stripe", "correlation_id": stripe_event.id, "data": data,
        }, source="stripe")

    def from_platform(self, workspace_id: str, platform: str, notification: Mapping[str, Any]) -> Event | None:
        """A platform notification (`kind` + fields) as an event; unknown kinds go to the dead letters."""
        kind = str(notification.get("kind", "")).lower()
        author = notification.get("author") or notification.get("handle")
        post_id = notification.get("post_id")
        data: dict[str, Any]
        if kind in _FOLLOW:
            event_type, data = "audience.follower_gained", {"platform": platform, "count": 1, "handle": author}
        elif kind in _COMMENT:
            event_type, data = "audience.comment_received", {
                "comment_id": notification.get("id"), "platform": platform, "author": author,
                "text": notification.get("text"), "post_id": post_id, "kind": kind}
        elif kind in _ENGAGEMENT:
            event_type, data = "content.engagement_received", {
                "post_id": post_id, "platform": platform, _ENGAGEMENT[kind]: 1, "from": author}
        else:
            self._events.dead.record("validate", f"unknown {platform} notification kind {kind!r}; known: "
                                     f"{', '.join(sorted(_FOLLOW | _COMMENT | set(_ENGAGEMENT)))}",
                                     {"workspace_id": workspace_id, **dict(notification)}, module=platform)
            return None
        raw: dict[str, Any] = {"type": event_type, "workspace_id": workspace_id, "source": platform, "data": data}
        if notification.get("id"):
            raw["id"] = str(uuid.uuid5(_NAMESPACE, f"{platform}:{notification['id']}"))
        if notification.get("at"):
            raw["occurred_at"] = notification["at"]
        return self._events.collect(raw, source=platform)
