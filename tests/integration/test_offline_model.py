"""The offline planner model through the real graph: paraphrases, typos and multi-intent goals land on the
right agents and tools, with the arguments a creator meant."""

from __future__ import annotations

from typing import Any

import pytest
from langchain_core.messages import HumanMessage, SystemMessage

from creator_studio.agents import AGENTS
from creator_studio.graphs.state import RoutingDecision
from creator_studio.providers.llm.offline.model import MODEL_NAME, OFFLINE_PREFIX, OfflinePlannerModel
from creator_studio.runs.runner import Runner

pytestmark = pytest.mark.integration

# goal, agents (set), tools expected in order (a subsequence of the calls), argument subset per tool
CASES: list[tuple[str, set[str], list[str], dict[str, dict[str, Any]]]] = [
    ("Draft a Bluesky post about my new course and schedule it for Friday 9am", {"content"},
     ["draft_post", "schedule_post"], {"schedule_post": {"platform": "bluesky",
                                                          "publish_at": "2026-11-27T09:00:00+01:00"}}),
    ("pls make a linkdin post abt my webinar", {"content"}, ["draft_post"],
     {"draft_post": {"platform": "linkedin", "topic": "my webinar"}}),
    ("Publish a LinkedIn post about the January cohort now", {"content"}, ["draft_post", "publish_post"],
     {"publish_post": {"platform": "linkedin"}}),
    ("shedule a post about jupyter tips on mastodon for tmrw 10am", {"content"}, ["draft_post", "schedule_post"],
     {"schedule_post": {"platform": "mastodon", "publish_at": "2026-11-26T10:00:00+01:00"}}),
    ("create a $29/month membership and a payment link", {"revenue"}, ["create_product", "create_payment_link"],
     {"create_product": {"price": "29.0", "interval": "month", "currency": "usd"}}),
    ("CREATE A 20% DISCOUNT FOR BLACK FRIDAY", {"revenue"}, ["create_discount"],
     {"create_discount": {"percent_off": 20.0}}),
    ("hw much did i make this month?", {"revenue"}, ["get_revenue_metrics"],
     {"get_revenue_metrics": {"period": "mtd"}}),
    ("which channels bring in my sales? use last touch", {"revenue"}, ["get_attribution"],
     {"get_attribution": {"model": "last_touch"}}),
    ("reply to unanswered questions on Mastodon", {"engagement"}, ["list_comments", "reply_to_comment"],
     {"list_comments": {"platform": "mastodon", "unreplied_only": True}}),
    ("get rid of the spam under my posts", {"engagement"}, ["list_comments", "hide_comment"], {}),
    ("invite my superfans to the Tiny Wins community", {"engagement"}, ["find_top_engagers", "invite_to_community"],
     {"invite_to_community": {"community": "Tiny Wins"}}),
    ("every Monday at 9am plan this week's content", {"automation"}, ["schedule_goal"],
     {"schedule_goal": {"cron": "0 9 * * 1"}}),
    ("pause the weekly content plan workflow", {"automation"}, ["list_workflows", "pause_workflow"], {}),
    ("is everything running ok?", {"automation"}, ["get_system_health"], {}),
    ("how am I doing overall this month", {"command_center"}, ["get_dashboard_summary"],
     {"get_dashboard_summary": {"period": "mtd"}}),
    ("set a target of 10k followers by March", {"command_center"}, ["set_target"],
     {"set_target": {"metric": "followers", "target": 10000.0, "by": "2027-03-01"}}),
    ("check my MRR and show me the comments on mastodon", {"revenue", "engagement"},
     ["get_revenue_metrics", "list_comments"], {"list_comments": {"platform": "mastodon"}}),
    ("Draft a newsletter about the January cohort and send it to the waitlist on Friday at 8am",
     {"content", "revenue"}, ["draft_newsletter", "send_email_campaign"],
     {"send_email_campaign": {"segment": "waitlist", "send_at": "2026-11-27T08:00:00+01:00"}}),
]

AGENT_OF = {tool: spec.name for spec in AGENTS.values() for tool in spec.tool_names}

OUT_OF_SCOPE = ["What's the capital of France?", "tell me a joke", "what's the weather tomorrow in Paris",
                "help me with my math homework"]


@pytest.mark.parametrize(("goal", "agents", "tools", "arguments"), CASES, ids=[c[0][:40] for c in CASES])
def test_goal_lands_on_the_right_agents_tools_and_arguments(runner: Runner, goal: str, agents: set[str],
                                                            tools: list[str],
                                                            arguments: dict[str, dict[str, Any]]) -> None:
    outcome = runner.start(goal, auto_approve=True)
    assert outcome.status == "completed", outcome.error
    assert set(outcome.agents) == agents
    for agent in agents:  # within one agent the expected tools come in order; agents run in parallel
        called = [c.tool for c in outcome.tool_calls if c.agent == agent]
        position = 0
        for tool in (t for t in tools if t in AGENT_OF and AGENT_OF[t] == agent):
            assert tool in called[position:], f"{tool} missing or out of order in {called}"
            position = called.index(tool, position) + 1
    assert {t for t in tools} <= {c.tool for c in outcome.tool_calls}
    for tool, subset in arguments.items():
        call = next(c for c in outcome.tool_calls if c.tool == tool)
        for key, value in subset.items():
            assert call.arguments.get(key) == value, (tool, key, call.arguments)
    assert all(c.status == "ok" for c in outcome.tool_calls), [c.summary for c in outcome.tool_calls]


@pytest.mark.parametrize("goal", OUT_OF_SCOPE)
def test_out_of_scope_goals_call_no_tool(runner: Runner, goal: str) -> None:
    outcome = runner.start(goal, auto_approve=True)
    assert outcome.agents == [] and outcome.tool_calls == []


def test_offline_model_speaks_the_langchain_tool_calling_protocol() -> None:
    model = OfflinePlannerModel()
    router = model.with_structured_output(RoutingDecision, include_raw=True)
    output = router.invoke([SystemMessage("route"), HumanMessage(
        "<goal>Create a $29/month membership and reply to unanswered questions on Mastodon</goal>")])
    decision = output["parsed"]  # type: ignore[index]
    assert isinstance(decision, RoutingDecision)
    assert {t.agent for t in decision.subtasks} == {"revenue", "engagement"}
    raw = output["raw"]  # type: ignore[index]
    assert raw.response_metadata["model_name"] == MODEL_NAME
    assert raw.usage_metadata["input_tokens"] > 0


def test_offline_answers_are_labelled(runner: Runner) -> None:
    outcome = runner.start("what's my MRR?", auto_approve=True)
    assert (outcome.answer or "").startswith(OFFLINE_PREFIX)
