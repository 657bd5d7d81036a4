"""The whole product on a loopback port: a seeded studio in a temp STUDIO_HOME, served by uvicorn in a
thread, and Debian's Chromium driven by Playwright with a fresh profile."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
import uvicorn

from creator_studio.api.app import create_app
from creator_studio.api.tokens import TokenService
from creator_studio.sandbox.bootstrap import create_workspace
from creator_studio.settings import Settings
from creator_studio.studio import Studio

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-quic"]
ARTIFACTS = Path(__file__).resolve().parents[2] / ".test-artifacts" / "e2e"


@dataclass(frozen=True)
class LiveServer:
    url: str
    studio: Studio
    editor_token: str
    owner_token: str


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def live_server(tmp_path: Path) -> Iterator[LiveServer]:
    settings = Settings(home=tmp_path / "home", model="offline")
    studio = Studio.open(settings)  # the real migrations, like `studio serve`
    create_workspace(studio, "default")
    tokens = TokenService(studio.db)
    editor = tokens.create("default", role="editor", name="e2e").token
    owner = tokens.create("default", role="owner", name="e2e-owner").token
    app = create_app(studio)
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning",
                                           timeout_graceful_shutdown=1))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while True:
        try:
            if httpx.get(f"{url}/readyz", timeout=1).status_code == 200:
                break
        except httpx.TransportError:
            pass
        if time.monotonic() > deadline:
            raise RuntimeError("the server did not become ready in 30 s")
        time.sleep(0.1)
    try:
        yield LiveServer(url=url, studio=studio, editor_token=editor, owner_token=owner)
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        app.state.api.runner.close()
        studio.close()
