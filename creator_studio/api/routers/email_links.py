"""The links in the studio's emails: double opt-in confirmation and unsubscribe (a page with a button, and the
RFC 8058 one-click POST that mail clients send for `List-Unsubscribe-Post`). Public: the signed or random token
in the link is the credential, so a forged or cut link is refused."""

from __future__ import annotations

import html
from typing import Annotated

from fastapi import APIRouter, Query
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse

from creator_studio.api.deps import State
from creator_studio.api.problems import responses
from creator_studio.errors import NotFound
from creator_studio.providers.email.factory import public_url
from creator_studio.providers.email.optin import DoubleOptIn
from creator_studio.providers.email.smtp_provider import SmtpEmailProvider

router = APIRouter(prefix="/email", tags=["email links"])

Token = Annotated[str, Query(min_length=8, max_length=200, description="The token from the email's link.")]
WorkspaceId = Annotated[str, Query(alias="w", min_length=1, max_length=64)]
SubscriberId = Annotated[str, Query(alias="s", min_length=1, max_length=64)]
LinkToken = Annotated[str, Query(alias="t", min_length=8, max_length=200)]


def _mailer(state: State) -> SmtpEmailProvider:
    provider = state.studio.email_provider
    if not isinstance(provider, SmtpEmailProvider):
        raise NotFound("This studio sends no real email (set STUDIO_PROVIDERS=real and STUDIO_SMTP_URL), "
                       "so it has no email links.")
    return provider


def _page(title: str, body: str) -> HTMLResponse:
    return HTMLResponse(f"<!doctype html><html lang=en><head><meta charset=utf-8>"
                        f"<meta name=viewport content='width=device-width,initial-scale=1'>"
                        f"<title>{html.escape(title)}</title></head><body><main><h1>{html.escape(title)}</h1>"
                        f"{body}</main></body></html>")


@router.get("/confirm", response_class=HTMLResponse, responses=responses(404, 422, 500))
async def confirm_subscription(token: Token, state: State) -> HTMLResponse:
    """Double opt-in: the subscriber clicked the confirmation link; they are subscribed from now on."""
    mailer = _mailer(state)
    optin = DoubleOptIn(state.studio.db, mailer, public_url(state.studio.settings))
    subscriber = await run_in_threadpool(optin.confirm, token)
    return _page("You are subscribed", f"<p>{html.escape(subscriber.email)} will get the newsletter. "
                                      "Every email has a link to unsubscribe.</p>")


@router.get("/unsubscribe", response_class=HTMLResponse, responses=responses(404, 422, 500))
async def unsubscribe_page(state: State, workspace_id: WorkspaceId, subscriber_id: SubscriberId,
                           token: LinkToken) -> HTMLResponse:
    """The unsubscribe link opens a page with a button: link scanners that follow links do not unsubscribe."""
    mailer = _mailer(state)
    if not mailer.links.verify(workspace_id, subscriber_id, token):
        return _page("This link is not valid", "<p>It may have been changed or cut short.</p>")
    action = html.escape(mailer.links.url(workspace_id, subscriber_id).split("/email", 1)[1], quote=True)
    return _page("Unsubscribe?", f"<form method=post action='/email{action}'>"
                                 "<button type=submit>Unsubscribe from these emails</button></form>")


@router.post("/unsubscribe", response_class=HTMLResponse, responses=responses(404, 422, 500))
async def unsubscribe(state: State, workspace_id: WorkspaceId, subscriber_id: SubscriberId,
                      token: LinkToken) -> HTMLResponse:
    """The button on the page, and RFC 8058 one-click (`List-Unsubscribe=One-Click` posted by mail clients)."""
    mailer = _mailer(state)
    subscriber = await run_in_threadpool(mailer.unsubscribe_with_token, workspace_id, subscriber_id, token)
    return _page("You are unsubscribed", f"<p>{html.escape(subscriber.email)} will get no more of these emails.</p>")
