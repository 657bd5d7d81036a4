"""Bluesky over AT Protocol XRPC, against the account's PDS.

Sessions are reused: `createSession` is rate-limited hard (30 per 5 minutes, 300 a day), so an expired access
token is renewed with `refreshSession`, and the app password is only used again when the refresh token itself
has expired. Posts are `app.bsky.feed.post` records with facets (UTF-8 byte offsets), image blobs and reply
refs. Exactly-once: the record key is a TID computed once per write, so the read-back is an exact
`getRecord`, and a repeated `createRecord` with the same key can never create a second post.
"""

from __future__ import annotations

import hashlib
import mimetypes
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx

from creator_studio.errors import InvalidInput
from creator_studio.providers.reliability import (
    BLUESKY_POINTS,
    BadRequest,
    BudgetBook,
    BudgetKey,
    Priority,
    ReauthorizeRequired,
    ReliableClient,
    WriteGuard,
    classify,
)
from creator_studio.providers.reliability.budgets import BLUESKY_POINTS_PER_HOUR
from creator_studio.providers.social.adapter import PlatformNotification, PlatformPost
from creator_studio.providers.social.formatting import bluesky_facets, platform_text
from creator_studio.tools.types import SocialPlatform

POST = "app.bsky.feed.post"
MAX_IMAGES = 4
_TID_ALPHABET = "234567abcdefghijklmnopqrstuvwxyz"


@dataclass
class BlueskySession:
    did: str
    handle: str
    access_jwt: str
    refresh_jwt: str


def create_session(base_url: str, identifier: str, app_password: str, http: httpx.Client | None = None
                   ) -> BlueskySession:
    """Log in with an app password (used by `studio connect bluesky`, and only then)."""
    client = http or httpx.Client(timeout=20)
    response = client.post(f"{base_url.rstrip('/')}/xrpc/com.atproto.server.createSession",
                           json={"identifier": identifier, "password": app_password})
    if not response.is_success:
        raise classify("bluesky", response)
    body = response.json()
    return BlueskySession(did=body["did"], handle=body["handle"], access_jwt=body["accessJwt"],
                          refresh_jwt=body["refreshJwt"])


def tid(when: datetime, clock_id: int) -> str:
    """A record key in TID format: 53 bits of microseconds since the epoch, 10 bits of clock id, base32-sortable."""
    value = (int(when.timestamp() * 1_000_000) << 10) | (clock_id & 0x3FF)
    chars = []
    for _ in range(13):
        chars.append(_TID_ALPHABET[value & 0x1F])
        value >>= 5
    return "".join(reversed(chars))


def _is_expired(response: httpx.Response) -> bool:
    if response.status_code == 401:
        return True
    if response.status_code == 400:
        try:
            return response.json().get("error") in {"ExpiredToken", "InvalidToken"}
        except ValueError:
            return False
    return False


class BlueskyAdapter:
    platform: SocialPlatform = "bluesky"

    def __init__(self, base_url: str, session: BlueskySession, *, app_password: str | None = None,
                 on_session: Callable[[BlueskySession], None] | None = None, http: httpx.Client | None = None,
                 budgets: BudgetBook | None = None, sleep: Callable[[float], None] | None = None,
                 clock: Callable[[], datetime] | None = None) -> None:
        self.base_url = base_url.rstrip("/")
        self.session = session
        self.handle = session.handle
        self._app_password = app_password
        self._on_session = on_session
        self._clock = clock or (lambda: datetime.now(UTC))
        self._handles: dict[str, str | None] = {}
        budgets = budgets or BudgetBook()
        points = BudgetKey(session.did, "bluesky", "points")
        if budgets.budget(points).limit is None:
            budgets.set_quota(points, limit=BLUESKY_POINTS_PER_HOUR, used=0, window=timedelta(hours=1),
                              unit="points")
        extra: dict[str, Any] = {"sleep": sleep} if sleep else {}
        self.client = ReliableClient(platform="bluesky", account=session.did,
                                     http=http or httpx.Client(base_url=self.base_url, timeout=30),
                                     budgets=budgets, on_unauthorized=self._renew, is_unauthorized=_is_expired,
                                     auth_headers=lambda: {"Authorization": f"Bearer {self.session.access_jwt}"},
                                     **extra)

    def max_length(self) -> int:
        return platform_text("bluesky").limit

    # --- session -----------------------------------------------------------------------------------
    def _renew(self) -> bool:
        """refreshSession first; createSession (rate-limited hard) only when the refresh token is dead too."""
        http = self.client.http
        response = http.post(f"{self.base_url}/xrpc/com.atproto.server.refreshSession",
                             headers={"Authorization": f"Bearer {self.session.refresh_jwt}"})
        if response.is_success:
            body = response.json()
            self.session = BlueskySession(did=body["did"], handle=body["handle"], access_jwt=body["accessJwt"],
                                          refresh_jwt=body["refreshJwt"])
        elif self._app_password:
            try:
                self.session = create_session(self.base_url, self.session.did, self._app_password, http)
            except ReauthorizeRequired:
                return False
        else:
            return False
        if self._on_session:
            self._on_session(self.session)
        return True

    # --- identity ----------------------------------------------------------------------------------
    def resolve_handle(self, handle: str) -> str | None:
        if handle not in self._handles:
            try:
                response = self.client.read("GET", "/xrpc/com.atproto.identity.resolveHandle",
                                            params={"handle": handle})
                self._handles[handle] = response.json().get("did")
            except BadRequest:  # an unknown handle stays plain text rather than failing the post
                self._handles[handle] = None
        return self._handles[handle]

    # --- writes ------------------------------------------------------------------------------------
    def upload_image(self, path: Path, priority: Priority = Priority.CREATOR) -> dict[str, Any]:
        data = path.read_bytes()
        mime = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
        if not mime.startswith("image/"):
            raise InvalidInput(f"{path.name} is not an image Bluesky accepts (jpeg, png, webp, gif).")
        # Uploading a blob twice is harmless (same CID, unreferenced copies are garbage-collected): a read.
        response = self.client.read("POST", "/xrpc/com.atproto.repo.uploadBlob", content=data,
                                    headers={"Content-Type": mime}, priority=priority)
        return dict(response.json()["blob"])

    def strong_ref(self, uri: str) -> tuple[dict[str, str], dict[str, Any]]:
        repo, collection, rkey = _split_uri(uri)
        body = self.client.read("GET", "/xrpc/com.atproto.repo.getRecord",
                                params={"repo": repo, "collection": collection, "rkey": rkey}).json()
        return {"uri": body["uri"], "cid": body["cid"]}, body.get("value", {})

    def build_record(self, text: str, *, created_at: datetime, reply_to: str | None = None,
                     images: list[dict[str, Any]] | None = None) -> dict[str, Any]:
        platform_text("bluesky").check(text)
        rich = bluesky_facets(text, self.resolve_handle)
        record: dict[str, Any] = {"$type": POST, "text": text,
                                  "createdAt": created_at.astimezone(UTC).isoformat().replace("+00:00", "Z")}
        if rich.facets:
            record["facets"] = rich.facet_records()
        if reply_to:
            parent, parent_value = self.strong_ref(reply_to)
            root = (parent_value.get("reply") or {}).get("root") or parent
            record["reply"] = {"root": root, "parent": parent}
        if images:
            record["embed"] = {"$type": "app.bsky.embed.images",
                               "images": [{"alt": "", "image": blob} for blob in images]}
        return record

    def publish(self, text: str, *, idempotency_key: str, reply_to: str | None = None,
                images: list[Path] | None = None, priority: Priority = Priority.CREATOR) -> PlatformPost:
        if images and len(images) > MAX_IMAGES:
            raise InvalidInput(f"Bluesky takes at most {MAX_IMAGES} images per post; {len(images)} were given.")
        created_at = self._clock()
        blobs = [self.upload_image(p, priority) for p in images or []]
        record = self.build_record(text, created_at=created_at, reply_to=reply_to, images=blobs)
        clock_id = int.from_bytes(hashlib.sha256(idempotency_key.encode()).digest()[:2], "big")
        rkey = tid(created_at, clock_id)

        def find_existing() -> PlatformPost | None:
            try:
                response = self.client.read("GET", "/xrpc/com.atproto.repo.getRecord", priority=priority,
                                            params={"repo": self.session.did, "collection": POST, "rkey": rkey})
            except BadRequest as exc:
                if exc.status == 400 and "RecordNotFound" in exc.detail + str(exc.field):
                    return None
                if exc.status == 400 and "Could not locate record" in exc.detail:
                    return None
                raise
            return self._post(response.json()["uri"], text, created_at)

        guard = WriteGuard[PlatformPost](key=idempotency_key, what="your Bluesky post", find_existing=find_existing)
        return self.client.write(
            "POST", "/xrpc/com.atproto.repo.createRecord", guard,
            lambda r: self._post(r.json()["uri"], text, created_at), priority=priority, bucket="points",
            cost=BLUESKY_POINTS["create"],
            json={"repo": self.session.did, "collection": POST, "rkey": rkey, "record": record})

    def _post(self, uri: str, text: str, created_at: datetime) -> PlatformPost:
        rkey = uri.rsplit("/", 1)[-1]
        return PlatformPost(id=uri, text=text, published_at=created_at,
                            url=f"https://bsky.app/profile/{self.session.handle}/post/{rkey}")

    # --- reads -------------------------------------------------------------------------------------
    def list_posts(self, limit: int = 50) -> list[dict[str, Any]]:
        body = self.client.read("GET", "/xrpc/com.atproto.repo.listRecords",
                                params={"repo": self.session.did, "collection": POST, "limit": limit},
                                priority=Priority.BACKGROUND).json()
        return list(body.get("records", []))

    def notifications(self, since: datetime | None = None,
                      priority: Priority = Priority.BACKGROUND) -> list[PlatformNotification]:
        """Replies, mentions, quotes and follows (app.bsky.notification.listNotifications, via the AppView)."""
        body = self.client.read("GET", "/xrpc/app.bsky.notification.listNotifications", params={"limit": 50},
                                priority=priority).json()
        found = []
        for item in body.get("notifications", []):
            created = datetime.fromisoformat(item["indexedAt"].replace("Z", "+00:00"))
            if since and created < since:
                continue
            record = item.get("record") or {}
            parent = ((record.get("reply") or {}).get("parent") or {}).get("uri")
            author = item.get("author") or {}
            found.append(PlatformNotification(
                id=item["uri"], kind=item["reason"], post_id=parent or item.get("reasonSubject"),
                author_handle=author.get("handle", ""),
                author_name=author.get("displayName") or author.get("handle", ""),
                text=record.get("text", ""), created_at=created))
        return found


def _split_uri(uri: str) -> tuple[str, str, str]:
    if not uri.startswith("at://") or uri.count("/") != 4:
        raise InvalidInput(f"{uri!r} is not a Bluesky post URI (at://did/app.bsky.feed.post/rkey).")
    repo, collection, rkey = uri[len("at://"):].split("/")
    return repo, collection, rkey
