"""Per-platform text rules in one place: limits and how each platform counts characters."""

from __future__ import annotations

import re

import regex

from creator_studio.errors import InvalidInput

LIMITS: dict[str, int] = {"bluesky": 300, "mastodon": 500, "x": 280, "linkedin": 3000, "threads": 500,
                          "email": 100_000}
DISPLAY_NAMES: dict[str, str] = {"bluesky": "Bluesky", "mastodon": "Mastodon", "x": "X", "linkedin": "LinkedIn",
                                 "threads": "Threads", "email": "email"}
_URL = re.compile(r"https?://\S+")
_X_URL_WEIGHT = 23  # X counts every link as 23 characters (t.co wrapping).


def count_characters(platform: str, text: str) -> int:
    if platform == "bluesky":
        return len(regex.findall(r"\X", text))  # Bluesky counts graphemes.
    if platform == "x":
        urls = _URL.findall(text)
        return len(_URL.sub("", text)) + _X_URL_WEIGHT * len(urls)
    return len(text)


def check_length(platform: str, text: str) -> None:
    if not text.strip():
        raise InvalidInput(f"The {DISPLAY_NAMES.get(platform, platform)} post is empty: give it some text.")
    limit = LIMITS[platform]
    used = count_characters(platform, text)
    if used > limit:
        raise InvalidInput(f"{DISPLAY_NAMES[platform]} posts are limited to {limit} characters; this one has "
                           f"{used}. Shorten it by {used - limit}.")


def fit(platform: str, text: str) -> str:
    """Shorten text to the platform's limit at a word boundary, ending with an ellipsis.

    The cut keeps the text's own line breaks (paragraphs, hashtag lines) rather than joining the words."""
    limit = LIMITS[platform]
    if count_characters(platform, text) <= limit:
        return text
    word_ends = [match.end() for match in re.finditer(r"\S+", text)]
    while word_ends and count_characters(platform, text[: word_ends[-1]] + "…") > limit:
        word_ends.pop()
    if word_ends:
        return text[: word_ends[-1]] + "…"
    # Not even the first word fits (a very long link): cut it by characters as the platform counts them.
    graphemes = regex.findall(r"\X", text.strip())
    while graphemes and count_characters(platform, "".join(graphemes) + "…") > limit:
        graphemes.pop()
    return "".join(graphemes) + "…"
