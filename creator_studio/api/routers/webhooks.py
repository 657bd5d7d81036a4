"""Webhooks: subscriptions (where to send this workspace's events) and inbound provider webhooks."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Path, Request, Response
from fastapi.concurrency import run_in_threadpool
from pydantic import AnyHttpUrl, BaseModel, ConfigDict, Field

from creator_studio.api.deps import Owner, State
from creator_studio.api.problems import ApiProblem, responses
from creator_studio.api.routers.events import EventPattern
from creator_studio.errors import InvalidInput, NotFound
from creator_studio.events.webhooks import WebhookSubscription
from creator_studio.logs import get_logger
from creator_studio.providers.payments.webhooks import WebhookRejected, handle_stripe_webhook

router = APIRouter(prefix="/api/webhooks", tags=["webhooks"])
log = get_logger("api.webhooks")
class NewSubscription(BaseModel):
    model_config = ConfigDict(extra="forbid")
    url: AnyHttpUrl
    event_types: list[EventPattern] = Field(
        min_length=1, max_length=50, description="Types or patterns: content.published, revenue.* or *.")
    description: str | None = Field(default=None, max_length=300)


class Subscription(BaseModel):
    id: str
    url: str
    event_types: list[str]
    active: bool
    description: str | None
    created_at: datetime


class CreatedSubscription(Subscription):
    secret: str = Field(description="Signs each delivery (shown once): verify it on your side.")


class Received(BaseModel):
    received: bool
    event_id: str | None = None


def _own(state: State, principal: Owner, subscription_id: str) -> WebhookSubscription:
    found = state.studio.events.webhooks.get(subscription_id)
    if found.workspace_id != principal.workspace_id:
        raise NotFound(f"No webhook subscription {subscription_id!r} in this workspace.")
    return found


@router.get("/subscriptions", response_model=list[Subscription], responses=responses(401, 403, 500))
def list_subscriptions(principal: Owner, state: State) -> list[Subscription]:
    """Where this workspace's events are sent (secrets are not shown again)."""
    return [Subscription.model_validate(s.model_dump())
            for s in state.studio.events.webhooks.subscriptions(principal.workspace_id)]


@router.post("/subscriptions", response_model=CreatedSubscription, status_code=201,
             responses=responses(401, 403, 422, 500))
def create_subscription(body: NewSubscription, principal: Owner, state: State) -> CreatedSubscription:
    """Send matching events to a URL, signed with the returned secret."""
    try:
        created = state.studio.events.webhooks.add(principal.workspace_id, str(body.url), body.event_types,
                                                   description=body.description)
    except InvalidInput as exc:
        raise InvalidInput(f"event_types: {exc.message}" if "pattern" in exc.message else f"url: {exc.message}"
                           ) from exc
    return CreatedSubscription.model_validate(created.model_dump())


@router.delete("/subscriptions/{subscription_id}", status_code=204, response_class=Response,
               responses=responses(401, 403, 404, 422, 500))
def delete_subscription(subscription_id: Annotated[str, Path(min_length=1, max_length=64)], principal: Owner,
                        state: State) -> Response:
    _own(state, principal, subscription_id)
    state.studio.events.webhooks.remove(subscription_id)
    return Response(status_code=204)


@router.post("/stripe/{workspace_id}", response_model=Received, responses=responses(400, 404, 422, 500))
async def stripe_webhook(workspace_id: Annotated[str, Path(min_length=1, max_length=64)], request: Request,
                         state: State) -> Received:
    """Stripe calls this (no token: the Stripe-Signature header is checked against STUDIO_STRIPE_WEBHOOK_SECRET,
    and a replayed event id is refused). Understood Stripe events become studio events."""
    if not state.studio.workspaces.exists(workspace_id):
        raise NotFound(f"No workspace {workspace_id!r}.")
    if state.studio.settings.stripe_webhook_secret is None:
        # Not an outage: the endpoint is simply not enabled in this studio.
        raise ApiProblem(404, "Not found", "Stripe webhooks are not enabled here: set STUDIO_STRIPE_WEBHOOK_SECRET.",
                         kind="webhooks-not-enabled")
    payload = await request.body()
    try:
        event = await run_in_threadpool(handle_stripe_webhook, state.studio, workspace_id, payload,
                                        request.headers.get("stripe-signature"))
    except WebhookRejected as exc:
        raise ApiProblem(400, "Bad request", f"The webhook was rejected: {exc.message}", kind="bad-webhook") from exc
    if event is not None:
        state.changed(workspace_id, "revenue")
    return Received(received=True, event_id=getattr(event, "id", None))
