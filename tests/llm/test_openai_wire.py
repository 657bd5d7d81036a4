"""The real OpenAI wire path: our provider (`build_openai_chat_model`) against a local llama.cpp server.

A 135M model writes poorly; these tests check the protocol, not the prose: text and token usage come back,
a forced tool call carries our tool's name and JSON arguments, a tool result can be sent back, the routing
call's structured output is either parsed or reported as a parsing error, a whole run of the graph ends with
a status and never with an exception, and the chat writer returns text.
Run with `make test-llm` (scripts/test-llm.sh starts the server and exports its address).

Two tests are strict xfails, each a limitation of llama-cpp-python 0.3.36 that the studio works around
(`JSON_SCHEMA_LIMITATION`, `NULL_CONTENT_LIMITATION`). When one starts to pass, strict mode makes that a failure
to notice: remove its mark then.
"""

from __future__ import annotations

import json
from typing import Any

import openai
import pytest
from langchain_core.messages import AIMessage, HumanMessage, SystemMessage, ToolMessage

from creator_studio.graphs.state import RoutingDecision
from creator_studio.prompts import render
from creator_studio.providers.llm.chat_writer import ChatWriter
from creator_studio.providers.llm.openai import build_openai_chat_model
from creator_studio.providers.llm.writer import WritingTask
from creator_studio.runs.runner import RunOutcome
from creator_studio.sandbox.seed import DEFAULT_TIMEZONE
from creator_studio.settings import Settings
from creator_studio.studio import Studio
from creator_studio.tools.base import load_all_tools

pytestmark = pytest.mark.llm

JSON_SCHEMA_LIMITATION = (
    "with_structured_output's default method sends response_format={'type': 'json_schema', ...}; llama-cpp-python "
    "0.3.36 accepts only 'text' and 'json_object' and answers 500. This is why the Command Center routes with "
    "method='function_calling' (and falls back to the embedding plan when a routing call fails at all)."
)

NULL_CONTENT_LIMITATION = (
    "llama-cpp-python 0.3.36 types an assistant message's content as a string: the null content that "
    "langchain-openai sends for a reply made only of tool calls (valid for the OpenAI API) is answered with 500."
)

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


def response_json(wire: Any, index: int) -> dict[str, Any]:
    body = wire.exchanges[index]["response"]["json"]
    assert isinstance(body, dict), body
    return body


# (1) ------------------------------------------------------------------------------------------------------
def test_plain_chat_completion_returns_text_and_usage(llm_settings: Settings, llm_server: dict[str, str],
                                                      wire: Any) -> None:
    model = build_openai_chat_model(llm_settings, llm_server["model"])
    reply = model.invoke(CHAT_MESSAGES)

    assert isinstance(reply, AIMessage)
    assert isinstance(reply.content, str) and reply.content.strip()
    usage = usage_of(reply)
    assert usage["input_tokens"] > 0 and usage["output_tokens"] > 0
    assert not reply.tool_calls
    assert usage["input_tokens"] == response_json(wire, 0)["usage"]["prompt_tokens"]
    wire.save("plain_chat", observed={"content": reply.content, "usage": usage},
              note="(1) a plain chat completion: text and token usage.")


# (2) ------------------------------------------------------------------------------------------------------
def test_forced_tool_call_round_trip(llm_settings: Settings, llm_server: dict[str, str], wire: Any) -> None:
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
    sent = wire.exchanges[0]["request"]["json"]
    assert sent["tool_choice"] == {"type": "function", "function": {"name": "draft_post"}}
    assert sent["tools"] == [schema]
    on_the_wire = response_json(wire, 0)["choices"][0]["message"]["tool_calls"][0]["function"]
    assert on_the_wire["name"] == "draft_post" and json.loads(on_the_wire["arguments"]) == call["args"]
    # The server generated them under a grammar made from our schema: our argument model accepts them.
    args = spec.args_model.model_validate(call["args"])
    assert args.platform in ("bluesky", "mastodon", "x", "linkedin", "threads")
    first_usage = usage_of(reply)
    assert first_usage["input_tokens"] > 0 and first_usage["output_tokens"] > 0

    # Turn 2: the tool's result goes back as a ToolMessage; the model answers (as an agent turn would, with
    # the tools still bound and no tool_choice). The call goes back with a line of text: see
    # test_tool_result_after_a_reply_made_only_of_tool_calls for why.
    said = AIMessage(content="Drafting the post.", tool_calls=reply.tool_calls, id=reply.id)
    result = ToolMessage(content=json.dumps(TOOL_RESULT), tool_call_id=call["id"])
    final = model.bind_tools([schema]).invoke([*TOOL_MESSAGES, said, result])
    assert isinstance(final, AIMessage)
    assert isinstance(final.content, str) and final.content.strip()
    assert not final.tool_calls
    final_usage = usage_of(final)
    assert final_usage["input_tokens"] > 0 and final_usage["output_tokens"] > 0

    sent = wire.exchanges[1]["request"]["json"]
    assert [m["role"] for m in sent["messages"]] == ["system", "user", "assistant", "tool"]
    assert sent["messages"][2]["tool_calls"][0]["id"] == call["id"]
    assert json.loads(sent["messages"][2]["tool_calls"][0]["function"]["arguments"]) == call["args"]
    assert sent["messages"][3]["tool_call_id"] == call["id"]
    wire.save("tool_call_round_trip",
              observed={"tool_call": {"name": call["name"], "id": call["id"], "args": call["args"]},
                        "usage": first_usage, "final_content": final.content, "final_usage": final_usage},
              note="(2) draft_post forced with tool_choice, then the tool result sent back for a final answer.")


@pytest.mark.xfail(strict=True, raises=openai.APIStatusError, reason=NULL_CONTENT_LIMITATION)
def test_tool_result_after_a_reply_made_only_of_tool_calls(llm_settings: Settings,
                                                           llm_server: dict[str, str]) -> None:
    """The agent loop's second turn as agent_node sends it: the model's reply as it came back."""
    schema = load_all_tools()["draft_post"].openai_schema()
    model = build_openai_chat_model(llm_settings, llm_server["model"])
    reply = model.bind_tools([schema], tool_choice="draft_post").invoke(TOOL_MESSAGES)
    assert isinstance(reply, AIMessage) and reply.tool_calls and not reply.content
    result = ToolMessage(content=json.dumps(TOOL_RESULT), tool_call_id=reply.tool_calls[0]["id"])
    final = model.bind_tools([schema]).invoke([*TOOL_MESSAGES, reply, result])
    assert isinstance(final, AIMessage)


# (3) ------------------------------------------------------------------------------------------------------
@pytest.mark.xfail(strict=True, raises=openai.APIStatusError, reason=JSON_SCHEMA_LIMITATION)
def test_structured_routing_with_the_default_json_schema_method(llm_settings: Settings, llm_server: dict[str, str],
                                                               wire: Any) -> None:
    """The routing call with langchain's default method (json_schema), which this server rejects."""
    model = build_openai_chat_model(llm_settings, llm_server["model"])
    router = model.with_structured_output(RoutingDecision, include_raw=True)
    try:
        output: dict[str, Any] = router.invoke(router_messages())
    except openai.APIStatusError as exc:
        wire.save("structured_routing_json_schema",
                  observed={"error": {"status_code": exc.status_code, "type": type(exc).__name__}},
                  note="(3) the routing call as the graph makes it (method='json_schema', the default): "
                       "this server rejects response_format type 'json_schema'.")
        raise
    assert (output["parsed"] is None) != (output["parsing_error"] is None), output


def test_structured_routing_with_function_calling(llm_settings: Settings, llm_server: dict[str, str],
                                                  wire: Any) -> None:
    """The same decision asked for as a forced tool call (`method="function_calling"`): this server generates
    the arguments under a grammar made from the schema, so the decision comes back parsed (or, should the
    arguments not validate, as a parsing_error: both are what the graph can handle)."""
    model = build_openai_chat_model(llm_settings, llm_server["model"])
    router = model.with_structured_output(RoutingDecision, method="function_calling", include_raw=True)
    output: dict[str, Any] = router.invoke(router_messages())

    raw, parsed, error = output["raw"], output["parsed"], output["parsing_error"]
    assert isinstance(raw, AIMessage)
    usage = usage_of(raw)
    assert usage["input_tokens"] > 0 and usage["output_tokens"] > 0
    assert (parsed is None) != (error is None), output
    assert [c["name"] for c in raw.tool_calls] == ["RoutingDecision"]
    if parsed is not None:
        assert isinstance(parsed, RoutingDecision)
    wire.save("structured_routing_function_calling",
              observed={"parsed": parsed.model_dump(mode="json") if parsed is not None else None,
                        "parsing_error": type(error).__name__ if error is not None else None,
                        "tool_call_args": raw.tool_calls[0]["args"], "usage": usage},
              note="(3) the routing decision with method='function_calling' (a forced RoutingDecision tool call).")


def test_graph_run_with_the_model_router_ends_with_a_status(graph_outcome: RunOutcome,
                                                            llm_server: dict[str, str]) -> None:
    """STUDIO_ROUTER_THRESHOLD above 1 makes the router ask the model; whatever a 135M model answers, the run
    ends as completed, or as failed with a readable message, never with an exception out of the runner."""
    outcome = graph_outcome
    print(f"status={outcome.status} route={outcome.route} error={outcome.error!r} answer={outcome.answer!r}")
    assert outcome.model.name == f"openai:{llm_server['model']}" and not outcome.model.offline
    assert outcome.status in ("completed", "failed"), outcome
    if outcome.status == "failed":
        assert outcome.error and outcome.error.strip(), outcome
        assert "Traceback (most recent call last)" not in outcome.error
    else:
        assert isinstance(outcome.answer, str)


def test_graph_run_routes_with_the_model_or_falls_back(graph_outcome: RunOutcome) -> None:
    """Whatever the routing call does, the embedding plan is there to fall back on: the run completes."""
    outcome = graph_outcome
    assert outcome.status == "completed", f"{outcome.status}: {outcome.error}"
    assert outcome.route["source"] in ("model", "embedding-fallback"), outcome.route
    routing = [s for s in outcome.steps if s.step_key == "route:model"]
    assert len(routing) == 1 and routing[0].prompt_tokens > 0


# (4) ------------------------------------------------------------------------------------------------------
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
