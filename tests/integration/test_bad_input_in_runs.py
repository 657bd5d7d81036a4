"""Bad arguments from a model reach the agent as a clear message, reach the creator, and write nothing.

Driven by a scripted model so the bad call is exactly the one a careless LLM would make."""

from __future__ import annotations

from typing import Any

import pytest
from langchain_core.messages import AIMessage, ToolMessage

from creator_studio.providers.llm.offline.model import ROUTING_TOOL, OfflinePlannerModel
from creator_studio.providers.llm.scripted import ScriptedChatModel, ScriptedModelProvider
from creator_studio.runs.runner import Runner
from creator_studio.studio import Studio
from creator_studio.tools.base import ToolContext
from creator_studio.tools.invoke import invoke_tool

pytestmark = pytest.mark.integration


def call(tool: str, **args: object) -> AIMessage:
    return AIMessage(content="", tool_calls=[{"name": tool, "args": args, "id": f"call_{tool}"}])


def run_scripted(studio: Studio, goal: str, turns: list[AIMessage]) -> tuple[object, ScriptedChatModel]:
    model = ScriptedChatModel(turns)
    studio.__dict__["models"] = ScriptedModelProvider(model)  # `models` is a cached_property
    runner = Runner(studio)
    try:
        outcome = runner.start(goal, auto_approve=True)
    finally:
        runner.close()
    assert model.consumed(), "every scripted turn was used"
    return outcome, model


def tool_messages(model: ScriptedChatModel) -> list[str]:
    return [str(m.content) for m in model.received[-1] if isinstance(m, ToolMessage)]


@pytest.mark.parametrize(("goal", "bad_call", "named"), [
    ("Schedule a post about pandas on Bluesky", call("schedule_post", text="pandas tips", platform="myspace",
                                                     publish_at="2026-11-27T09:00:00+01:00"), "platform"),
    ("Schedule a post about pandas on Bluesky for yesterday", call(
        "schedule_post", text="pandas tips", platform="bluesky", publish_at="2026-11-24T09:00:00+01:00"), "past"),
    ("Schedule a long post on X for Friday", call("schedule_post", text="word " * 80, platform="x",
                                                  publish_at="2026-11-27T09:00:00+01:00"), "280 characters"),
])
def test_a_bad_content_call_is_explained_and_nothing_is_scheduled(studio: Studio, ctx: ToolContext, goal: str,
                                                                   bad_call: AIMessage, named: str) -> None:
    outcome, model = run_scripted(studio, goal, [bad_call, AIMessage(content="I could not schedule it.")])
    [message] = tool_messages(model)
    assert message.startswith("Error:") and named in message
    [step] = [c for c in outcome.tool_calls]  # type: ignore[attr-defined]
    assert step.status in ("invalid", "error") and named in step.summary
    calendar = invoke_tool(ctx, "get_content_calendar", {})
    assert not [e for e in calendar.result["entries"] if e["kind"] == "scheduled"]  # type: ignore[index]
    assert outcome.approvals == []  # type: ignore[attr-defined]  # nothing invalid is put up for approval


def test_a_non_positive_price_is_refused_and_no_product_is_created(studio: Studio) -> None:
    before = len(studio.payments.list_products("default"))
    outcome, model = run_scripted(studio, "create a membership for $0 a month", [
        call("create_product", name="Membership", price=0, interval="month"),
        AIMessage(content="The price must be positive.")])
    [message] = tool_messages(model)
    assert "price" in message
    assert outcome.approvals == []  # type: ignore[attr-defined]
    assert len(studio.payments.list_products("default")) == before


def test_a_tool_the_agent_does_not_own_is_refused(studio: Studio) -> None:
    outcome, model = run_scripted(studio, "Schedule a post about pandas on Bluesky", [
        call("create_discount", percent_off=100), AIMessage(content="I can't do that.")])
    [message] = tool_messages(model)
    assert "create_discount is not one of the Content Studio tools" in message
    assert outcome.answer == "I can't do that."  # type: ignore[attr-defined]  # forwarded, not rewritten


def test_scripted_turns_must_all_be_used(studio: Studio) -> None:
    model = ScriptedChatModel([AIMessage(content="done"), AIMessage(content="never used")])
    studio.__dict__["models"] = ScriptedModelProvider(model)
    runner = Runner(studio)
    runner.start("Schedule a post about pandas on Bluesky")
    runner.close()
    assert not model.consumed()


class _RouterDownModel(OfflinePlannerModel):
    """The offline model, except that the routing call fails like an unreachable endpoint."""

    def _generate(self, messages: list[Any], stop: list[str] | None = None, run_manager: Any = None,
                  **kwargs: Any) -> Any:
        if any(t["function"]["name"] == ROUTING_TOOL for t in kwargs.get("tools") or []):
            raise ConnectionError("endpoint unreachable")
        return super()._generate(messages, stop, run_manager, **kwargs)


def test_a_failing_routing_call_falls_back_to_the_embedding_plan(studio: Studio) -> None:
    studio.settings.router_threshold = 1.01  # always ask the model
    studio.__dict__["models"] = ScriptedModelProvider(_RouterDownModel())  # type: ignore[arg-type]
    runner = Runner(studio)
    try:
        outcome = runner.start("what's my MRR?", auto_approve=True)
    finally:
        runner.close()
    assert outcome.status == "completed"
    assert outcome.route["source"] == "embedding-fallback" and "endpoint unreachable" in outcome.route["model_error"]
    assert [c.tool for c in outcome.tool_calls] == ["get_revenue_metrics"]
