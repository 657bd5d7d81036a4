"""Mastodon REST API: statuses with `Idempotency-Key` (the server de-duplicates for an hour), media through
`/api/v2/media`, notifications, and the instance's own character limit from `/api/v2/instance`."""

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
from creator_studio.providers.social.formatting import mastodon_text
from creator_studio.tools.types import SocialPlatform

MAX_MEDIA = 4
DEFAULT_LIMIT = 500


def _time(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00")).astimezone(UTC)


class MastodonAdapter:
    platform: SocialPlatform = "mastodon"

    def __init__(self, base_url: str, access_token: str, *, handle: str, account_id: str,
                 http: httpx.Client | None = None, budgets: BudgetBook | None = None,
                 sleep: Callable[[float], None] | None = None) -> None:
        self.base_url = base_url.rstrip("/")
        self.handle = handle
        self.account_id = account_id
        self._limit: int | None = None
        extra: dict[str, Any] = {"sleep": sleep} if sleep else {}
        self.client = ReliableClient(platform="mastodon", account=f"{handle}@{self.base_url}",
                                     http=http or httpx.Client(base_url=self.base_url, timeout=30),
                                     budgets=budgets or BudgetBook(),
                                     auth_headers=lambda: {"Authorization": f"Bearer {access_token}"}, **extra)

    def max_length(self) -> int:
        """configuration.statuses.max_characters of this instance (500 on mastodon.social; others differ)."""
        if self._limit is None:
            body = self.client.read("GET", "/api/v2/instance", priority=Priority.BACKGROUND).json()
            limit = (((body.get("configuration") or {}).get("statuses") or {}).get("max_characters"))
            self._limit = int(limit) if isinstance(limit, int) and limit > 0 else DEFAULT_LIMIT
        return self._limit

    def upload_media(self, path: Path, priority: Priority = Priority.CREATOR) -> str:
        mime = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
        # An orphan attachment (from a repeat) is never shown and is cleaned up by the server: a read, not a write.
        response = self.client.read("POST", "/api/v2/media", priority=priority,
                                    files={"file": (path.name, path.read_bytes(), mime)})
        return str(response.json()["id"])

    def publish(self, text: str, *, idempotency_key: str, reply_to: str | None = None,
                images: list[Path] | None = None, priority: Priority = Priority.CREATOR) -> PlatformPost:
        mastodon_text(self.max_length()).check(text)
        if images and len(images) > MAX_MEDIA:
            raise InvalidInput(f"Mastodon takes at most {MAX_MEDIA} attachments per post; {len(images)} given.")
        body: dict[str, Any] = {"status": text}
        if reply_to:
            body["in_reply_to_id"] = reply_to
        if images:
            body["media_ids"] = [self.upload_media(p, priority) for p in images]
        guard = WriteGuard[PlatformPost](key=idempotency_key, what="your Mastodon post", platform_idempotency=True)
        return self.client.write("POST", "/api/v1/statuses", guard, lambda r: _post(r.json()), json=body,
                                 priority=priority)

    def notifications(self, since: datetime | None = None,
                      priority: Priority = Priority.BACKGROUND) -> list[PlatformNotification]:
        response = self.client.read("GET", "/api/v1/notifications", priority=priority,
                                    params=[("types[]", "mention"), ("types[]", "follow"), ("limit", "40")])
        found = []
        for item in response.json():
            created = _time(item["created_at"])
            if since and created < since:
                continue
            status = item.get("status") or {}
            account = item.get("account") or {}
            kind = "reply" if item["type"] == "mention" and status.get("in_reply_to_account_id") == self.account_id \
                else item["type"]
            found.append(PlatformNotification(
                id=str(status.get("id") or item["id"]), kind=kind, post_id=status.get("in_reply_to_id"),
                author_handle=account.get("acct", ""),
                author_name=account.get("display_name") or account.get("acct", ""),
                text=_plain(status.get("content", "")), created_at=created))
        return found


def _plain(html: str) -> str:
    return re.sub(r"<[^>]+>", "", html.replace("<br>", "\n").replace("</p><p>", "\n\n")).strip()


def _post(body: dict[str, Any]) -> PlatformPost:
    return PlatformPost(id=str(body["id"]), url=body.get("url") or body.get("uri", ""),
                        text=_plain(body.get("content", "")), published_at=_time(body["created_at"]))
