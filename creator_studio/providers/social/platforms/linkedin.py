"""LinkedIn Posts API (`/rest/posts`, versioned by the `Linkedin-Version` header): 3,000 characters of
"little text" commentary; the new post's URN comes back in the `x-restli-id` header.

No idempotency key: after an unknown outcome the adapter reads the member's latest posts
(`GET /rest/posts?q=author`) and matches the commentary.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx

from creator_studio.errors import InvalidInput
from creator_studio.providers.reliability import BudgetBook, Priority, ReliableClient, WriteGuard
from creator_studio.providers.social.adapter import PlatformNotification, PlatformPost
from creator_studio.providers.social.formatting import platform_text
from creator_studio.tools.types import SocialPlatform

API = "https://api.linkedin.com"
VERSION = "202511"
# Reserved characters of LinkedIn's "little text" format: unescaped, they silently truncate the post.
_RESERVED = re.compile(r"([\\|{}@\[\]()<>#*_~])")


def little_text(text: str) -> str:
    return _RESERVED.sub(r"\\\1", text)


def _time(millis: int | None) -> datetime:
    return datetime.fromtimestamp(millis / 1000, UTC) if millis else datetime.now(UTC)


class LinkedInAdapter:
    platform: SocialPlatform = "linkedin"

    def __init__(self, access_token: Callable[[], str], *, handle: str, person_urn: str,
                 refresh: Callable[[], bool] | None = None, http: httpx.Client | None = None,
                 budgets: BudgetBook | None = None, sleep: Callable[[float], None] | None = None,
                 base_url: str = API, version: str = VERSION) -> None:
        self.handle = handle
        self.author = person_urn
        extra: dict[str, Any] = {"sleep": sleep} if sleep else {}
        self.client = ReliableClient(
            platform="linkedin", account=person_urn, http=http or httpx.Client(base_url=base_url, timeout=30),
            budgets=budgets or BudgetBook(), on_unauthorized=refresh,
            auth_headers=lambda: {"Authorization": f"Bearer {access_token()}", "Linkedin-Version": version,
                                  "X-Restli-Protocol-Version": "2.0.0"}, **extra)

    def max_length(self) -> int:
        return platform_text("linkedin").limit

    def publish(self, text: str, *, idempotency_key: str, reply_to: str | None = None,
                images: list[Path] | None = None, priority: Priority = Priority.CREATOR) -> PlatformPost:
        platform_text("linkedin").check(text)
        if images:
            raise InvalidInput("Images on LinkedIn are not supported by Studio yet; post the text alone.")
        if reply_to:
            return self._comment(reply_to, text, idempotency_key, priority)
        body = {"author": self.author, "commentary": little_text(text), "visibility": "PUBLIC",
                "distribution": {"feedDistribution": "MAIN_FEED", "targetEntities": [],
                                 "thirdPartyDistributionChannels": []},
                "lifecycleState": "PUBLISHED", "isReshareDisabledByAuthor": False}

        def find_existing() -> PlatformPost | None:
            for element in self._recent(priority):
                if element.get("commentary") == body["commentary"]:
                    return self._post(element["id"], text, element.get("publishedAt"))
            return None

        guard = WriteGuard[PlatformPost](key=idempotency_key, what="your LinkedIn post", find_existing=find_existing)
        return self.client.write("POST", "/rest/posts", guard,
                                 lambda r: self._post(r.headers["x-restli-id"], text, None), json=body,
                                 priority=priority)

    def _comment(self, post_urn: str, text: str, key: str, priority: Priority) -> PlatformPost:
        path = f"/rest/socialActions/{quote(post_urn, safe='')}/comments"

        def find_existing() -> PlatformPost | None:
            for element in self.client.read("GET", path, priority=priority).json().get("elements", []):
                if element.get("actor") == self.author and (element.get("message") or {}).get("text") == text:
                    return self._post(element.get("$URN") or element["id"], text, None)
            return None

        guard = WriteGuard[PlatformPost](key=key, what="your LinkedIn comment", find_existing=find_existing)
        return self.client.write(
            "POST", path, guard, lambda r: self._post(r.headers.get("x-restli-id") or r.json().get("$URN", ""),
                                                      text, None),
            json={"actor": self.author, "object": post_urn, "message": {"text": text}}, priority=priority)

    def _recent(self, priority: Priority) -> list[dict[str, Any]]:
        response = self.client.read("GET", "/rest/posts", priority=priority,
                                    params={"author": self.author, "q": "author", "count": 10,
                                            "sortBy": "LAST_MODIFIED"})
        return list(response.json().get("elements", []))

    def _post(self, urn: str, text: str, published_millis: int | None) -> PlatformPost:
        return PlatformPost(id=urn, text=text, published_at=_time(published_millis),
                            url=f"https://www.linkedin.com/feed/update/{urn}")

    def notifications(self, since: datetime | None = None,
                      priority: Priority = Priority.BACKGROUND) -> list[PlatformNotification]:
        """Comments on the member's latest posts (LinkedIn has no notifications API for members)."""
        found = []
        for post in self._recent(priority):
            path = f"/rest/socialActions/{quote(post['id'], safe='')}/comments"
            for comment in self.client.read("GET", path, priority=priority).json().get("elements", []):
                created = _time((comment.get("created") or {}).get("time"))
                if comment.get("actor") == self.author or (since and created < since):
                    continue
                found.append(PlatformNotification(
                    id=comment.get("$URN") or comment["id"], kind="reply", post_id=post["id"],
                    author_handle=comment.get("actor", ""), author_name=comment.get("actor", ""),
                    text=(comment.get("message") or {}).get("text", ""), created_at=created))
        return found
