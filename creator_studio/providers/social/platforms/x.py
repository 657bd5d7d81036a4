"""X API v2: `POST /2/tweets` (threads through reply.in_reply_to_tweet_id), chunked media upload
(`/2/media/upload` INIT / APPEND / FINALIZE), OAuth 2.0 user tokens refreshed through the connection.

X has no idempotency key: after an unknown outcome the adapter reads the account's latest posts
(`GET /2/users/:id/tweets`) and matches the text (URLs compared without their t.co rewriting).
"""

from __future__ import annotations

import mimetypes
import re
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx

from creator_studio.errors import InvalidInput
from creator_studio.providers.reliability import BudgetBook, Priority, ReliableClient, WriteGuard
from creator_studio.providers.social.adapter import PlatformNotification, PlatformPost
from creator_studio.providers.social.formatting import platform_text
from creator_studio.tools.types import SocialPlatform

API = "https://api.x.com"
CHUNK = 4 * 1024 * 1024
MAX_MEDIA = 4
_URL = re.compile(r"https?://\S+")


def _normalise(text: str) -> str:
    return " ".join(_URL.sub("<url>", text).split())


def _time(value: str | None) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00")) if value else datetime.now(UTC)


class XAdapter:
    platform: SocialPlatform = "x"

    def __init__(self, access_token: Callable[[], str], *, handle: str, user_id: str,
                 refresh: Callable[[], bool] | None = None, http: httpx.Client | None = None,
                 budgets: BudgetBook | None = None, sleep: Callable[[float], None] | None = None,
                 base_url: str = API) -> None:
        self.handle = handle
        self.user_id = user_id
        extra: dict[str, Any] = {"sleep": sleep} if sleep else {}
        self.client = ReliableClient(platform="x", account=user_id,
                                     http=http or httpx.Client(base_url=base_url, timeout=30),
                                     budgets=budgets or BudgetBook(), on_unauthorized=refresh,
                                     auth_headers=lambda: {"Authorization": f"Bearer {access_token()}"}, **extra)

    def max_length(self) -> int:
        return platform_text("x").limit

    def upload_media(self, path: Path, priority: Priority = Priority.CREATOR) -> str:
        data = path.read_bytes()
        mime = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
        init = self.client.read("POST", "/2/media/upload/initialize", priority=priority, bucket="media",
                                json={"media_type": mime, "total_bytes": len(data), "media_category": "tweet_image"})
        media_id = str(init.json()["data"]["id"])
        for index in range(0, max(len(data), 1), CHUNK):
            self.client.read("POST", f"/2/media/upload/{media_id}/append", priority=priority, bucket="media",
                             data={"segment_index": str(index // CHUNK)},
                             files={"media": ("blob", data[index:index + CHUNK], "application/octet-stream")})
        self.client.read("POST", f"/2/media/upload/{media_id}/finalize", priority=priority, bucket="media")
        return media_id

    def publish(self, text: str, *, idempotency_key: str, reply_to: str | None = None,
                images: list[Path] | None = None, priority: Priority = Priority.CREATOR) -> PlatformPost:
        platform_text("x").check(text)
        if images and len(images) > MAX_MEDIA:
            raise InvalidInput(f"X takes at most {MAX_MEDIA} images per post; {len(images)} were given.")
        body: dict[str, Any] = {"text": text}
        if reply_to:
            body["reply"] = {"in_reply_to_tweet_id": reply_to}
        if images:
            body["media"] = {"media_ids": [self.upload_media(p, priority) for p in images]}
        started = datetime.now(UTC)

        def find_existing() -> PlatformPost | None:
            recent = self.client.read("GET", f"/2/users/{self.user_id}/tweets", priority=priority,
                                      params={"max_results": 10, "tweet.fields": "created_at,text",
                                              "start_time": started.replace(microsecond=0).isoformat()
                                              .replace("+00:00", "Z")}).json()
            for tweet in recent.get("data") or []:
                if _normalise(tweet["text"]) == _normalise(text):
                    return self._post(tweet["id"], text, tweet.get("created_at"))
            return None

        guard = WriteGuard[PlatformPost](key=idempotency_key, what="your post on X", find_existing=find_existing)
        return self.client.write("POST", "/2/tweets", guard,
                                 lambda r: self._post(r.json()["data"]["id"], text, None), json=body,
                                 priority=priority, bucket="tweets")

    def publish_thread(self, parts: list[str], *, idempotency_key: str,
                       priority: Priority = Priority.CREATOR) -> list[PlatformPost]:
        """Each part replies to the previous one; each has its own derived key, so a resumed thread continues."""
        posts: list[PlatformPost] = []
        for index, part in enumerate(parts):
            posts.append(self.publish(part, idempotency_key=f"{idempotency_key}:{index}",
                                      reply_to=posts[-1].id if posts else None, priority=priority))
        return posts

    def _post(self, tweet_id: str, text: str, created_at: str | None) -> PlatformPost:
        return PlatformPost(id=str(tweet_id), text=text, published_at=_time(created_at),
                            url=f"https://x.com/{self.handle}/status/{tweet_id}")

    def notifications(self, since: datetime | None = None,
                      priority: Priority = Priority.BACKGROUND) -> list[PlatformNotification]:
        params: dict[str, Any] = {"max_results": 50, "tweet.fields": "created_at,referenced_tweets,author_id",
                                  "expansions": "author_id", "user.fields": "username,name"}
        if since:
            params["start_time"] = since.astimezone(UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")
        body = self.client.read("GET", f"/2/users/{self.user_id}/mentions", params=params, priority=priority).json()
        users = {u["id"]: u for u in (body.get("includes") or {}).get("users", [])}
        found = []
        for tweet in body.get("data") or []:
            replied = next((r["id"] for r in tweet.get("referenced_tweets") or [] if r["type"] == "replied_to"), None)
            user = users.get(tweet.get("author_id"), {})
            found.append(PlatformNotification(
                id=tweet["id"], kind="reply" if replied else "mention", post_id=replied,
                author_handle=user.get("username", ""), author_name=user.get("name", ""), text=tweet["text"],
                created_at=_time(tweet.get("created_at"))))
        return found
