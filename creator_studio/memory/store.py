"""The Chroma side of memory: which client (embedded or server), and one collection per kind and workspace.

Workspaces never share a collection, so no query can reach another workspace's memories; every record also
carries its `workspace_id`, checked on the way out as a second fence.
"""

from __future__ import annotations

import contextlib
import hashlib
import re
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs, urlsplit

import numpy as np

from creator_studio.errors import ConfigurationError
from creator_studio.memory.records import CollectionName, MemoryRecord, Scalar
from creator_studio.providers.llm.embeddings import Vectors

if TYPE_CHECKING:  # chromadb takes most of a second to import: only commands that use memory pay for it
    from chromadb.api import ClientAPI
    from chromadb.api.models.Collection import Collection
    from chromadb.config import Settings as ChromaSettings

PAGE = 5000  # records read per call
BATCH = 1000  # Chroma accepts a bounded batch per call; upserts are split into batches of this size


def _chroma_settings() -> ChromaSettings:
    from chromadb.config import Settings as ChromaSettings

    return ChromaSettings(anonymized_telemetry=False, allow_reset=False)


def open_client(chroma_url: str | None, home: Path) -> ClientAPI:
    """A persistent client in `home/memory`, or an HTTP client for `chroma_url`.

    The URL may name a tenant and database: `http://host:8000?tenant=t&database=d` (tests give each
    studio its own database on one shared server)."""
    import chromadb
    from chromadb.config import DEFAULT_DATABASE, DEFAULT_TENANT

    if not chroma_url:
        path = home / "memory"
        path.mkdir(parents=True, exist_ok=True)
        return chromadb.PersistentClient(path=str(path), settings=_chroma_settings())
    parts = urlsplit(chroma_url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ConfigurationError(f"STUDIO_CHROMA_URL {chroma_url!r} is not an http(s) URL like "
                                 "http://127.0.0.1:8000.")
    query = parse_qs(parts.query)
    return chromadb.HttpClient(host=parts.hostname, port=parts.port or (443 if parts.scheme == "https" else 80),
                               ssl=parts.scheme == "https", settings=_chroma_settings(),
                               tenant=query.get("tenant", [DEFAULT_TENANT])[0],
                               database=query.get("database", [DEFAULT_DATABASE])[0])


def collection_name(workspace_id: str, kind: CollectionName) -> str:
    """A valid Chroma name (3-512 of [a-zA-Z0-9._-]) unique per workspace: readable slug plus a hash."""
    slug = re.sub(r"[^a-zA-Z0-9]+", "-", workspace_id).strip("-")[:40] or "ws"
    digest = hashlib.sha256(workspace_id.encode()).hexdigest()[:10]
    return f"ws-{slug}-{digest}-{kind}"


class MemoryStore:
    def __init__(self, client: ClientAPI, embedder_name: str) -> None:
        self._client = client
        self._embedder_name = embedder_name
        self._collections: dict[tuple[str, CollectionName], Collection] = {}
        self._lock = threading.Lock()

    def collection(self, workspace_id: str, kind: CollectionName, *, check_embedder: bool = True) -> Collection:
        key = (workspace_id, kind)
        with self._lock:
            found = self._collections.get(key)
            if found is None:
                found = self._client.get_or_create_collection(
                    collection_name(workspace_id, kind), embedding_function=None,
                    configuration={"hnsw": {"space": "cosine"}},
                    metadata={"workspace_id": workspace_id, "kind": kind, "embedder": self._embedder_name})
                stored = (found.metadata or {}).get("embedder")
                if check_embedder and stored and stored != self._embedder_name:
                    raise ConfigurationError(
                        f"Memory for workspace {workspace_id!r} was embedded with {stored}, but {self._embedder_name} "
                        "is configured: run `studio memory reindex` to re-embed it.")
                self._collections[key] = found
            return found

    def drop(self, workspace_id: str, kind: CollectionName) -> None:
        with self._lock:
            self._collections.pop((workspace_id, kind), None)
            from chromadb.errors import NotFoundError

            with contextlib.suppress(ValueError, NotFoundError):  # never created: nothing to drop
                self._client.delete_collection(collection_name(workspace_id, kind))

    def count(self, workspace_id: str, kind: CollectionName) -> int:
        return self.collection(workspace_id, kind).count()

    def upsert(self, workspace_id: str, kind: CollectionName, records: Sequence[MemoryRecord],
               vectors: Vectors) -> None:
        _upsert(self.collection(workspace_id, kind), workspace_id, records, vectors)

    def update_metadata(self, workspace_id: str, kind: CollectionName, ids: list[str],
                        metadatas: list[dict[str, Scalar]]) -> None:
        if ids:
            self.collection(workspace_id, kind).update(ids=ids, metadatas=metadatas)  # type: ignore[arg-type]

    def delete(self, workspace_id: str, kind: CollectionName, ids: list[str]) -> None:
        collection = self.collection(workspace_id, kind)
        for start in range(0, len(ids), BATCH):
            collection.delete(ids=ids[start:start + BATCH])

    def get(self, workspace_id: str, kind: CollectionName, *, ids: list[str] | None = None,
            where: dict[str, Any] | None = None, with_documents: bool = False,
            check_embedder: bool = True) -> list[MemoryRecord]:
        include: list[Any] = ["metadatas", "documents"] if with_documents else ["metadatas"]
        collection = self.collection(workspace_id, kind, check_embedder=check_embedder)
        found: list[MemoryRecord] = []
        offset = 0
        while True:  # in pages: Chroma's SQLite refuses very long statements (100k memories)
            if ids is not None:
                result = collection.get(ids=ids[offset:offset + PAGE], where=where, include=include)
            else:
                result = collection.get(where=where, include=include, limit=PAGE, offset=offset)
            documents = result.get("documents") or [""] * len(result["ids"])
            found += [_record(i, d, m) for i, d, m in zip(result["ids"], documents, result["metadatas"] or [],
                                                          strict=True)
                      if (m or {}).get("workspace_id") == workspace_id]
            offset += PAGE
            if (ids is not None and offset >= len(ids)) or (ids is None and len(result["ids"]) < PAGE):
                return found

    def snapshot(self, workspace_id: str, kind: CollectionName, ids: list[str]) -> tuple[list[MemoryRecord], Vectors]:
        """Records with their vectors, to put back if a multi-step write fails half-way."""
        if not ids:
            return [], np.zeros((0, 0), dtype=np.float32)
        result = self.collection(workspace_id, kind).get(ids=ids, include=["metadatas", "documents", "embeddings"])
        records = [_record(i, d, m) for i, d, m in
                   zip(result["ids"], result["documents"] or [], result["metadatas"] or [], strict=True)]
        return records, np.asarray(result["embeddings"], dtype=np.float32)

    def restore(self, workspace_id: str, kind: CollectionName, saved: tuple[list[MemoryRecord], Vectors]) -> None:
        records, vectors = saved
        if records:  # straight to the collection: restoring must not depend on the write path that failed
            _upsert(self.collection(workspace_id, kind), workspace_id, records, vectors)

    def query(self, workspace_id: str, kind: CollectionName, vector: Vectors, *, limit: int,
              where: dict[str, Any] | None = None) -> list[tuple[MemoryRecord, float]]:
        """Nearest records with their cosine similarity (1 = same direction), best first."""
        collection = self.collection(workspace_id, kind)
        result = collection.query(query_embeddings=vector.reshape(1, -1), n_results=limit, where=where,
                                  include=["metadatas", "documents", "distances"])
        ids = result["ids"][0]
        documents = (result["documents"] or [[]])[0]
        metadatas = (result["metadatas"] or [[]])[0]
        distances = (result["distances"] or [[]])[0]
        hits = []
        for record_id, document, metadata, distance in zip(ids, documents, metadatas, distances, strict=True):
            meta = dict(metadata or {})
            if meta.get("workspace_id") != workspace_id:
                continue
            hits.append((_record(record_id, document, meta), 1.0 - float(distance)))
        return hits

    def close(self) -> None:
        self._collections.clear()
        close = getattr(self._client, "close", None)
        if callable(close):
            close()


def _upsert(collection: Collection, workspace_id: str, records: Sequence[MemoryRecord], vectors: Vectors) -> None:
    for start in range(0, len(records), BATCH):
        batch = records[start:start + BATCH]
        collection.upsert(ids=[r.id for r in batch], embeddings=vectors[start:start + BATCH],
                          documents=[r.text for r in batch], metadatas=[_metadata(workspace_id, r) for r in batch])


def _metadata(workspace_id: str, record: MemoryRecord) -> dict[str, Scalar]:
    return {**record.metadata, "workspace_id": workspace_id, "source_id": record.source_id}


def _record(record_id: str, document: str | None, metadata: Any) -> MemoryRecord:
    meta = dict(metadata or {})
    return MemoryRecord(id=record_id, text=document or "", source_id=str(meta.get("source_id", record_id)),
                        metadata=meta)
