"""Platform formatting: never over the limit, never splitting a grapheme, facets on the right bytes."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from creator_studio.errors import InvalidInput
from creator_studio.providers.social.formatting import (
    PLATFORM_TEXT,
    bluesky_facets,
    graphemes,
    mastodon_text,
    x_weighted_length,
)

pytestmark = pytest.mark.unit

# Text mixing ASCII, accents, combining marks, CJK, emoji with modifiers and ZWJ sequences, flags, URLs, tags.
PIECES = ["a", "word ", " ", "é", "e\u0301", "日本語", "한국", "👍🏽", "👨‍👩‍👧", "🇩🇪", "\n", "#tag ", "@sam.test ",
          "https://example.com/a/long/path?q=1 ", "example.org ", ".", "!", "(x)", "—"]
texts = st.lists(st.sampled_from(PIECES), max_size=400).map("".join)


@settings(max_examples=150, deadline=None)
@given(text=texts, platform=st.sampled_from(sorted(PLATFORM_TEXT)))
def test_fit_is_within_the_limit_and_keeps_graphemes_whole(text: str, platform: str) -> None:
    rules = PLATFORM_TEXT[platform]
    fitted = rules.fit(text)
    assert rules.length(fitted) <= rules.limit
    kept = fitted.removesuffix("…") if fitted != text else fitted
    assert graphemes(text)[:len(graphemes(kept))] == graphemes(kept)


@settings(max_examples=100, deadline=None)
@given(text=texts, platform=st.sampled_from(["x", "bluesky", "threads"]))
def test_split_parts_are_within_the_limit_and_lose_no_text(text: str, platform: str) -> None:
    rules = PLATFORM_TEXT[platform]
    parts = rules.split(text)
    assert all(rules.length(p) <= rules.limit for p in parts)
    assert "".join("".join(p.split()) for p in parts) == "".join(text.split())
    joined_clusters = [g for p in parts for g in graphemes(p) if not g.isspace()]
    assert joined_clusters == [g for g in graphemes(text) if not g.isspace()]


@settings(max_examples=150, deadline=None)
@given(text=texts)
def test_bluesky_facets_point_at_the_right_bytes(text: str) -> None:
    rich = bluesky_facets(text, resolve=lambda handle: f"did:plc:{handle.replace('.', '')}")
    data = text.encode("utf-8")
    previous_end = 0
    for facet in rich.facets:
        assert 0 <= facet.byte_start < facet.byte_end <= len(data)
        assert facet.byte_start >= previous_end, "facets overlap"
        previous_end = facet.byte_end
        span = data[facet.byte_start:facet.byte_end].decode("utf-8")  # never cuts a character
        if facet.kind == "tag":
            assert span[0] in "#＃" and span[1:] == facet.value
        elif facet.kind == "mention":
            assert span.startswith("@") and facet.value == f"did:plc:{span[1:].lower().replace('.', '')}"
        else:
            assert facet.value.endswith(span) or facet.value == f"https://{span}"


def test_bluesky_facets_known_example() -> None:
    text = "✨ Read https://example.com/x, ping @alice.test and #日本語!"
    rich = bluesky_facets(text, resolve=lambda h: "did:plc:alice" if h == "alice.test" else None)
    data = text.encode()
    assert [(f.kind, data[f.byte_start:f.byte_end].decode(), f.value) for f in rich.facets] == [
        ("link", "https://example.com/x", "https://example.com/x"),
        ("mention", "@alice.test", "did:plc:alice"),
        ("tag", "#日本語", "日本語"),
    ]
    assert rich.facets[0].byte_start == len("✨ Read ".encode())  # bytes, not characters
    assert bluesky_facets("hi @nobody.test", resolve=lambda h: None).facets == []


def test_x_weighted_length_follows_twitter_text_v3() -> None:
    assert x_weighted_length("hello") == 5
    assert x_weighted_length("日本語") == 6  # CJK weighs 2
    assert x_weighted_length("see https://example.com/" + "a" * 200) == 4 + 23  # any URL counts 23
    assert x_weighted_length("👨‍👩‍👧") == 2  # one emoji sequence counts 2
    assert x_weighted_length("é") == 1
    assert PLATFORM_TEXT["x"].length("日" * 140) == 280
    with pytest.raises(InvalidInput, match="281 weighted characters"):
        PLATFORM_TEXT["x"].check("日" * 140 + "a")


def test_limits_per_platform() -> None:
    assert PLATFORM_TEXT["bluesky"].length("👍🏽" * 300) == 300  # graphemes
    assert PLATFORM_TEXT["linkedin"].limit == 3000
    assert PLATFORM_TEXT["threads"].limit == 500
    assert mastodon_text(500).length("https://example.com/" + "x" * 100) == 23
    with pytest.raises(InvalidInput, match="limit is 300"):
        PLATFORM_TEXT["bluesky"].check("a" * 301)
