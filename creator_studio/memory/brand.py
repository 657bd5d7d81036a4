"""The brand voice as memory records (one per rule, so each can be retrieved on its own) and back."""

from __future__ import annotations

import hashlib

from creator_studio.memory.records import MemoryRecord
from creator_studio.workspaces.service import BrandVoice

EXAMPLE_KIND = "example_post"


def brand_records(brand: BrandVoice) -> list[MemoryRecord]:
    """Everything in the workspace's brand voice; example posts are added separately (they live only here)."""
    records = [
        _rule("tone", "tone", f"Tone of voice: {brand.tone}"),
        _rule("audience", "audience", f"Audience: {brand.audience}") if brand.audience else None,
        _rule("niche", "niche", f"Niche: {brand.niche}") if brand.niche else None,
        _rule("signature", "signature", f"Sign-off: {brand.signature}") if brand.signature else None,
        _rule("call_to_action", "call_to_action", f"Usual call to action: {brand.call_to_action}")
        if brand.call_to_action else None,
    ]
    records += [_rule(f"vocabulary:{_key(w)}", "vocabulary", f"Words the creator likes: {w}", value=w)
                for w in brand.vocabulary]
    records += [_rule(f"banned:{_key(w)}", "banned_word", f"Never use the word: {w}", value=w)
                for w in brand.banned_words]
    records += [_rule(f"offer:{_key(o)}", "offer", f"Offer: {o}", value=o) for o in brand.offers]
    records += [_rule(f"hashtag:{_key(h)}", "hashtag", f"Hashtag: {h}", value=h) for h in brand.hashtags]
    records += [_rule(f"faq:{_key(f.question)}", "faq", f"Q: {f.question}\nA: {f.answer}", value=f.question)
                for f in brand.faq]
    return [r for r in records if r is not None]


def example_record(text: str, platform: str | None = None) -> MemoryRecord:
    source = f"brand:example:{_key(text)}"
    return MemoryRecord(id=source, source_id=source, text=text.strip(),
                        metadata={"kind": EXAMPLE_KIND, "platform": platform or "", "value": ""})


def brand_from_records(base: BrandVoice, records: list[MemoryRecord]) -> BrandVoice:
    """The brand voice as memory holds it: the lists come from the stored rules (the workspace keeps the
    rest of the fields, e.g. the FAQ answers the reply writer reads)."""
    by_kind: dict[str, list[str]] = {}
    for record in sorted(records, key=lambda r: r.id):
        by_kind.setdefault(str(record.metadata.get("kind")), []).append(str(record.metadata.get("value", "")))
    if not records:
        return base
    return base.model_copy(update={
        "vocabulary": _ordered(base.vocabulary, by_kind.get("vocabulary", [])),
        "banned_words": _ordered(base.banned_words, by_kind.get("banned_word", [])),
        "offers": _ordered(base.offers, by_kind.get("offer", [])),
    })


def _ordered(preferred: list[str], stored: list[str]) -> list[str]:
    """Stored values, in the workspace's order where it knows them (so prompts stay stable)."""
    known = [v for v in preferred if v in stored]
    return known + sorted(v for v in stored if v not in known)


def _rule(key: str, kind: str, text: str, value: str = "") -> MemoryRecord:
    return MemoryRecord(id=f"brand:{key}", source_id=f"brand:{key}", text=text,
                        metadata={"kind": kind, "value": value or text.split(": ", 1)[-1]})


def _key(text: str) -> str:
    return hashlib.sha256(text.strip().lower().encode()).hexdigest()[:12]
