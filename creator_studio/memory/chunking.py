"""Long texts (newsletters, threads, imported articles) are split into overlapping chunks before embedding:
MiniLM reads 256 word pieces at most, so the end of a long text would otherwise be ignored."""

from __future__ import annotations

import re

MAX_CHARS = 800
OVERLAP_CHARS = 120


def chunk_text(text: str, *, max_chars: int = MAX_CHARS, overlap: int = OVERLAP_CHARS) -> list[str]:
    """Sentence-aligned chunks of at most `max_chars`; each repeats the end of the previous one for context."""
    text = text.strip()
    if len(text) <= max_chars:
        return [text] if text else []
    sentences = [s for s in re.split(r"(?<=[.!?])\s+|\n{2,}", text) if s.strip()]
    pieces: list[str] = []
    for sentence in sentences:  # a single sentence longer than a chunk is cut at word boundaries
        while len(sentence) > max_chars:
            cut = sentence.rfind(" ", 0, max_chars)
            cut = cut if cut > max_chars // 2 else max_chars
            pieces.append(sentence[:cut].strip())
            sentence = sentence[cut:].strip()
        if sentence:
            pieces.append(sentence.strip())
    chunks: list[str] = []
    current = ""
    for piece in pieces:
        if current and len(current) + 1 + len(piece) > max_chars:
            chunks.append(current)
            tail = current[-overlap:]
            tail = tail[tail.find(" ") + 1:] if " " in tail else tail
            current = f"{tail} {piece}" if len(tail) + 1 + len(piece) <= max_chars else piece
        else:
            current = f"{current} {piece}".strip()
    if current:
        chunks.append(current)
    return chunks
