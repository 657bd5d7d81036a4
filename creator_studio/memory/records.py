"""What memory stores: the three collections and the records that go into them."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, Field

CollectionName = Literal["brand_voice", "content_performance", "audience_facts"]
COLLECTIONS: tuple[CollectionName, ...] = ("brand_voice", "content_performance", "audience_facts")

Scalar = str | int | float | bool


class MemoryRecord(BaseModel):
    """One embedded text. `source_id` groups the chunks of one long text (a post, a newsletter)."""

    id: str
    text: str
    source_id: str
    metadata: dict[str, Scalar] = Field(default_factory=dict)


class PastPost(BaseModel):
    """A post with its engagement, published here or imported from a platform export."""

    id: str
    platform: str
    text: str = Field(min_length=1)
    topic: str | None = None
    published_at: datetime | None = None
    likes: int = Field(default=0, ge=0)
    reposts: int = Field(default=0, ge=0)
    replies: int = Field(default=0, ge=0)
    clicks: int = Field(default=0, ge=0)
    impressions: int = Field(default=0, ge=0)
    followers: int = Field(default=0, ge=0, description="Followers of the posting account (0: unknown).")
    account: str | None = None
    url: str | None = None
    origin: Literal["published", "import"] = "published"

    @property
    def engagements(self) -> int:
        return self.likes + self.reposts + self.replies + self.clicks


class SearchHit(BaseModel):
    id: str
    collection: CollectionName
    source_id: str
    text: str
    similarity: float
    metadata: dict[str, Scalar]


class Example(BaseModel):
    """A past post retrieved to steer a draft, with why it was chosen."""

    post_id: str
    platform: str
    topic: str | None
    text: str
    similarity: float
    engagement_rate: float = Field(description="Engagements per follower, or per impression when it reached more.")
    relative_performance: float = Field(description="Engagement rate over the platform's median (1.0 = typical).")
