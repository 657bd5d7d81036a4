"""Fixtures for the `llm` tier: a real OpenAI-compatible server (started by `scripts/test-llm.sh`).

The server is described by environment variables the script exports: `OPENAI_BASE_URL`, `STUDIO_LLM_MODEL`
(the name the server answers to) and, for the recordings, `STUDIO_LLM_CHAT_FORMAT` and
`STUDIO_LLM_MODEL_FILE`. Without them every test here is skipped.

`wire` records what crossed the wire (request JSON body, response JSON body) by wrapping
`httpx2.HTTPTransport.handle_request`, the transport of the OpenAI SDK's own HTTP client (openai 3 speaks HTTP
through `httpx2`, not `httpx`): the model under test is built by `build_openai_chat_model` exactly as in
production, nothing is injected into it. With `STUDIO_LLM_RECORD=1` (the script's default) a test whose
checks passed saves its exchanges to `tests/fixtures/llm_exchanges/<name>.json`, which
`tests/unit/test_openai_replay.py` replays in the default suite.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from importlib.metadata import version
from pathlib import Path
from typing import Any

import httpx2
import pytest
from pydantic import SecretStr

from creator_studio.runs.runner import Runner, RunOutcome
from creator_studio.sandbox.seed import DEFAULT_BRAND, DEFAULT_TIMEZONE, seed_default_world
from creator_studio.settings import Settings
from creator_studio.studio import Studio

EXCHANGES_DIR = Path(__file__).resolve().parents[1] / "fixtures" / "llm_exchanges"
LOOPBACK = {"127.0.0.1", "localhost", "::1"}
# The same fixed "now" as tests/conftest.py (Wednesday 25 November 2026, 15:00 in Berlin).
FIXED_NOW = datetime(2026, 11, 25, 14, 0, tzinfo=UTC)


@pytest.fixture(scope="session")
def llm_server() -> dict[str, str]:
    base_url, model = os.environ.get("OPENAI_BASE_URL"), os.environ.get("STUDIO_LLM_MODEL")
    if not base_url or not model:
        pytest.skip("needs the local OpenAI-compatible server: run `make test-llm`")
    return {"base_url": base_url, "model": model,
            "chat_format": os.environ.get("STUDIO_LLM_CHAT_FORMAT", "unknown"),
            "model_file": os.environ.get("STUDIO_LLM_MODEL_FILE", "unknown")}


@pytest.fixture
def llm_settings(llm_server: dict[str, str], tmp_path: Path) -> Settings:
    """Settings for the real endpoint. No retries: every request on the wire is one test step."""
    return Settings(home=tmp_path / "home", model=f"openai:{llm_server['model']}",
                    openai_base_url=llm_server["base_url"],
                    openai_api_key=SecretStr("not-needed-for-local-servers"),
                    model_timeout_s=120.0, model_max_retries=0)


@pytest.fixture
def llm_studio(llm_settings: Settings) -> Iterator[Studio]:
    """A seeded studio (like the default `studio` fixture) whose model is the real endpoint."""
    studio = Studio.open(llm_settings, migrate_schema=False)
    studio.clock = lambda: FIXED_NOW
    ws = studio.workspaces.create("default", "Maya Chen Studio", DEFAULT_TIMEZONE, DEFAULT_BRAND)
    seed_default_world(studio, ws, FIXED_NOW)
    yield studio
    studio.close()


GRAPH_GOAL = "Draft a LinkedIn post about my Python course for analysts."


@pytest.fixture(scope="module")
def graph_outcome(llm_server: dict[str, str], tmp_path_factory: pytest.TempPathFactory) -> RunOutcome:
    """One whole run of the graph against the server, configured the way a user would: environment
    variables only (the script exports OPENAI_BASE_URL). A router threshold above 1 sends every goal to the
    model's routing call; the budgets keep a rambling small model's run short. Run once per module."""
    home = tmp_path_factory.mktemp("graph") / "home"
    with pytest.MonkeyPatch.context() as env:
        for name, value in {"STUDIO_HOME": str(home), "STUDIO_MODEL": f"openai:{llm_server['model']}",
                            "STUDIO_ROUTER_THRESHOLD": "1.01", "STUDIO_MODEL_MAX_RETRIES": "0",
                            "STUDIO_MODEL_TIMEOUT_S": "300", "STUDIO_MAX_MODEL_CALLS": "4",
                            "STUDIO_MAX_AGENT_STEPS": "1"}.items():
            env.setenv(name, value)
        settings = Settings()
    assert settings.router_threshold > 1 and settings.openai_base_url == llm_server["base_url"]
    studio = Studio.open(settings, migrate_schema=False)
    studio.clock = lambda: FIXED_NOW
    ws = studio.workspaces.create("default", "Maya Chen Studio", DEFAULT_TIMEZONE, DEFAULT_BRAND)
    seed_default_world(studio, ws, FIXED_NOW)
    runner = Runner(studio)
    try:
        return runner.start(GRAPH_GOAL, auto_approve=True)
    except Exception as exc:  # the runner must turn every failure into a run status
        pytest.fail(f"Runner.start raised {type(exc).__name__}: {exc}; a run must end with a status instead")
    finally:
        runner.close()
        studio.close()


class WireRecorder:
    """Keeps every loopback HTTP exchange of one test; `save` writes them once the test's checks passed."""

    def __init__(self, server: dict[str, str], settings: Settings) -> None:
        self.server = server
        self.settings = settings
        self.exchanges: list[dict[str, Any]] = []

    def wrap(self, original: Callable[[httpx2.HTTPTransport, httpx2.Request], httpx2.Response]
             ) -> Callable[[httpx2.HTTPTransport, httpx2.Request], httpx2.Response]:
        def handle_request(transport: httpx2.HTTPTransport, request: httpx2.Request) -> httpx2.Response:
            response = original(transport, request)
            if request.url.host not in LOOPBACK:
                return response
            body = response.read()  # the client gets the same, already read, response
            self.exchanges.append({
                "request": {"method": request.method, "path": request.url.path,
                            "json": json.loads(request.content) if request.content else None},
                "response": {"status": response.status_code,
                             "content_type": response.headers.get("content-type", ""),
                             "json": _json_or_text(body)},
            })
            return response

        return handle_request

    def save(self, name: str, *, observed: dict[str, Any], note: str = "") -> Path | None:
        """Write the exchanges with what the test observed through our provider (the replay's expectations)."""
        assert self.exchanges, "nothing was recorded"
        if os.environ.get("STUDIO_LLM_RECORD") != "1":
            return None
        EXCHANGES_DIR.mkdir(parents=True, exist_ok=True)
        path = EXCHANGES_DIR / f"{name}.json"
        document = {
            "name": name,
            "note": note,
            "recorded_with": {"server": "llama-cpp-python[server]==0.3.36", "chat_format": self.server["chat_format"],
                              "model_file": self.server["model_file"], "served_model": self.server["model"],
                              "langchain_openai": version("langchain-openai"), "openai": version("openai")},
            "settings": {"model_name": self.server["model"], "model_timeout_s": self.settings.model_timeout_s,
                         "model_max_retries": self.settings.model_max_retries,
                         "model_temperature": self.settings.model_temperature},
            "observed": observed,
            "exchanges": self.exchanges,
        }
        path.write_text(json.dumps(document, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
        return path


@pytest.fixture
def wire(llm_server: dict[str, str], llm_settings: Settings, monkeypatch: pytest.MonkeyPatch) -> WireRecorder:
    recorder = WireRecorder(llm_server, llm_settings)
    monkeypatch.setattr(httpx2.HTTPTransport, "handle_request", recorder.wrap(httpx2.HTTPTransport.handle_request))
    return recorder


def _json_or_text(body: bytes) -> Any:
    try:
        return json.loads(body)
    except ValueError:
        return body.decode("utf-8", errors="replace")
