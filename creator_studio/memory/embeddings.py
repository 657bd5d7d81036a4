"""Embedding texts for memory: the shared MiniLM encoder (one model per process, also used by the offline
router) or an OpenAI-compatible embeddings endpoint. Vectors are always computed here and handed to Chroma,
never by Chroma's default embedding function (which would download a model at run time)."""

from __future__ import annotations

from typing import Protocol

import numpy as np
from pydantic import SecretStr

from creator_studio.providers.llm.embeddings import Vectors, shared_encoder
from creator_studio.settings import Settings


class Embedder(Protocol):
    """Turns texts into unit-length vectors; `name` is stored with each collection to detect a model change."""

    name: str

    def embed(self, texts: list[str]) -> Vectors: ...


class LocalEmbedder:
    """all-MiniLM-L6-v2 through the process-wide shared encoder. Its recent-text cache (one for the router and
    memory) makes a sandbox world rebuilt for every test or eval trial cost nothing to embed again."""

    name = "all-MiniLM-L6-v2"

    def embed(self, texts: list[str]) -> Vectors:
        return shared_encoder().encode(texts)


class OpenAICompatibleEmbedder:
    """Any OpenAI-compatible /embeddings endpoint (OpenAI, vLLM, llama.cpp server, Ollama)."""

    def __init__(self, settings: Settings) -> None:
        from langchain_openai import OpenAIEmbeddings

        assert settings.embedding_model
        self.name = f"openai:{settings.embedding_model}"
        # check_embedding_ctx_length=False sends raw strings: no tiktoken encoding download, no token splitting
        # (memory chunks texts itself); tiktoken_model_name only names an encoding that is never loaded.
        self._client = OpenAIEmbeddings(model=settings.embedding_model, openai_api_base=settings.openai_base_url,
                                        openai_api_key=settings.openai_api_key or SecretStr("not-needed"),
                                        check_embedding_ctx_length=False, tiktoken_model_name="cl100k_base",
                                        max_retries=settings.model_max_retries,
                                        request_timeout=settings.model_timeout_s)

    def embed(self, texts: list[str]) -> Vectors:
        if not texts:
            return np.zeros((0, 0), dtype=np.float32)
        vectors = np.asarray(self._client.embed_documents(texts), dtype=np.float32)
        norms = np.linalg.norm(vectors, axis=1, keepdims=True)
        return vectors / np.maximum(norms, 1e-12)


_local = LocalEmbedder()


def build_embedder(settings: Settings) -> Embedder:
    """The configured embedder (the local one is a process-wide singleton)."""
    if settings.embedding_model:
        return OpenAICompatibleEmbedder(settings)
    return _local
