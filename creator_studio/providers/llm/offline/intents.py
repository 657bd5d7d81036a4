"""Intent detection: which tool (and so which agent) a clause asks for.

Each clause is embedded and compared with every tool's exemplars (cosine similarity, best exemplar wins);
fuzzy keyword matches (rapidfuzz) add a boost, so "linkdin" and "paymnt link" still land. Goals nearer to
the out-of-scope exemplars than to any tool are out of scope.
"""

from __future__ import annotations

import re
import threading
from dataclasses import dataclass
from functools import cache

from rapidfuzz import fuzz

from creator_studio.prompts import load_yaml
from creator_studio.providers.llm.embeddings import Vectors, shared_encoder
from creator_studio.providers.llm.offline.slots import extract_topic

KEYWORD_BOOST = 0.12
_KEYWORD_CUTOFF = 88


@dataclass(frozen=True)
class IntentScore:
    tool: str
    agent: str
    score: float


@dataclass(frozen=True)
class ClauseIntent:
    clause: str
    ranked: tuple[IntentScore, ...]
    out_of_scope_score: float

    @property
    def best(self) -> IntentScore:
        return self.ranked[0]

    @property
    def margin(self) -> float:
        return self.ranked[0].score - self.ranked[1].score if len(self.ranked) > 1 else self.ranked[0].score

    def is_out_of_scope(self, floor: float) -> bool:
        return self.best.score < floor or self.out_of_scope_score > self.best.score + 0.05


_PLACEHOLDER = re.compile(r"\"Q\d+\"", re.IGNORECASE)
_PLATFORM_WORDS = re.compile(r"\b(?:bluesky|bsky|blue sky|mastodon|fediverse|linkedin|linked in|twitter|"
                             r"instagram|tiktok|facebook|youtube)\b", re.IGNORECASE)


def intent_text(text: str) -> str:
    """The clause with its subject and platform replaced by placeholders: what is asked matters here, not
    what about or where ("write a post about publishing on Mastodon" is a draft, not a publish)."""
    text = _PLACEHOLDER.sub("this text", text)
    topic = extract_topic(text)
    if topic and len(topic) < len(text) - 8:
        text = text.replace(topic, "a topic")
    return _PLATFORM_WORDS.sub("social media", text)


class IntentIndex:
    def __init__(self) -> None:
        spec = load_yaml("exemplars/tools")
        self.tool_agent: dict[str, str] = {tool: entry["agent"] for tool, entry in spec.items()}
        self.keywords: dict[str, list[str]] = {tool: [k.lower() for k in entry.get("keywords", [])]
                                               for tool, entry in spec.items()}
        self._owners: list[str] = []
        texts: list[str] = []
        for tool, entry in spec.items():
            for example in entry["examples"]:
                self._owners.append(tool)
                texts.append(example)
        encoder = shared_encoder()
        self._vectors: Vectors = encoder.encode([intent_text(t) for t in texts])
        self._out_of_scope: Vectors = encoder.encode(list(load_yaml("exemplars/out_of_scope")["examples"]))
        self._tools = list(spec)

    def prefetch(self, clauses: list[str]) -> None:
        """Embed clauses ahead of `classify` (the encoder keeps recent texts), all in one batch."""
        if clauses:
            shared_encoder().encode([intent_text(c.lower()) for c in clauses])

    def classify(self, clauses: list[str], allowed_tools: set[str] | None = None) -> list[ClauseIntent]:
        if not clauses:
            return []
        vectors = shared_encoder().encode([intent_text(c.lower()) for c in clauses])
        similarities = vectors @ self._vectors.T
        out_of_scope = (vectors @ self._out_of_scope.T).max(axis=1)
        results = []
        for row, clause in enumerate(clauses):
            best: dict[str, float] = {}
            for column, tool in enumerate(self._owners):
                if allowed_tools is not None and tool not in allowed_tools:
                    continue
                best[tool] = max(best.get(tool, -1.0), float(similarities[row, column]))
            lowered = clause.lower()
            for tool in best:
                if any(self._keyword_hit(keyword, lowered) for keyword in self.keywords[tool]):
                    best[tool] += KEYWORD_BOOST
            ranked = tuple(sorted((IntentScore(tool, self.tool_agent[tool], round(score, 4))
                                   for tool, score in best.items()), key=lambda s: s.score, reverse=True))
            results.append(ClauseIntent(clause=clause, ranked=ranked,
                                        out_of_scope_score=round(float(out_of_scope[row]), 4)))
        return results

    @staticmethod
    def _keyword_hit(keyword: str, text: str) -> bool:
        if re.search(rf"(?<!\w){re.escape(keyword)}(?!\w)", text):
            return True
        if len(keyword) < 5:
            return False
        # Fuzzy only against whole words ("linkdin" is "linkedin"; "unanswered" is not "answer").
        size = len(keyword.split())
        words = re.findall(r"[\w'/%-]+", text)
        return any(fuzz.ratio(keyword, " ".join(words[i:i + size])) >= _KEYWORD_CUTOFF
                   for i in range(max(1, len(words) - size + 1)))


_index_lock = threading.Lock()


@cache
def _build() -> IntentIndex:
    return IntentIndex()


def intent_index() -> IntentIndex:
    with _index_lock:
        return _build()


