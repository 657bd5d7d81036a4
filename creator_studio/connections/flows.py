"""The connect flows behind `studio connect <platform>`: each ends with the account stored (tokens encrypted).

Bluesky: an app password (never the main password) opens a session on the account's PDS. Mastodon: an access
token created in the instance's Development settings. X, LinkedIn, Threads: OAuth 2.0 with PKCE.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

import httpx
from pydantic import SecretStr

from creator_studio.connections import oauth
from creator_studio.connections.service import Connection, ConnectionService, Credentials
from creator_studio.errors import InvalidInput
from creator_studio.providers.reliability import classify
from creator_studio.providers.social.platforms.bluesky import create_session
from creator_studio.tools.types import SocialPlatform

# Where the identity of a freshly authorised account is read (documented "me" endpoints).
IDENTITY_URL = {
    "x": "https://api.x.com/2/users/me",
    "linkedin": "https://api.linkedin.com/v2/userinfo",
    "threads": "https://graph.threads.net/v1.0/me?fields=id,username",
}


def connect_bluesky(service: ConnectionService, workspace_id: str, *, identifier: str, app_password: str,
                    pds_url: str = "https://bsky.social", http: httpx.Client | None = None) -> Connection:
    if not app_password.strip():
        raise InvalidInput("Bluesky needs an app password (Settings → Privacy and security → App passwords).")
    session = create_session(pds_url, identifier, app_password, http)
    credentials = Credentials(access_token=SecretStr(session.access_jwt), refresh_token=SecretStr(session.refresh_jwt),
                              app_password=SecretStr(app_password))
    return service.add(workspace_id, "bluesky", handle=session.handle, account_id=session.did,
                       credentials=credentials, scopes=["atproto"], base_url=pds_url.rstrip("/"))


def connect_mastodon(service: ConnectionService, workspace_id: str, *, instance_url: str, access_token: str,
                     scopes: list[str] | None = None, http: httpx.Client | None = None) -> Connection:
    client = http or httpx.Client(timeout=20)
    base = instance_url.rstrip("/")
    if not base.startswith("http"):
        base = f"https://{base}"
    response = client.get(f"{base}/api/v1/accounts/verify_credentials",
                          headers={"Authorization": f"Bearer {access_token}"})
    if not response.is_success:
        raise classify("mastodon", response)
    account = response.json()
    return service.add(workspace_id, "mastodon", handle=account["acct"], account_id=str(account["id"]),
                       credentials=Credentials(access_token=SecretStr(access_token)),
                       scopes=scopes or ["read", "write"], base_url=base)


def finish_oauth(service: ConnectionService, workspace_id: str, platform: SocialPlatform, *,
                 started: oauth.PkceStart, pasted: str, client_id: str, client_secret: str | None,
                 redirect_uri: str, http: httpx.Client, now: Callable[[], datetime]) -> Connection:
    code = oauth.code_from(pasted, started.state)
    grant = oauth.exchange_code(platform, code=code, verifier=started.verifier, client_id=client_id,
                                client_secret=client_secret, redirect_uri=redirect_uri, http=http, now=now())
    token = grant.credentials.access_token.get_secret_value() if grant.credentials.access_token else ""
    response = http.get(IDENTITY_URL[platform], headers={"Authorization": f"Bearer {token}"})
    if not response.is_success:
        raise classify(platform, response)
    body = response.json()
    if platform == "x":
        handle, account_id = body["data"]["username"], str(body["data"]["id"])
    elif platform == "linkedin":
        handle, account_id = body.get("name") or body["sub"], f"urn:li:person:{body['sub']}"
    else:
        handle, account_id = body["username"], str(body["id"])
    scopes = grant.scopes or list(oauth.OAUTH[platform].scopes)
    return service.add(workspace_id, platform, handle=handle, account_id=account_id, credentials=grant.credentials,
                       scopes=scopes, expires_at=grant.expires_at)
