"""Memory on the embedded client: all-or-nothing imports, re-embedding after a model change, sync on read."""

from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np
import pytest

from creator_studio.errors import ConfigurationError
from creator_studio.memory.embeddings import LocalEmbedder
from creator_studio.memory.importers import ImportRejected
from creator_studio.memory.service import MemoryService
from creator_studio.memory.store import collection_name
from creator_studio.providers.llm.embeddings import Vectors
from creator_studio.providers.social.base import PostMetrics
from creator_studio.studio import Studio
from creator_studio.workspaces.service import Workspace

pytestmark = pytest.mark.unit
FIXTURES = Path(__file__).parent.parent / "fixtures" / "memory"


def _csv(path: Path, rows: list[str]) -> Path:
    path.write_text("id,platform,topic,text,likes,followers\n" + "\n".join(rows) + "\n", encoding="utf-8")
    return path


def test_a_failed_write_leaves_memory_as_it_was(studio: Studio, workspace: Workspace, tmp_path: Path,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    memory = studio.memory
    memory.import_posts(workspace, _csv(tmp_path / "first.csv", ["a,x,sql,Window functions in SQL.,10,1000"]))
    before = memory.counts(workspace)["content_performance"]
    rows = ["a,x,sql,Window functions in SQL.,999,1000"] + [f"n{i},bluesky,sql,New post {i} on joins.,5,400"
                                                             for i in range(30)]
    original = memory.store.upsert

    def half_then_fail(ws_id: str, kind: str, records: list[object], vectors: Vectors) -> None:
        half = len(records) // 2
        original(ws_id, kind, records[:half], vectors[:half])  # type: ignore[arg-type]
        raise RuntimeError("disk full")

    monkeypatch.setattr(memory.store, "upsert", half_then_fail)
    with pytest.raises(RuntimeError, match="disk full"):
        memory.import_posts(workspace, _csv(tmp_path / "second.csv", rows))
    monkeypatch.setattr(memory.store, "upsert", original)
    assert memory.counts(workspace)["content_performance"] == before
    [record] = memory.store.get(workspace.id, "content_performance", ids=["import:a"])
    assert record.metadata["likes"] == 10  # the replaced record is back as it was


def test_a_bad_file_imports_nothing(studio: Studio, workspace: Workspace) -> None:
    before = studio.memory.counts(workspace)
    with pytest.raises(ImportRejected, match="line 3"):
        studio.memory.import_posts(workspace, FIXTURES / "bad_rows.csv")
    assert studio.memory.counts(workspace) == before


class HashEmbedder:
    """A different (deterministic, 16-dimensional) embedding model, to switch to."""

    name = "hash-16"

    def embed(self, texts: list[str]) -> Vectors:
        rows = [np.frombuffer(hashlib.sha256(t.encode()).digest()[:16], dtype=np.uint8).astype(np.float32) + 1
                for t in texts]
        vectors = np.asarray(rows, dtype=np.float32).reshape(len(texts), 16)
        return vectors / np.linalg.norm(vectors, axis=1, keepdims=True)


def test_changing_the_embedding_model_asks_for_a_reindex_which_re_embeds(studio: Studio,
                                                                         workspace: Workspace) -> None:
    studio.memory.sync(workspace)
    counts = studio.memory.counts(workspace)
    studio.memory.close()
    switched = MemoryService(studio.settings, studio.social, embedder=HashEmbedder())
    with pytest.raises(ConfigurationError, match="studio memory reindex"):
        switched.best_examples(workspace, "pandas groupby")
    progress: list[tuple[int, int]] = []
    assert switched.reindex(workspace, lambda d, t: progress.append((d, t))) == sum(counts.values())
    assert progress[-1] == (sum(counts.values()), sum(counts.values()))
    assert switched.counts(workspace) == counts
    assert switched.best_examples(workspace, "pandas groupby", limit=12)  # the tagged topic still matches
    switched.close()


def test_memory_follows_the_platform_on_read(studio: Studio, workspace: Workspace) -> None:
    """Changes made behind the content service's back (the sandbox world, a worker) reach memory lazily."""
    post = studio.social.posts(workspace.id, platform="bluesky")[-1]
    studio.memory.sync(workspace)
    studio.social.set_metrics(workspace.id, post.id, PostMetrics(likes=5000, reposts=900))
    [best] = studio.memory.best_examples(workspace, post.topic or "", platform="bluesky", limit=1)
    assert best.post_id == post.id and best.engagement_rate == pytest.approx(5900 / 4200, abs=1e-4)


def test_collection_names_are_valid_and_per_workspace() -> None:
    first = collection_name("default", "brand_voice")
    second = collection_name("Default!", "brand_voice")
    assert first != second
    assert first.startswith("ws-default-") and first.endswith("-brand_voice")
    assert collection_name("../../etc", "audience_facts").replace("-", "").replace("_", "").isalnum()


def test_the_local_embedder_shares_the_routers_model_and_caches() -> None:
    from creator_studio.providers.llm.embeddings import shared_encoder

    embedder = LocalEmbedder()
    vectors = embedder.embed(["pandas groupby", "data cleaning", "pandas groupby"])
    assert vectors.shape == (3, 384)
    assert np.allclose(vectors[0], vectors[2])
    assert np.allclose(vectors[1], shared_encoder().encode(["data cleaning"])[0], atol=1e-5)


def test_a_long_post_is_chunked_and_comes_back_once_whole(studio: Studio, workspace: Workspace,
                                                          tmp_path: Path) -> None:
    body = " ".join(f"Part {i}: resample the series to weekly means, then compare rolling windows." for i in range(40))
    before = studio.memory.counts(workspace)["content_performance"]
    path = _csv(tmp_path / "long.csv", [f'long,linkedin,time series,"{body}",50,900'])
    summary = studio.memory.import_posts(workspace, path)
    assert summary.posts == 1 and summary.chunks > 3
    assert studio.memory.counts(workspace)["content_performance"] == before + summary.chunks
    examples = studio.memory.best_examples(workspace, "time series", limit=5)
    [example] = [e for e in examples if e.post_id == "import:long"]
    assert example.text == body  # the whole post, not one chunk
