"""OAuth 2.0 with PKCE (RFC 7636) for X, LinkedIn and Threads: the authorize URL, the code exchange and the
refresh. The creator opens the URL, approves, and pastes back the redirected URL (or just the code)."""

from __future__ import annotations

import base64
import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from urllib.parse import parse_qs, urlencode, urlparse

import httpx
from pydantic import SecretStr

from creator_studio.connections.service import Credentials
from creator_studio.errors import InvalidInput
from creator_studio.providers.reliability import ReauthorizeRequired, classify


@dataclass(frozen=True)
class OAuthPlatform:
    name: str
    authorize_url: str
    token_url: str
    scopes: tuple[str, ...]
    scope_separator: str = " "
    # X takes the client credentials as HTTP Basic for confidential clients; LinkedIn and Threads in the body.
    basic_auth: bool = False


OAUTH: dict[str, OAuthPlatform] = {
    "x": OAuthPlatform("x", "https://x.com/i/oauth2/authorize", "https://api.x.com/2/oauth2/token",
                       ("tweet.read", "tweet.write", "users.read", "media.write", "offline.access"),
                       basic_auth=True),
    "linkedin": OAuthPlatform("linkedin", "https://www.linkedin.com/oauth/v2/authorization",
                              "https://www.linkedin.com/oauth/v2/accessToken",
                              ("openid", "profile", "w_member_social")),
    "threads": OAuthPlatform("threads", "https://threads.net/oauth/authorize",
                             "https://graph.threads.net/oauth/access_token",
                             ("threads_basic", "threads_content_publish", "threads_read_replies",
                              "threads_manage_replies"), scope_separator=","),
}


@dataclass(frozen=True)
class PkceStart:
    url: str
    state: str
    verifier: str


@dataclass(frozen=True)
class TokenGrant:
    credentials: Credentials
    expires_at: datetime | None
    scopes: list[str]


def pkce_pair() -> tuple[str, str]:
    """(code_verifier, S256 code_challenge): 43+ unreserved characters, challenge = BASE64URL(SHA256(verifier))."""
    verifier = secrets.token_urlsafe(64)[:96]
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    return verifier, challenge


def start(platform: str, client_id: str, redirect_uri: str, scopes: list[str] | None = None) -> PkceStart:
    spec = OAUTH[platform]
    verifier, challenge = pkce_pair()
    state = secrets.token_urlsafe(24)
    query = {"response_type": "code", "client_id": client_id, "redirect_uri": redirect_uri,
             "scope": spec.scope_separator.join(scopes or spec.scopes), "state": state,
             "code_challenge": challenge, "code_challenge_method": "S256"}
    return PkceStart(url=f"{spec.authorize_url}?{urlencode(query)}", state=state, verifier=verifier)


def code_from(pasted: str, expected_state: str) -> str:
    """Accept the whole redirected URL (state is checked) or the bare code."""
    pasted = pasted.strip()
    if "://" not in pasted and "?" not in pasted:
        if not pasted:
            raise InvalidInput("Paste the URL you were redirected to (or the `code` in it).")
        return pasted
    query = parse_qs(urlparse(pasted).query)
    if "error" in query:
        raise InvalidInput(f"The platform refused the connection: {query.get('error_description', query['error'])[0]}.")
    if query.get("state", [""])[0] != expected_state:
        raise InvalidInput("The redirected URL belongs to another connection attempt (its `state` does not match); "
                           "start `studio connect` again.")
    if "code" not in query:
        raise InvalidInput("The redirected URL has no `code` parameter; paste the full URL from the address bar.")
    return query["code"][0]


def _token_request(platform: str, data: dict[str, str], client_id: str, client_secret: str | None,
                   http: httpx.Client, now: datetime) -> TokenGrant:
    spec = OAUTH[platform]
    if spec.basic_auth and client_secret:
        response = http.post(spec.token_url, data=data, auth=httpx.BasicAuth(client_id, client_secret))
    else:
        data = {**data, "client_id": client_id, **({"client_secret": client_secret} if client_secret else {})}
        response = http.post(spec.token_url, data=data)
    if response.status_code in (400, 401) and data.get("grant_type") == "refresh_token":
        raise ReauthorizeRequired(platform, "the refresh token was refused", status=response.status_code)
    if not response.is_success:
        raise classify(platform, response)
    body = response.json()
    expires = body.get("expires_in")
    scope = body.get("scope") or ""
    scopes = [s for s in scope.replace(",", " ").split() if s]
    credentials = Credentials(access_token=SecretStr(body["access_token"]),
                              refresh_token=SecretStr(body["refresh_token"]) if body.get("refresh_token") else None,
                              client_id=client_id, client_secret=SecretStr(client_secret) if client_secret else None)
    return TokenGrant(credentials, now + timedelta(seconds=int(expires)) if expires else None, scopes)


def exchange_code(platform: str, *, code: str, verifier: str, client_id: str, client_secret: str | None,
                  redirect_uri: str, http: httpx.Client, now: datetime) -> TokenGrant:
    return _token_request(platform, {"grant_type": "authorization_code", "code": code, "redirect_uri": redirect_uri,
                                     "code_verifier": verifier}, client_id, client_secret, http, now)


def refresh(platform: str, credentials: Credentials, *, http: httpx.Client, now: datetime) -> TokenGrant:
    """A new access token from the refresh token; the old refresh token is kept when none is returned."""
    if platform == "threads":
        return _refresh_threads(credentials, http=http, now=now)
    if credentials.refresh_token is None or credentials.client_id is None:
        raise ReauthorizeRequired(platform, "no refresh token was stored")
    secret = credentials.client_secret.get_secret_value() if credentials.client_secret else None
    grant = _token_request(platform, {"grant_type": "refresh_token",
                                      "refresh_token": credentials.refresh_token.get_secret_value()},
                           credentials.client_id, secret, http, now)
    if grant.credentials.refresh_token is None:
        grant.credentials.refresh_token = credentials.refresh_token
    return grant


THREADS_REFRESH_URL = "https://graph.threads.net/refresh_access_token"


def _refresh_threads(credentials: Credentials, *, http: httpx.Client, now: datetime) -> TokenGrant:
    """Threads has no refresh token: a long-lived token (60 days) is itself exchanged for a fresh one."""
    if credentials.access_token is None:
        raise ReauthorizeRequired("threads", "no token was stored")
    response = http.get(THREADS_REFRESH_URL, params={"grant_type": "th_refresh_token",
                                                     "access_token": credentials.access_token.get_secret_value()})
    if not response.is_success:
        raise ReauthorizeRequired("threads", "the long-lived token could not be renewed", status=response.status_code)
    body = response.json()
    renewed = credentials.model_copy(update={"access_token": SecretStr(body["access_token"])})
    return TokenGrant(renewed, now + timedelta(seconds=int(body.get("expires_in", 5184000))), [])
