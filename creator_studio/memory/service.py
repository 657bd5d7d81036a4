"""MemoryService: keeps the three collections in step with the studio and answers the content tools.

The platform's posts, comments and the workspace's brand voice are the truth; memory mirrors them. It is
refreshed (1) right away when the content service publishes a post or records new metrics, and (2) lazily
before any read, by comparing a fingerprint of that truth with what was last mirrored. So a studio opened on
a copied database (tests, eval trials) builds its memory on first use, and never reads stale metrics.
"""

from __future__ import annotations

import hashlib
import json
import logging
import threading
from collections import Counter
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from pydantic import BaseModel
from rapidfuzz import fuzz

from creator_studio.memory import brand as brand_memory
from creator_studio.memory.chunking import chunk_text
from creator_studio.memory.embeddings import Embedder, build_embedder
from creator_studio.memory.importers import read_posts
from creator_studio.memory.ranking import platform_baselines, post_rate, relative_performance
from creator_studio.memory.records import COLLECTIONS, CollectionName, Example, MemoryRecord, PastPost, SearchHit
from creator_studio.memory.store import MemoryStore, open_client
from creator_studio.providers.llm.embeddings import Vectors
from creator_studio.providers.social.base import Comment, PublishedPost, SocialProvider
from creator_studio.settings import Settings
from creator_studio.workspaces.service import BrandVoice, Workspace

log = logging.getLogger(__name__)

Progress = Callable[[int, int], None]  # (done, total)
EMBED_BATCH = 128
CANDIDATES = 40  # nearest posts considered before ranking by performance
MIN_SIMILARITY = 0.35  # below this a past post is about something else
NEAR_MARGIN = 0.12  # how much less similar than the nearest post a post may be and still count as on topic
SAME_TOPIC = 90  # rapidfuzz token_set_ratio at which a post's own topic label counts as the topic asked about


class ImportSummary(BaseModel):
    file: str
    posts: int
    chunks: int
    platforms: dict[str, int]


class BrandRules(BaseModel):
    tone: str
    banned_words: list[str]
    vocabulary: list[str]
    example_posts: list[str]


class MemoryService:
    def __init__(self, settings: Settings, social: SocialProvider, *, embedder: Embedder | None = None) -> None:
        self._settings = settings
        self._social = social
        self._embedder = embedder
        self._store: MemoryStore | None = None
        self._lock = threading.RLock()
        self._mirrored: dict[tuple[str, str], str] = {}  # (workspace, part) -> fingerprint last mirrored
        self._baselines: dict[str, dict[str, float]] = {}  # workspace -> platform -> median engagement rate

    # Plumbing ------------------------------------------------------------------------------------------
    @property
    def embedder(self) -> Embedder:
        if self._embedder is None:
            self._embedder = build_embedder(self._settings)
        return self._embedder

    @property
    def store(self) -> MemoryStore:
        with self._lock:
            if self._store is None:  # opened on first use: most commands never touch memory
                self._store = MemoryStore(open_client(self._settings.chroma_url, self._settings.home),
                                          self.embedder.name)
            return self._store

    def close(self) -> None:
        with self._lock:
            if self._store is not None:
                self._store.close()
                self._store = None

    def _embed(self, texts: Sequence[str], progress: Progress | None = None) -> Vectors:
        if not texts:
            return self.embedder.embed([])
        parts = []
        for start in range(0, len(texts), EMBED_BATCH):
            parts.append(self.embedder.embed(list(texts[start:start + EMBED_BATCH])))
            if progress:
                progress(min(start + EMBED_BATCH, len(texts)), len(texts))
        import numpy as np

        return np.concatenate(parts).astype(np.float32)

    def _write(self, ws_id: str, kind: CollectionName, records: Sequence[MemoryRecord],
               progress: Progress | None = None) -> None:
        if records:
            self.store.upsert(ws_id, kind, records, self._embed([r.text for r in records], progress))
            if kind == "content_performance":
                self._baselines.pop(ws_id, None)

    # Keeping memory in step ------------------------------------------------------------------------------
    def sync(self, ws: Workspace) -> None:
        """Mirror the brand voice, published posts and comments of `ws` where they changed since last time."""
        with self._lock:
            self._sync_brand(ws)
            self._sync_posts(ws)
            self._sync_audience(ws)

    def _changed(self, ws_id: str, part: str, state: Any) -> str | None:
        fingerprint = hashlib.sha256(json.dumps(state, sort_keys=True, default=str).encode()).hexdigest()
        return None if self._mirrored.get((ws_id, part)) == fingerprint else fingerprint

    def _sync_brand(self, ws: Workspace) -> None:
        fingerprint = self._changed(ws.id, "brand", ws.brand_voice.model_dump())
        if fingerprint is None:
            return
        desired = {r.id: r for r in brand_memory.brand_records(ws.brand_voice)}
        stored = {r.id: r for r in self.store.get(ws.id, "brand_voice", with_documents=True)
                  if r.metadata.get("kind") != brand_memory.EXAMPLE_KIND}
        self.store.delete(ws.id, "brand_voice", [i for i in stored if i not in desired])
        self._write(ws.id, "brand_voice", [r for i, r in desired.items() if _differs(r, stored.get(i))])
        self._mirrored[(ws.id, "brand")] = fingerprint

    def _sync_posts(self, ws: Workspace) -> None:
        followers = {(a.platform, a.handle): a.followers for a in self._social.accounts(ws.id)}
        posts = [_past_post(p, followers.get((p.platform, p.account), 0)) for p in self._social.posts(ws.id)]
        fingerprint = self._changed(ws.id, "posts", [p.model_dump() for p in posts])
        if fingerprint is None:
            return
        stored = {r.id: r for r in self.store.get(ws.id, "content_performance", where={"origin": "published"})}
        by_source: dict[str, list[MemoryRecord]] = {}
        for record in stored.values():
            by_source.setdefault(record.source_id, []).append(record)
        new: list[PastPost] = []
        for post in posts:
            chunks = by_source.get(post.id)
            if not chunks:
                new.append(post)
            elif any(_metrics_differ(c.metadata, post) for c in chunks):
                self._update_metrics(ws.id, chunks, post)
        self.remember_posts(ws, new)
        self._mirrored[(ws.id, "posts")] = fingerprint

    def _sync_audience(self, ws: Workspace) -> None:
        comments = self._social.comments(ws.id, include_hidden=False)
        fingerprint = self._changed(ws.id, "audience", [[c.id, c.text, c.replied] for c in comments]
                                    + [ws.brand_voice.audience, ws.brand_voice.niche])
        if fingerprint is None:
            return
        topics = {p.id: p.topic for p in self._social.posts(ws.id)}
        desired = {r.id: r for r in _audience_records(ws.brand_voice, comments, topics)}
        stored = {r.id: r for r in self.store.get(ws.id, "audience_facts", with_documents=True)}
        self.store.delete(ws.id, "audience_facts", [i for i in stored if i not in desired])
        self._write(ws.id, "audience_facts", [r for i, r in desired.items() if _differs(r, stored.get(i))])
        self._mirrored[(ws.id, "audience")] = fingerprint

    def remember_posts(self, ws: Workspace, posts: Sequence[PastPost], progress: Progress | None = None) -> int:
        """Embed and store posts (long ones chunked); the same post id again replaces its old record."""
        records = [record for post in posts for record in post_records(post)]
        with self._lock:
            fresh_ids = {r.id for r in records}
            stale = [i for i in self._chunk_ids(ws.id, [p.id for p in posts]) if i not in fresh_ids]
            self._write(ws.id, "content_performance", records, progress)
            self.store.delete(ws.id, "content_performance", stale)  # a text that got shorter has fewer chunks
        return len(records)

    def remember_published(self, ws: Workspace, post: PublishedPost) -> None:
        """Called by the content service after a publish: the post is in memory before the next draft."""
        followers = {(a.platform, a.handle): a.followers for a in self._social.accounts(ws.id, post.platform)}
        self.remember_posts(ws, [_past_post(post, followers.get((post.platform, post.account), 0))])

    def record_metrics(self, ws: Workspace, post: PublishedPost) -> None:
        """Called by the content service when a post's metrics change: its record changes with them."""
        followers = {(a.platform, a.handle): a.followers for a in self._social.accounts(ws.id, post.platform)}
        past = _past_post(post, followers.get((post.platform, post.account), 0))
        with self._lock:
            chunks = self.store.get(ws.id, "content_performance", where={"source_id": post.id})
            if chunks:
                self._update_metrics(ws.id, chunks, past)
            else:
                self.remember_posts(ws, [past])

    def _update_metrics(self, ws_id: str, chunks: list[MemoryRecord], post: PastPost) -> None:
        """Metrics live in metadata: updating them needs no re-embedding."""
        fresh = _post_metadata(post)
        self.store.update_metadata(ws_id, "content_performance", [c.id for c in chunks],
                                   [{**c.metadata, **fresh} for c in chunks])
        self._baselines.pop(ws_id, None)

    def _chunk_ids(self, ws_id: str, source_ids: list[str]) -> list[str]:
        found: list[str] = []
        for start in range(0, len(source_ids), 500):  # bounded `$in` lists
            found += [r.id for r in self.store.get(ws_id, "content_performance",
                                                   where=_source_in(source_ids[start:start + 500]))]
        return found

    # Reading ---------------------------------------------------------------------------------------------
    def best_examples(self, ws: Workspace, topic: str, *, platform: str | None = None, limit: int = 3) -> list[Example]:
        """The best-performing past posts on `topic`: nearest by meaning (or tagged with that topic), then
        ranked by engagement rate relative to their platform's typical post."""
        self.sync(ws)
        vector = self._embed([topic])[0]
        where = {"platform": platform} if platform else None
        hits = self.store.query(ws.id, "content_performance", vector, limit=CANDIDATES, where=where)
        return self.rank(ws.id, topic, hits, limit=limit)

    def rank(self, ws_id: str, topic: str, hits: list[tuple[MemoryRecord, float]], *, limit: int) -> list[Example]:
        baselines = self.baselines(ws_id)
        best: dict[str, Example] = {}
        wanted = topic.strip().lower()
        labels = {record.id: str(record.metadata.get("topic") or "").lower() for record, _ in hits}
        on_topic = {i for i, label in labels.items() if label and fuzz.token_set_ratio(wanted, label) >= SAME_TOPIC}
        nearest = max((s for _, s in hits), default=0.0)
        for record, similarity in hits:
            meta = record.metadata
            if record.id not in on_topic:
                # Posts the creator tagged with another topic are about something else when some are tagged
                # with this one; untagged posts count when they are about as near as the nearest one.
                if on_topic and labels[record.id]:
                    continue
                if similarity < MIN_SIMILARITY or similarity < nearest - NEAR_MARGIN:
                    continue
            rate = float(meta.get("rate", 0.0))
            platform = str(meta.get("platform", ""))
            example = Example(post_id=record.source_id, platform=platform, topic=str(meta.get("topic") or "") or None,
                              text=str(meta.get("full_text") or record.text), similarity=round(similarity, 4),
                              engagement_rate=round(rate, 5),
                              relative_performance=round(relative_performance(rate, platform, baselines), 4))
            if record.source_id not in best or example.similarity > best[record.source_id].similarity:
                best[record.source_id] = example
        ranked = sorted(best.values(), key=lambda e: (e.relative_performance, e.similarity), reverse=True)
        return ranked[:limit]

    def baselines(self, ws_id: str) -> dict[str, float]:
        """Per-platform median engagement rate, cached until a post or its metrics change."""
        with self._lock:
            if ws_id not in self._baselines:
                self._baselines[ws_id] = platform_baselines(
                    r.metadata for r in self.store.get(ws_id, "content_performance"))
            return self._baselines[ws_id]

    def brand_rules(self, ws: Workspace) -> BrandRules:
        self.sync(ws)
        records = self.store.get(ws.id, "brand_voice", with_documents=True)
        voice = brand_memory.brand_from_records(ws.brand_voice, records)
        examples = [r.text for r in sorted(records, key=lambda r: r.id)
                    if r.metadata.get("kind") == brand_memory.EXAMPLE_KIND]
        tone = next((str(r.metadata["value"]) for r in records if r.metadata.get("kind") == "tone"), voice.tone)
        return BrandRules(tone=tone, banned_words=voice.banned_words, vocabulary=voice.vocabulary,
                          example_posts=examples)

    def brand_voice(self, ws: Workspace) -> BrandVoice:
        """The brand voice to write with, as memory holds it."""
        self.sync(ws)
        return brand_memory.brand_from_records(ws.brand_voice, self.store.get(ws.id, "brand_voice"))

    def brand_examples(self, ws: Workspace, topic: str, *, limit: int = 2) -> list[str]:
        """The creator's own example posts (from `studio brand import`), nearest to the topic first."""
        self.sync(ws)
        hits = self.store.query(ws.id, "brand_voice", self._embed([topic])[0], limit=limit,
                                where={"kind": brand_memory.EXAMPLE_KIND})
        return [record.text for record, _ in hits]

    def top_topics(self, ws: Workspace, *, platform: str | None = None) -> list[str]:
        """Topics of past posts (published and imported), by the engagement rate of their best post: the
        order `get_content_performance` shows, so suggestions and reports agree."""
        self.sync(ws)
        where = {"platform": platform} if platform else None
        scores: dict[str, float] = {}
        for record in self.store.get(ws.id, "content_performance", where=where):
            topic = str(record.metadata.get("topic") or "")
            if topic:
                scores[topic] = max(scores.get(topic, 0.0), float(record.metadata.get("rate", 0.0)))
        return sorted(scores, key=lambda t: scores[t], reverse=True)

    def audience_questions(self, ws: Workspace) -> list[str]:
        """What the audience asks, unanswered first, then in the order it was asked."""
        self.sync(ws)
        questions = [r for r in self.store.get(ws.id, "audience_facts", where={"kind": "question"},
                                               with_documents=True)]
        questions.sort(key=lambda r: (bool(r.metadata.get("replied")), str(r.metadata.get("at", ""))))
        return list(dict.fromkeys(r.text for r in questions))

    def search(self, ws: Workspace, query: str, *, collection: CollectionName | None = None,
               limit: int = 10) -> list[SearchHit]:
        self.sync(ws)
        vector = self._embed([query])[0]
        hits: list[SearchHit] = []
        for kind in [collection] if collection else list(COLLECTIONS):
            hits += [SearchHit(id=r.id, collection=kind, source_id=r.source_id, text=r.text,
                               similarity=round(s, 4), metadata=r.metadata)
                     for r, s in self.store.query(ws.id, kind, vector, limit=limit)]
        return sorted(hits, key=lambda h: h.similarity, reverse=True)[:limit]

    def counts(self, ws: Workspace) -> dict[str, int]:
        return {kind: self.store.count(ws.id, kind) for kind in COLLECTIONS}

    # Importing and re-embedding ------------------------------------------------------------------------------
    def import_posts(self, ws: Workspace, path: Path, *, platform: str | None = None, topic: str | None = None,
                     progress: Progress | None = None) -> ImportSummary:
        """Past posts from an export file, all or nothing: a bad row rejects the file before anything is
        written, and a failure while writing removes what this import wrote and restores what it replaced."""
        posts = read_posts(path, platform=platform, topic=topic)
        followers = {a.platform: a.followers for a in self._social.accounts(ws.id)}
        posts = [p if p.followers else p.model_copy(update={"followers": followers.get(p.platform, 0)})  # type: ignore[call-overload]
                 for p in posts]
        with self._lock:
            ids = [p.id for p in posts]
            before = self.store.snapshot(ws.id, "content_performance", self._chunk_ids(ws.id, ids))
            try:
                chunks = self.remember_posts(ws, posts, progress)
            except Exception:
                log.exception("memory import failed; rolling back", extra={"workspace_id": ws.id})
                self.store.delete(ws.id, "content_performance", self._chunk_ids(ws.id, ids))
                self.store.restore(ws.id, "content_performance", before)
                self._baselines.pop(ws.id, None)
                raise
        return ImportSummary(file=str(path), posts=len(posts), chunks=chunks,
                             platforms=dict(Counter(p.platform for p in posts)))

    def set_brand_examples(self, ws: Workspace, examples: list[str], *, replace: bool = False) -> int:
        """Store the creator's example posts as part of the brand voice."""
        with self._lock:
            if replace:
                old = self.store.get(ws.id, "brand_voice", where={"kind": brand_memory.EXAMPLE_KIND})
                self.store.delete(ws.id, "brand_voice", [r.id for r in old])
            records = [brand_memory.example_record(text) for text in examples if text.strip()]
            self._write(ws.id, "brand_voice", records)
            return len(records)

    def reindex(self, ws: Workspace, progress: Progress | None = None) -> int:
        """Re-embed every record of `ws` with the configured embedder (after changing the embedding model)."""
        with self._lock:
            saved = {kind: self.store.get(ws.id, kind, with_documents=True, check_embedder=False)
                     for kind in COLLECTIONS}
            total = sum(len(records) for records in saved.values())
            done = 0
            for kind, records in saved.items():
                vectors = self._embed([r.text for r in records], _offset(progress, done, total))
                self.store.drop(ws.id, kind)
                if records:
                    self.store.upsert(ws.id, kind, records, vectors)
                done += len(records)
            self._baselines.pop(ws.id, None)
            return total


def _offset(progress: Progress | None, base: int, total: int) -> Progress | None:
    """A progress callback for one part of a longer job."""
    if progress is None:
        return None
    report = progress
    return lambda done, _part_total: report(base + done, total)


# Records from the studio's state --------------------------------------------------------------------------
def _past_post(post: PublishedPost, followers: int) -> PastPost:
    m = post.metrics
    return PastPost(id=post.id, platform=post.platform, text=post.text, topic=post.topic,
                    published_at=post.published_at, likes=m.likes, reposts=m.reposts, replies=m.replies,
                    clicks=m.clicks, impressions=m.impressions, followers=followers, account=post.account,
                    url=post.url, origin="published")


def post_records(post: PastPost) -> list[MemoryRecord]:
    """The content_performance records of a post: one per chunk, the topic leading each embedded text."""
    chunks = chunk_text(post.text)
    return [MemoryRecord(id=post.id if len(chunks) == 1 else f"{post.id}#{index}", source_id=post.id,
                         text=f"{post.topic}: {chunk}" if post.topic else chunk,
                         metadata={**_post_metadata(post), "chunk": index, "chunks": len(chunks)})
            for index, chunk in enumerate(chunks)]


def _post_metadata(post: PastPost) -> dict[str, Any]:
    return {"kind": "post", "origin": post.origin, "platform": post.platform, "topic": post.topic or "",
            "published_at": post.published_at.isoformat() if post.published_at else "",
            "published_ts": int(post.published_at.timestamp()) if post.published_at else 0,
            "likes": post.likes, "reposts": post.reposts, "replies": post.replies, "clicks": post.clicks,
            "impressions": post.impressions, "followers": post.followers, "engagements": post.engagements,
            "rate": post_rate(post), "account": post.account or "", "url": post.url or "",
            "full_text": post.text[:4000]}


def _metrics_differ(meta: dict[str, Any], post: PastPost) -> bool:
    fresh = _post_metadata(post)
    return any(meta.get(k) != fresh[k] for k in ("likes", "reposts", "replies", "clicks", "impressions",
                                                 "followers", "topic"))


def _differs(record: MemoryRecord, stored: MemoryRecord | None) -> bool:
    if stored is None or stored.text != record.text:
        return True
    return any(stored.metadata.get(k) != v for k, v in record.metadata.items())


def _source_in(ids: list[str]) -> dict[str, Any]:
    return {"source_id": {"$in": ids}} if ids else {"source_id": "__none__"}


def _audience_records(brand: BrandVoice, comments: list[Comment], topics: dict[str, str | None]
                      ) -> list[MemoryRecord]:
    """Interests (the brand's audience and what they comment on), questions, and notes on top engagers."""
    records: list[MemoryRecord] = []
    if brand.audience:
        records.append(_fact("interest:audience", "interest", f"Audience: {brand.audience}"))
    discussed = Counter(topics.get(c.post_id) for c in comments if topics.get(c.post_id))
    for topic, count in discussed.most_common(10):
        records.append(_fact(f"interest:{_digest(str(topic))}", "interest",
                             f"The audience comments most on {topic} ({count} comments).", mentions=count))
    for comment in comments:
        if comment.is_question:
            records.append(_fact(f"question:{comment.id}", "question", comment.text.strip(),
                                 replied=comment.replied, platform=comment.platform, author=comment.author_handle,
                                 at=comment.created_at.isoformat(), post_id=comment.post_id))
    by_author = Counter(c.author_handle for c in comments)
    for handle, count in by_author.most_common(10):
        if count >= 2:
            about = sorted({str(topics.get(c.post_id)) for c in comments
                            if c.author_handle == handle and topics.get(c.post_id)})
            records.append(_fact(f"engager:{_digest(handle)}", "engager",
                                 f"{handle} commented {count} times" + (f", on {', '.join(about)}." if about else "."),
                                 author=handle, comments=count))
    return records


def _fact(key: str, kind: str, text: str, **metadata: Any) -> MemoryRecord:
    return MemoryRecord(id=f"fact:{key}", source_id=f"fact:{key}", text=text, metadata={"kind": kind, **metadata})


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()[:12]


