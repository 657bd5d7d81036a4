"""Replays HTTP exchanges recorded from a real llama.cpp server through our OpenAI provider.

`make test-llm` runs tests/llm/test_openai_wire.py against llama-cpp-python serving SmolLM2-135M and records
every request and response body to tests/fixtures/llm_exchanges/*.json, together with what the test saw
through `build_openai_chat_model` (text, tool calls, parsed decisions, token usage). Here the same calls go
through the same provider, with the OpenAI SDK's transport (`httpx2.HTTPTransport.handle_request`) answering
from the recording instead of the network: the requests must match what was recorded, and the results must
be what the live test observed. Every response here came from the server; none is written by hand. To
refresh them, run `make test-llm`.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx2
import openai
import pytest
from langchain_core.messages import AIMessage, BaseMessage, HumanMessage, SystemMessage, ToolMessage
from pydantic import SecretStr

from creator_studio.graphs.state import RoutingDecision
from creator_studio.providers.llm.openai import build_openai_chat_model
from creator_studio.settings import Settings

pytestmark = pytest.mark.unit

EXCHANGES_DIR = Path(__file__).resolve().parents[1] / "fixtures" / "llm_exchanges"
# Nothing listens there: a request that escaped the replay would fail at once instead of reaching a server.
REPLAY_BASE_URL = "http://127.0.0.1:9/v1"


class Replay:
    """Answers each request with the next recorded response, after checking it goes to the same place.
    `model` is built by our provider with the settings the recording was made with."""

    def __init__(self, document: dict[str, Any], settings: Settings) -> None:
        self.document = document
        self.observed: dict[str, Any] = document["observed"]
        self.pending: list[dict[str, Any]] = list(document["exchanges"])
        self.sent: list[dict[str, Any]] = []
        self.model = build_openai_chat_model(settings, document["settings"]["model_name"])

    def recorded(self, index: int) -> dict[str, Any]:
        body = self.document["exchanges"][index]["request"]["json"]
        assert isinstance(body, dict)
        return body

    def answer(self, request: httpx2.Request) -> httpx2.Response:
        assert self.pending, f"an unrecorded request: {request.method} {request.url}"
        exchange = self.pending.pop(0)
        assert (request.method, request.url.path) == (exchange["request"]["method"], exchange["request"]["path"])
        self.sent.append(json.loads(request.content))
        response = exchange["response"]
        if isinstance(response["json"], dict | list):
            return httpx2.Response(response["status"], json=response["json"], request=request)
        return httpx2.Response(response["status"], text=response["json"], request=request)


@pytest.fixture
def replay(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Callable[[str], Replay]:
    def start(name: str) -> Replay:
        path = EXCHANGES_DIR / f"{name}.json"
        assert path.exists(), f"{path} is missing: run `make test-llm` to record it"
        document = json.loads(path.read_text(encoding="utf-8"))
        recorded = document["settings"]
        settings = Settings(home=tmp_path / "home", model=f"openai:{recorded['model_name']}",
                            openai_base_url=REPLAY_BASE_URL, openai_api_key=SecretStr("replay"),
                            model_timeout_s=recorded["model_timeout_s"],
                            model_max_retries=recorded["model_max_retries"],
                            model_temperature=recorded["model_temperature"])
        player = Replay(document, settings)

        def handle_request(transport: httpx2.HTTPTransport, request: httpx2.Request) -> httpx2.Response:
            return player.answer(request)

        monkeypatch.setattr(httpx2.HTTPTransport, "handle_request", handle_request)
        return player

    return start


def input_messages(request: dict[str, Any]) -> list[BaseMessage]:
    """The system and user messages of a recorded request, as the messages the test passed in."""
    kinds: dict[str, type[SystemMessage] | type[HumanMessage]] = {"system": SystemMessage, "user": HumanMessage}
    return [kinds[m["role"]](m["content"]) for m in request["messages"] if m["role"] in kinds]


def usage_of(message: AIMessage) -> dict[str, int]:
    usage = message.usage_metadata
    assert usage is not None
    return {"input_tokens": usage["input_tokens"], "output_tokens": usage["output_tokens"],
            "total_tokens": usage["total_tokens"]}


def without(body: dict[str, Any], *keys: str) -> dict[str, Any]:
    return {k: v for k, v in body.items() if k not in keys}


def test_replay_plain_chat(replay: Callable[[str], Replay]) -> None:
    player = replay("plain_chat")
    recorded, observed = player.recorded(0), player.observed

    reply = player.model.invoke(input_messages(recorded))

    assert player.sent == [recorded]  # model, temperature, stream flag and messages as our provider sends them
    assert not player.pending
    assert isinstance(reply, AIMessage) and not reply.tool_calls
    assert reply.content == observed["content"]
    assert usage_of(reply) == observed["usage"]
    assert usage_of(reply)["input_tokens"] > 0 and usage_of(reply)["output_tokens"] > 0


def test_replay_forced_tool_call_round_trip(replay: Callable[[str], Replay]) -> None:
    player = replay("tool_call_round_trip")
    first, second, observed = player.recorded(0), player.recorded(1), player.observed
    model = player.model
    tools = first["tools"]  # draft_post's schema as it was sent (the schema may have moved on since)
    assert [t["function"]["name"] for t in tools] == ["draft_post"]

    reply = model.bind_tools(tools, tool_choice="draft_post").invoke(input_messages(first))

    assert player.sent[0] == first
    assert isinstance(reply, AIMessage) and not reply.invalid_tool_calls
    assert [c["name"] for c in reply.tool_calls] == ["draft_post"]
    call = reply.tool_calls[0]
    assert {"name": call["name"], "id": call["id"], "args": call["args"]} == observed["tool_call"]
    assert call["args"]["platform"] and call["args"]["topic"]
    assert usage_of(reply) == observed["usage"]

    assistant, tool = second["messages"][2], second["messages"][3]
    said = AIMessage(content=assistant["content"], tool_calls=reply.tool_calls, id=reply.id)
    result = ToolMessage(content=tool["content"], tool_call_id=call["id"])
    final = model.bind_tools(tools).invoke([*input_messages(second), said, result])

    assert player.sent[1] == second  # the call and its result serialized as they went over the wire
    assert not player.pending
    assert isinstance(final, AIMessage) and not final.tool_calls
    assert final.content == observed["final_content"]
    assert usage_of(final) == observed["final_usage"]


def test_replay_structured_routing_with_function_calling(replay: Callable[[str], Replay]) -> None:
    player = replay("structured_routing_function_calling")
    recorded, observed = player.recorded(0), player.observed
    router = player.model.with_structured_output(RoutingDecision, method="function_calling", include_raw=True)

    output: dict[str, Any] = router.invoke(input_messages(recorded))

    sent = player.sent[0]
    assert not player.pending
    # RoutingDecision's schema may change: compare everything else, and the tool's name.
    assert without(sent, "tools") == without(recorded, "tools")
    assert [t["function"]["name"] for t in sent["tools"]] == ["RoutingDecision"]
    assert sent["tool_choice"] == {"type": "function", "function": {"name": "RoutingDecision"}}
    raw, parsed, error = output["raw"], output["parsed"], output["parsing_error"]
    assert isinstance(raw, AIMessage)
    assert raw.tool_calls[0]["args"] == observed["tool_call_args"]
    assert usage_of(raw) == observed["usage"]
    if observed["parsed"] is not None:
        assert isinstance(parsed, RoutingDecision) and error is None
        assert parsed.model_dump(mode="json") == observed["parsed"]
    else:
        assert parsed is None and type(error).__name__ == observed["parsing_error"]


def test_replay_structured_routing_as_the_graph_asks(replay: Callable[[str], Replay]) -> None:
    """The routing call as graphs/command_center.py makes it (method="json_schema", the default). The recorded
    server answered 500 (llama-cpp-python 0.3.36 knows no response_format type 'json_schema'): our provider
    surfaces that as an API error, not as the `parsing_error` the graph falls back on."""
    player = replay("structured_routing_json_schema")
    recorded, observed = player.recorded(0), player.observed["error"]
    router = player.model.with_structured_output(RoutingDecision, include_raw=True)

    with pytest.raises(openai.APIStatusError) as raised:
        router.invoke(input_messages(recorded))

    sent = player.sent[0]
    assert not player.pending
    assert without(sent, "response_format") == without(recorded, "response_format")
    assert sent["response_format"]["type"] == "json_schema"
    assert sent["response_format"]["json_schema"]["name"] == recorded["response_format"]["json_schema"]["name"]
    assert raised.value.status_code == observed["status_code"] == 500
    assert type(raised.value).__name__ == observed["type"]
    assert "response_format" in str(raised.value)


def test_recordings_come_from_the_llama_cpp_server() -> None:
    documents = [json.loads(p.read_text(encoding="utf-8")) for p in sorted(EXCHANGES_DIR.glob("*.json"))]
    assert {d["name"] for d in documents} >= {"plain_chat", "tool_call_round_trip",
                                             "structured_routing_function_calling",
                                             "structured_routing_json_schema"}
    for document in documents:
        assert document["recorded_with"]["server"].startswith("llama-cpp-python"), document["name"]
        assert document["exchanges"], document["name"]
        for exchange in document["exchanges"]:
            assert exchange["request"]["path"] == "/v1/chat/completions"
            if exchange["response"]["status"] == 200:
                assert exchange["response"]["json"]["model"] == document["recorded_with"]["served_model"]
