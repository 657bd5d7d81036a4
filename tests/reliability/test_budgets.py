"""Budgets: a run whose model never stops calling a read tool is stopped by its step budget, its model-call
budget and its tool-call budget, with a message naming the limit and the setting; nothing runs after the stop.

Run: .venv/bin/pytest -q -p no:cacheprovider tests/reliability/test_budgets.py
"""

from __future__ import annotations

import pytest
from langchain_core.messages import AIMessage

from creator_studio.providers.llm.scripted import ScriptedChatModel, ScriptedModelProvider
from creator_studio.runs.runner import Runner, RunOutcome
from creator_studio.studio import Studio
from tests.reliability.figures import report

pytestmark = pytest.mark.integration
GOAL = "Schedule a post about pandas on Bluesky"  # routed to Content Studio by the embedding router alone
SCRIPTED_TURNS = 200  # far more than any budget: the model would loop for ever


def looping_model() -> ScriptedChatModel:
    """A model that answers every turn with one more read of the calendar, never with a final answer."""
    return ScriptedChatModel([AIMessage(content="", tool_calls=[{"name": "get_content_calendar", "args": {},
                                                                 "id": f"call_{i}"}])
                              for i in range(SCRIPTED_TURNS)])


def run_looping(studio: Studio) -> tuple[RunOutcome, ScriptedChatModel]:
    model = looping_model()
    studio.__dict__["models"] = ScriptedModelProvider(model)  # `models` is a cached_property
    runner = Runner(studio)
    try:
        outcome = runner.start(GOAL, auto_approve=True)
    finally:
        runner.close()
    return outcome, model


def counts(studio: Studio, outcome: RunOutcome) -> tuple[int, int]:
    return studio.runs.count_model_calls(outcome.run_id), studio.runs.count_tool_calls(outcome.run_id)


def test_the_step_budget_stops_a_looping_agent(studio: Studio) -> None:
    studio.settings.max_agent_steps = 5
    outcome, model = run_looping(studio)
    model_calls, tool_calls = counts(studio, outcome)
    assert outcome.route["agents"] == ["content"] and outcome.status == "completed"
    assert outcome.answer is not None and "stopped after 5 steps" in outcome.answer
    assert "STUDIO_MAX_AGENT_STEPS" in outcome.answer
    # Exactly the budget: five model turns, each with its one tool call, then nothing.
    assert (len(model.received), model_calls, tool_calls) == (5, 5, 5)
    assert all(c.tool == "get_content_calendar" and c.status == "ok" for c in outcome.tool_calls)
    report("budget_steps", {"limit": 5, "model_calls": model_calls, "tool_calls": tool_calls,
                            "stopped": True})


def test_the_model_call_budget_stops_a_looping_run(studio: Studio) -> None:
    studio.settings.max_model_calls = 3
    studio.settings.max_agent_steps = 50
    outcome, model = run_looping(studio)
    model_calls, tool_calls = counts(studio, outcome)
    assert outcome.answer is not None and "limit of 3 model calls" in outcome.answer
    assert "STUDIO_MAX_MODEL_CALLS" in outcome.answer
    assert (len(model.received), model_calls, tool_calls) == (3, 3, 3)
    report("budget_model_calls", {"limit": 3, "model_calls": model_calls, "tool_calls": tool_calls,
                                  "stopped": True})


def test_the_tool_call_budget_stops_before_the_call_that_would_exceed_it(studio: Studio) -> None:
    studio.settings.max_tool_calls = 4
    studio.settings.max_agent_steps = 50
    outcome, model = run_looping(studio)
    model_calls, tool_calls = counts(studio, outcome)
    assert outcome.answer is not None and "limit of 4 tool calls" in outcome.answer
    assert "STUDIO_MAX_TOOL_CALLS" in outcome.answer
    # The fifth model turn asked for a fifth tool call: it was refused, so four ran.
    assert (model_calls, tool_calls) == (5, 4)
    assert len(model.received) == 5
    report("budget_tool_calls", {"limit": 4, "model_calls": model_calls, "tool_calls": tool_calls,
                                 "stopped": True})


def test_a_stopped_run_resumed_does_not_run_again(studio: Studio) -> None:
    """Resuming a run that its budget stopped is a no-op: the budget is per run, not per process."""
    studio.settings.max_model_calls = 2
    outcome, model = run_looping(studio)
    runner = Runner(studio)
    try:
        again = runner.resume(outcome.run_id)
    finally:
        runner.close()
    assert again.status == outcome.status == "completed"
    assert counts(studio, again) == (2, 2) and len(model.received) == 2
