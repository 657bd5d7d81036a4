"""Length rules and fitting/splitting, generic over a platform's own way of counting."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import regex

from creator_studio.errors import InvalidInput
from creator_studio.providers.social.formatting.x import x_weighted_length

ELLIPSIS = "…"
_GRAPHEME = regex.compile(r"\X")


def graphemes(text: str) -> list[str]:
    """User-perceived characters (Unicode extended grapheme clusters)."""
    return _GRAPHEME.findall(text)


def grapheme_length(text: str) -> int:
    return len(graphemes(text))


@dataclass(frozen=True)
class PlatformText:
    platform: str
    limit: int
    length: Callable[[str], int]
    unit: str = "characters"

    def check(self, text: str) -> None:
        size = self.length(text)
        if size > self.limit:
            raise InvalidInput(f"The {self.platform} post is {size} {self.unit} long; the limit is {self.limit}. "
                               f"Shorten it (or let Studio split it into a thread).")

    def fit(self, text: str) -> str:
        """The text, or its longest grapheme-prefix plus "…" that is within the limit."""
        if self.length(text) <= self.limit:
            return text
        parts = graphemes(text)
        lo, hi = 0, len(parts)  # largest n with prefix(n)+… within the limit; length is monotonic in n
        while lo < hi:
            mid = (lo + hi + 1) // 2
            if self.length("".join(parts[:mid]).rstrip() + ELLIPSIS) <= self.limit:
                lo = mid
            else:
                hi = mid - 1
        return "".join(parts[:lo]).rstrip() + ELLIPSIS

    def split(self, text: str) -> list[str]:
        """A thread: parts within the limit, cut after whitespace where possible, never inside a grapheme."""
        parts = graphemes(text.strip())
        chunks: list[str] = []
        while parts:
            if self.length("".join(parts)) <= self.limit:
                chunks.append("".join(parts).strip())
                break
            lo, hi = 1, len(parts)
            while lo < hi:  # the longest prefix within the limit
                mid = (lo + hi + 1) // 2
                if self.length("".join(parts[:mid]).rstrip()) <= self.limit:
                    lo = mid
                else:
                    hi = mid - 1
            cut = lo
            spaces = [i + 1 for i in range(lo) if parts[i].isspace()]
            if spaces and spaces[-1] > lo // 2 and self.length("".join(parts[:spaces[-1]]).strip()) <= self.limit:
                cut = spaces[-1]
            chunk = "".join(parts[:cut]).strip()
            if chunk:
                chunks.append(chunk)
            parts = parts[cut:]
            while parts and parts[0].isspace():
                parts = parts[1:]
        return chunks


_MASTODON_URL = regex.compile(r"https?://\S+")


def mastodon_length(text: str) -> int:
    """Mastodon counts every http(s) URL as 23 characters, whatever its length."""
    return grapheme_length(_MASTODON_URL.sub("x" * 23, text))


def mastodon_text(limit: int = 500) -> PlatformText:
    return PlatformText("mastodon", limit, mastodon_length)


PLATFORM_TEXT: dict[str, PlatformText] = {
    "bluesky": PlatformText("bluesky", 300, grapheme_length),
    "mastodon": mastodon_text(500),
    "x": PlatformText("x", 280, x_weighted_length, unit="weighted characters"),
    "linkedin": PlatformText("linkedin", 3000, len),
    "threads": PlatformText("threads", 500, len),
}


def platform_text(platform: str) -> PlatformText:
    return PLATFORM_TEXT[platform]
