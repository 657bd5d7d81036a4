"""What every real platform adapter offers the real social provider: publish (with replies and images) and
read the account's notifications. One adapter instance acts for one connected account."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Protocol

from pydantic import BaseModel

from creator_studio.providers.reliability import Priority
from creator_studio.tools.types import SocialPlatform


class PlatformPost(BaseModel):
    id: str  # the platform's id (an at:// URI on Bluesky, a URN on LinkedIn)
    url: str
    text: str
    published_at: datetime


class PlatformNotification(BaseModel):
    id: str
    kind: str  # "reply" | "mention" | "follow" | ...
    post_id: str | None  # the creator's post it is about (replies)
    author_handle: str
    author_name: str
    text: str
    created_at: datetime


class PlatformAdapter(Protocol):
    platform: SocialPlatform
    handle: str

    def max_length(self) -> int: ...

    def publish(self, text: str, *, idempotency_key: str, reply_to: str | None = None,
                images: list[Path] | None = None, priority: Priority = Priority.CREATOR) -> PlatformPost: ...

    def notifications(self, since: datetime | None = None,
                      priority: Priority = Priority.BACKGROUND) -> list[PlatformNotification]: ...
