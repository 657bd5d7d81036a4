"""Memory on an OpenAI-compatible embeddings endpoint (a small stand-in server on loopback)."""

from __future__ import annotations

import base64
import hashlib
import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, ClassVar

import numpy as np
import pytest

from creator_studio.memory.service import MemoryService
from creator_studio.studio import Studio
from creator_studio.workspaces.service import Workspace

pytestmark = pytest.mark.integration


def _vector(text: str) -> list[float]:
    """Deterministic 32-d vectors where texts sharing words are close (bag of hashed words)."""
    vector = np.zeros(32, dtype=np.float32)
    for word in text.lower().replace(":", " ").split():
        vector[int(hashlib.sha256(word.encode()).hexdigest(), 16) % 32] += 1
    return (vector / max(float(np.linalg.norm(vector)), 1e-6)).tolist()


class EmbeddingsHandler(BaseHTTPRequestHandler):
    requests: ClassVar[list[dict[str, Any]]] = []

    def do_POST(self) -> None:
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        EmbeddingsHandler.requests.append({"path": self.path, "auth": self.headers.get("Authorization"), **body})
        data = []
        for index, text in enumerate(body["input"]):
            vector = _vector(text)
            encoded: Any = (base64.b64encode(np.asarray(vector, dtype=np.float32).tobytes()).decode()
                            if body.get("encoding_format") == "base64" else vector)
            data.append({"object": "embedding", "index": index, "embedding": encoded})
        payload = json.dumps({"object": "list", "data": data, "model": body["model"],
                              "usage": {"prompt_tokens": 1, "total_tokens": 1}}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def embeddings_server() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), EmbeddingsHandler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    EmbeddingsHandler.requests = []
    yield f"http://127.0.0.1:{server.server_address[1]}/v1"
    server.shutdown()
    server.server_close()


def test_memory_embeds_through_the_configured_endpoint(studio: Studio, workspace: Workspace,
                                                       embeddings_server: str) -> None:
    settings = studio.settings.model_copy(update={"embedding_model": "text-embedding-3-small",
                                                  "openai_base_url": embeddings_server})
    memory = MemoryService(settings, studio.social)
    try:
        assert memory.embedder.name == "openai:text-embedding-3-small"
        examples = memory.best_examples(workspace, "data cleaning", limit=2)
        assert examples and all(e.topic == "data cleaning" for e in examples)
        requests = EmbeddingsHandler.requests
        assert requests and all(r["path"] == "/v1/embeddings" for r in requests)
        assert all(r["model"] == "text-embedding-3-small" for r in requests)
        # Raw strings, not tiktoken token ids: nothing had to be downloaded to split texts.
        assert all(isinstance(text, str) for r in requests for text in r["input"])
        assert any(text == "data cleaning" for r in requests for text in r["input"])
    finally:
        memory.close()
