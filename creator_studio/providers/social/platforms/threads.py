"""Threads (Meta Graph): publishing is two steps, `POST /{user-id}/threads` creates a container and
`POST /{user-id}/threads_publish?creation_id=` publishes it; 500 characters; a 24-hour publishing quota read
from `GET /{user-id}/threads_publishing_limit` feeds the rate budget before each post.

A container that is never published does nothing (it expires), so creating one is repeated like a read; the
publish step is the side effect, read back from the account's latest threads after an unknown outcome.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx

from creator_studio.errors import InvalidInput
from creator_studio.providers.reliability import (
    BudgetBook,
    BudgetKey,
    Priority,
    ReliableClient,
    RetryLater,
    WriteGuard,
)
from creator_studio.providers.social.adapter import PlatformNotification, PlatformPost
from creator_studio.providers.social.formatting import platform_text
from creator_studio.tools.types import SocialPlatform

API = "https://graph.threads.net/v1.0"


def _time(value: str | None) -> datetime:
    if not value:
        return datetime.now(UTC)
    return datetime.fromisoformat(value.replace("Z", "+00:00").replace("+0000", "+00:00"))


class ThreadsAdapter:
    platform: SocialPlatform = "threads"

    def __init__(self, access_token: Callable[[], str], *, handle: str, user_id: str,
                 refresh: Callable[[], bool] | None = None, http: httpx.Client | None = None,
                 budgets: BudgetBook | None = None, sleep: Callable[[float], None] | None = None,
                 base_url: str = API) -> None:
        self.handle = handle
        self.user_id = user_id
        self.budgets = budgets or BudgetBook()
        extra: dict[str, Any] = {"sleep": sleep} if sleep else {}
        self.client = ReliableClient(platform="threads", account=user_id,
                                     http=http or httpx.Client(base_url=base_url, timeout=30),
                                     budgets=self.budgets, on_unauthorized=refresh,
                                     auth_headers=lambda: {"Authorization": f"Bearer {access_token()}"}, **extra)

    def max_length(self) -> int:
        return platform_text("threads").limit

    def refresh_quota(self, priority: Priority = Priority.CREATOR) -> tuple[int, int]:
        """(used, total) of the 24-hour publishing quota, fed into the budget of the publish bucket."""
        body = self.client.read("GET", f"/{self.user_id}/threads_publishing_limit", priority=priority,
                                params={"fields": "quota_usage,config"}).json()
        entry = (body.get("data") or [{}])[0]
        config = entry.get("config") or {}
        used, total = int(entry.get("quota_usage", 0)), int(config.get("quota_total", 250))
        window = timedelta(seconds=int(config.get("quota_duration", 86400)))
        self.budgets.set_quota(BudgetKey(self.user_id, "threads", "publish"), limit=total, used=used,
                               window=window, unit="posts")
        return used, total

    def publish(self, text: str, *, idempotency_key: str, reply_to: str | None = None,
                images: list[Path] | None = None, priority: Priority = Priority.CREATOR) -> PlatformPost:
        platform_text("threads").check(text)
        if images:
            raise InvalidInput("Threads fetches images from a public URL; local images cannot be attached yet.")
        used, total = self.refresh_quota(priority)
        if used >= total:
            raise RetryLater("threads", f"the {total} posts per 24 hours publishing quota is used up",
                             retry_after=self.budgets.budget(BudgetKey(self.user_id, "threads", "publish"))
                             .wait_seconds(datetime.now(UTC)))
        params: dict[str, Any] = {"media_type": "TEXT", "text": text}
        if reply_to:
            params["reply_to_id"] = reply_to
        container = self.client.read("POST", f"/{self.user_id}/threads", params=params, priority=priority)
        creation_id = str(container.json()["id"])

        def find_existing() -> PlatformPost | None:
            recent = self.client.read("GET", f"/{self.user_id}/threads", priority=priority,
                                      params={"fields": "id,text,timestamp,permalink", "limit": 10}).json()
            for item in recent.get("data") or []:
                if item.get("text") == text:
                    return PlatformPost(id=str(item["id"]), text=text, published_at=_time(item.get("timestamp")),
                                        url=item.get("permalink") or "")
            return None

        guard = WriteGuard[PlatformPost](key=idempotency_key, what="your Threads post", find_existing=find_existing)
        return self.client.write(
            "POST", f"/{self.user_id}/threads_publish", guard,
            lambda r: PlatformPost(id=str(r.json()["id"]), text=text, published_at=datetime.now(UTC),
                                   url=f"https://www.threads.net/@{self.handle}/post/{r.json()['id']}"),
            params={"creation_id": creation_id}, priority=priority, bucket="publish")

    def notifications(self, since: datetime | None = None,
                      priority: Priority = Priority.BACKGROUND) -> list[PlatformNotification]:
        """Replies to the account's latest threads (`GET /{media-id}/replies`)."""
        recent = self.client.read("GET", f"/{self.user_id}/threads", priority=priority,
                                  params={"fields": "id", "limit": 10}).json()
        found = []
        for thread in recent.get("data") or []:
            replies = self.client.read("GET", f"/{thread['id']}/replies", priority=priority,
                                       params={"fields": "id,text,username,timestamp"}).json()
            for item in replies.get("data") or []:
                created = _time(item.get("timestamp"))
                if since and created < since:
                    continue
                found.append(PlatformNotification(id=str(item["id"]), kind="reply", post_id=str(thread["id"]),
                                                  author_handle=item.get("username", ""),
                                                  author_name=item.get("username", ""), text=item.get("text", ""),
                                                  created_at=created))
        return found
