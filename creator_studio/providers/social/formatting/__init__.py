"""Platform text rules in one place: how each platform counts length, and fitting text under the limit.

Every platform's `PlatformText` answers `length(text)` the way that platform counts, and `fit`/`split`
cut only at grapheme boundaries (an emoji with skin tone, a flag, "é" as e + combining accent stay whole).
"""

from creator_studio.providers.social.formatting.bluesky import BlueskyText, Facet, bluesky_facets
from creator_studio.providers.social.formatting.limits import (
    PLATFORM_TEXT,
    PlatformText,
    graphemes,
    mastodon_text,
    platform_text,
)
from creator_studio.providers.social.formatting.x import x_weighted_length

__all__ = ["PLATFORM_TEXT", "BlueskyText", "Facet", "PlatformText", "bluesky_facets", "graphemes",
           "mastodon_text", "platform_text", "x_weighted_length"]
