"""The social platform interface. Sandbox and real adapters implement the same Protocol."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from pathlib import Path
from typing import Protocol

from pydantic import BaseModel, Field

from creator_studio.tools.types import SocialPlatform


class Account(BaseModel):
    platform: SocialPlatform
    handle: str
    followers: int


class PostMetrics(BaseModel):
    likes: int = 0
    reposts: int = 0
    replies: int = 0
    impressions: int = 0
    clicks: int = 0

    @property
    def engagements(self) -> int:
        return self.likes + self.reposts + self.replies + self.clicks


class PublishedPost(BaseModel):
    id: str
    platform: SocialPlatform
    account: str
    text: str
    url: str
    published_at: datetime
    metrics: PostMetrics
    topic: str | None = None
    media: list[str] = Field(default_factory=list, description="Paths of the images or video attached.")


class Comment(BaseModel):
    id: str
    platform: SocialPlatform
    post_id: str
    author_handle: str
    author_name: str
    text: str
    created_at: datetime
    reply_text: str | None = None
    replied_at: datetime | None = None
    hidden: bool = False

    @property
    def replied(self) -> bool:
        return self.reply_text is not None

    @property
    def is_question(self) -> bool:
        return "?" in self.text


class SocialProvider(Protocol):
    """Every write takes an idempotency key: the same key twice is one post, one reply, one hide."""

    def accounts(self, workspace_id: str, platform: SocialPlatform | None = None) -> list[Account]: ...

    def publish(self, workspace_id: str, platform: SocialPlatform, text: str, *, account: str | None,
                idempotency_key: str, topic: str | None = None, media: Sequence[Path] = ()) -> PublishedPost: ...

    def posts(self, workspace_id: str, *, platform: SocialPlatform | None = None,
              since: datetime | None = None) -> list[PublishedPost]: ...

    def get_post(self, workspace_id: str, post_id: str) -> PublishedPost: ...

    def comments(self, workspace_id: str, *, platform: SocialPlatform | None = None,
                 since: datetime | None = None, unreplied_only: bool = False,
                 include_hidden: bool = False) -> list[Comment]: ...

    def get_comment(self, workspace_id: str, comment_id: str) -> Comment: ...

    def reply(self, workspace_id: str, comment_id: str, text: str, *, idempotency_key: str) -> Comment: ...

    def hide_comment(self, workspace_id: str, comment_id: str, *, idempotency_key: str) -> Comment: ...
