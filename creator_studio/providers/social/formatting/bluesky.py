"""Bluesky rich text: facets for links, mentions and tags, indexed in UTF-8 bytes (as the lexicon requires).

`app.bsky.richtext.facet`: `index.byteStart` inclusive, `index.byteEnd` exclusive, over the UTF-8 encoding
of the post text; features `#link` (uri), `#mention` (did), `#tag` (tag without "#"). The 300 limit counts
graphemes. Mentions need the handle resolved to a DID: `resolve` does that (None drops the facet, so a
mention of an unknown handle stays plain text rather than failing the post).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import regex

# Patterns follow the reference client's rich-text detection (@atproto/api richtext/detection).
_MENTION = regex.compile(r"(?:^|\s|\()(@(?:[a-zA-Z0-9](?:[a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?\.)+"
                         r"[a-zA-Z](?:[a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?)")
_LINK = regex.compile(r"(?:^|\s|\()((?:https?://[\S]+)|(?:(?:[a-z][a-z0-9]*(?:\.[a-z0-9]+)+)[\S]*))",
                      regex.IGNORECASE)
_TAG = regex.compile(r"(?:^|\s)([#＃](?!\ufe0f|\u20e3)[^\s\u00AD\u2060\u200A\u200B\u200C\u200D\u20e2]*"
                     r"[^\d\s\p{P}\u00AD\u2060\u200A\u200B\u200C\u200D\u20e2]+[^\s\u00AD\u2060\u200A\u200B\u200C\u200D"
                     r"\u20e2]*)?")
_TRAILING_PUNCT = ".,;:!?)]}\"'"
_TLD = regex.compile(r"\.[a-z]{2,}$", regex.IGNORECASE)


@dataclass(frozen=True)
class Facet:
    byte_start: int
    byte_end: int
    kind: str  # "link" | "mention" | "tag"
    value: str  # uri, did or tag

    def to_record(self) -> dict[str, Any]:
        feature: dict[str, str] = {"$type": f"app.bsky.richtext.facet#{self.kind}"}
        feature[{"link": "uri", "mention": "did", "tag": "tag"}[self.kind]] = self.value
        return {"index": {"byteStart": self.byte_start, "byteEnd": self.byte_end}, "features": [feature]}


@dataclass(frozen=True)
class BlueskyText:
    text: str
    facets: list[Facet]

    def facet_records(self) -> list[dict[str, Any]]:
        return [f.to_record() for f in self.facets]


def _byte_span(text: str, start: int, end: int) -> tuple[int, int]:
    prefix = len(text[:start].encode("utf-8"))
    return prefix, prefix + len(text[start:end].encode("utf-8"))


def bluesky_facets(text: str, resolve: Callable[[str], str | None] | None = None) -> BlueskyText:
    facets: list[Facet] = []
    taken: list[tuple[int, int]] = []

    def add(start: int, end: int, kind: str, value: str) -> None:
        if any(start < e and s < end for s, e in taken):
            return
        taken.append((start, end))
        facets.append(Facet(*_byte_span(text, start, end), kind=kind, value=value))

    for match in _LINK.finditer(text):
        start, end = match.span(1)
        uri = match.group(1)
        while uri and uri[-1] in _TRAILING_PUNCT and not (uri[-1] == ")" and "(" in uri):
            uri, end = uri[:-1], end - 1
        if not uri.lower().startswith("http"):
            domain = uri.split("/")[0]
            if not _TLD.search(domain):
                continue
            uri = f"https://{uri}"
        add(start, end, "link", uri)
    for match in _MENTION.finditer(text):
        start, end = match.span(1)
        handle = match.group(1)[1:]
        while handle and handle[-1] in _TRAILING_PUNCT:
            handle, end = handle[:-1], end - 1
        did = resolve(handle.lower()) if resolve else None
        if did:
            add(start, end, "mention", did)
    for match in _TAG.finditer(text):
        if match.group(1) is None:
            continue
        start, end = match.span(1)
        tag = match.group(1)
        stripped = tag.rstrip(_TRAILING_PUNCT + "…")
        end -= len(tag) - len(stripped)
        value = stripped[1:]
        if value and len(value) <= 64:
            add(start, end, "tag", value)
    facets.sort(key=lambda f: f.byte_start)
    return BlueskyText(text=text, facets=facets)
