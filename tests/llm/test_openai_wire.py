"""The real OpenAI wire path: our provider (`build_openai_chat_model`) against a local llama.cpp server.

A 135M model writes poorly; these tests check the protocol, not the prose: text and token usage come back,
a forced tool call carries our tool's name and JSON arguments, a tool result can be sent back, the routing
call's structured output is either parsed or reported as a parsing error, the whole graph ends in a status
and never in a traceback, and the chat writer returns text.
Run with `make test-llm` (scripts/test-llm.sh starts the server and exports its address).
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from langchain_core.messages import AIMessage, HumanMessage, SystemMessage, ToolMessage

from creator_studio.graphs.state import RoutingDecision
from creator_studio.prompts import render
from creator_studio.providers.llm.chat_writer import ChatWriter
from creator_studio.providers.llm.openai import build_openai_chat_model
from creator_studio.providers.llm.writer import WritingTask
from creator_studio.runs.runner import Runner
from creator_studio.sandbox.seed import DEFAULT_TIMEZONE
from creator_studio.settings import Settings
from creator_studio.studio import Studio
from creator_studio.tools.base import load_all_tools

pytestmark = pytest.mark.llm

# The same messages are rebuilt by tests/unit/test_openai_replay.py: keep them in step.
CHAT_MESSAGES = [SystemMessage("You are a helpful assistant. Answer in one short sentence."),
                 HumanMessage("Say hello to Maya, who teaches Python to data analysts.")]
TOOL_MESSAGES = [SystemMessage("You are the content agent of a creator's studio. Use the tools you are given."),
                 HumanMessage("Draft a LinkedIn post about my new Python course for data analysts.")]
TOOL_RESULT = {"summary": "Drafted a LinkedIn post about the Python course (dr_test01).",
               "draft": {"id": "dr_test01", "platform": "linkedin",
                         "text": "Spreadsheet refugees: my Python course opens on January 12."}}
ROUTER_AGENTS = "- content: Content. Drafts and schedules posts.\n- engagement: Engagement. Replies to comments."
ROUTER_GOAL = "<goal>Draft a LinkedIn post about my Python course.</goal>"


def usage_of(message: AIMessage) -> dict[str, int]:
    usage = message.usage_metadata
    assert usage is not None, f"no usage_metadata on {message!r}"
    return {"input_tokens": usage["input_tokens"], "output_tokens": usage["output_tokens"],
            "total_tokens": usage["total_tokens"]}


def router_messages() -> list[SystemMessage | HumanMessage]:
    system = render("command_center/router", agents=ROUTER_AGENTS, now="2026-11-25T15:00:00+01:00",
                    timezone=DEFAULT_TIMEZONE)
    return [SystemMessage(system), HumanMessage(ROUTER_GOAL)]


def test_plain_chat_completion_returns_text_and_usage(llm_settings: Settings, llm_server: dict[str, str],
                                                      wire: Any) -> None:
    model = build_openai_chat_model(llm_settings, llm_server["model"])
    reply = model.invoke(CHAT_MESSAGES)

    assert isinstance(reply, AIMessage)
    assert isinstance(reply.content, str) and reply.content.strip()
    usage = usage_of(reply)
    assert usage["input_tokens"] > 0 and usage["output_tokens"] > 0
    assert not reply.tool_calls
    wire.save("plain_chat", observed={"content": reply.content, "usage": usage},
              note="(1) a plain chat completion: text and token usage.")


def test_forced_tool_call_round_trip(llm_settings: Settings, llm_server: dict[str, str],
                                     wire: Any) -> None:
    spec = load_all_tools()["draft_post"]
    schema = spec.openai_schema()
    model = build_openai_chat_model(llm_settings, llm_server["model"])

    # Turn 1: the tool is forced, so the reply must be a call to it with JSON arguments.
    reply = model.bind_tools([schema], tool_choice="draft_post").invoke(TOOL_MESSAGES)
    assert isinstance(reply, AIMessage)
    assert not reply.invalid_tool_calls, reply.invalid_tool_calls
    assert [c["name"] for c in reply.tool_calls] == ["draft_post"]
    call = reply.tool_calls[0]
    assert call["id"]
    raw_arguments = reply.additional_kwargs["tool_calls"][0]["function"]["arguments"]
    assert json.loads(raw_arguments) == call["args"]
    # The server generated them under a grammar made from our schema: our argument model accepts them.
    args = spec.args_model.model_validate(call["args"])
    assert args.platform in ("bluesky", "mastodon", "x", "linkedin", "threads")
    first_usage = usage_of(reply)
    assert first_usage["input_tokens"] > 0 and first_usage["output_tokens"] > 0

    # Turn 2: the tool's result goes back as a ToolMessage; the model answers (as an agent turn would, with
    # the tools still bound and no tool_choice).
    result = ToolMessage(content=json.dumps(TOOL_RESULT), tool_call_id=call["id"])
    final = model.bind_tools([schema]).invoke([*TOOL_MESSAGES, reply, result])
    assert isinstance(final, AIMessage)
    assert isinstance(final.content, str) and final.content.strip()
    assert not final.tool_calls
    final_usage = usage_of(final)
    assert final_usage["input_tokens"] > first_usage["input_tokens"]  # the call and its result were sent

    request_2 = wire.exchanges[1]["request"]["json"]
    assert [m["role"] for m in request_2["messages"]] == ["system", "user", "assistant", "tool"]
    assert request_2["messages"][2]["tool_calls"][0]["id"] == call["id"]
    assert request_2["messages"][3]["tool_call_id"] == call["id"]
    wire.save("tool_call_round_trip",
              observed={"tool_call": {"name": call["name"], "id": call["id"], "args": call["args"]},
                        "usage": first_usage, "final_content": final.content, "final_usage": final_usage},
              note="(2) draft_post forced with tool_choice, then the tool result sent back for a final answer.")


def test_structured_routing_output_is_parsed_or_reported(llm_settings: Settings, llm_server: dict[str, str],
                                                         wire: Any) -> None:
    """The Command Center's routing call, as the graph makes it (`with_structured_output(..., include_raw=True)`):
    the graph needs either a parsed `RoutingDecision` or a `parsing_error` it can fall back on."""
    model = build_openai_chat_model(llm_settings, llm_server["model"])
    router = model.with_structured_output(RoutingDecision, include_raw=True)
    output: dict[str, Any] = router.invoke(router_messages())

    raw, parsed, error = output["raw"], output["parsed"], output["parsing_error"]
    assert isinstance(raw, AIMessage)
    usage = usage_of(raw)
    assert usage["input_tokens"] > 0 and usage["output_tokens"] > 0
    assert (parsed is None) != (error is None), output
    if parsed is not None:
        assert isinstance(parsed, RoutingDecision)
    wire.save("structured_routing",
              observed={"parsed": parsed.model_dump(mode="json") if parsed is not None else None,
                        "parsing_error": type(error).__name__ if error is not None else None,
                        "raw_content": raw.content, "usage": usage},
              note="(3) the routing call: with_structured_output(RoutingDecision, include_raw=True).")


def test_graph_run_asks_the_model_router_and_ends_cleanly(llm_server: dict[str, str], env_studio: Studio) -> None:
    """STUDIO_ROUTER_THRESHOLD above 1 makes the router ask the model; whatever a 135M model answers, the run
    ends as completed, or as failed with a message, and never with an exception out of the runner."""
    studio = env_studio
    assert studio.settings.router_threshold > 1
    assert studio.models.name == f"openai:{llm_server['model']}"
    assert studio.settings.openai_base_url == llm_server["base_url"]
    runner = Runner(studio)
    try:
        outcome = runner.start("Draft a LinkedIn post about my Python course for analysts.", auto_approve=True)
    finally:
        runner.close()

    print(f"status={outcome.status} route={outcome.route} error={outcome.error!r} answer={outcome.answer!r}")
    assert outcome.model.name == f"openai:{llm_server['model']}" and not outcome.model.offline
    assert outcome.status in ("completed", "failed"), outcome
    if outcome.status == "completed":
        assert outcome.route["source"] in ("model", "embedding-fallback"), outcome.route
        assert isinstance(outcome.answer, str)
        routing = [s for s in outcome.steps if s.step_key == "route:model"]
        assert len(routing) == 1 and routing[0].prompt_tokens > 0
        assert outcome.model.calls >= 1 and outcome.model.prompt_tokens > 0
    else:
        assert outcome.error and outcome.error.strip(), outcome
        assert "Traceback" not in outcome.error


def test_chat_writer_returns_text(llm_studio: Studio, llm_server: dict[str, str]) -> None:
    """The writer the tools use (`studio.writer`) is the chat-model writer for an `openai:` model."""
    name = f"openai:{llm_server['model']}"
    writer = llm_studio.writer
    assert isinstance(writer, ChatWriter) and writer.name == name
    brand = llm_studio.workspaces.get("default").brand_voice
    written = writer.write(WritingTask(kind="post", brand=brand, platform="linkedin",
                                       topic="my Python course for data analysts", max_chars=600))
    assert written.text.strip()
    assert written.model == name
    assert written.prompt_tokens > 0 and written.completion_tokens > 0
    assert written.latency_ms > 0
