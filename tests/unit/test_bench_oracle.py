"""The orchestration benchmark's oracle (benchmarks/): it must script eval cases correctly for both systems,
so the benchmark cannot silently compare runs that did different work."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from langchain_core.messages import AIMessage, HumanMessage, SystemMessage, ToolMessage

from benchmarks.common import CASES_DIR, world_templates, write_section
from benchmarks.oracle import (
    CaseScript,
    OracleModel,
    OracleSession,
    ScriptedCall,
    SubtaskScript,
    serialize_request,
    supervisor_steps,
)
from benchmarks.recording import record_script
from benchmarks.systems import BASELINE, OURS_NO_PREROUTER, run_ours, run_supervisor
from creator_studio.evals.cases import LoadedCase, load_cases
from creator_studio.evals.worlds import WorldTemplates
from creator_studio.providers.llm.tokens import count_tokens

pytestmark = pytest.mark.unit


@pytest.fixture(scope="module")
def templates(tmp_path_factory: pytest.TempPathFactory) -> Iterator[WorldTemplates]:
    yield world_templates(tmp_path_factory.mktemp("bench-worlds"))


@pytest.fixture(scope="module")
def cases() -> dict[str, LoadedCase]:
    return {c.case.id: c for c in load_cases([CASES_DIR])}


def expected_calls(script: CaseScript, system: str) -> int:
    """Model requests a replay must make: every agent turn plus its final answer, and then per system the
    routing call (ours, pre-router off) or the supervisor's turns and final answer (baseline)."""
    agent_requests = sum(len(s.turns) + 1 for s in script.subtasks if s.agent != "command_center")
    if system == BASELINE:
        return agent_requests + len(supervisor_steps(script)) + 1
    own = sum(len(s.turns) + 1 for s in script.subtasks if s.agent == "command_center")
    return agent_requests + own + 1


@pytest.mark.parametrize("case_id", ["multi-two-001", "command-center-dashboard-001"])
def test_oracle_drives_both_systems_to_the_scripted_outcome(case_id: str, templates: WorldTemplates,
                                                            cases: dict[str, LoadedCase], tmp_path: Path) -> None:
    script = record_script(templates, cases[case_id], tmp_path)
    assert [s.agent for s in script.subtasks] == [str(a) for a in cases[case_id].case.expect.agents or []]
    assert script.calls(), "the script has tool calls to replay"
    if case_id == "multi-two-001":  # the campaign sends the draft this run created, not the recorded one
        send = next(c for c in script.calls() if c.name == "send_email_campaign")
        assert [r.arg_path for r in send.refs] == [["draft_id"]]

    for measurement in (run_ours(templates, script, tmp_path, pre_router=False),
                        run_supervisor(templates, script, tmp_path)):
        assert measurement.problem is None, f"{measurement.system}: {measurement.problem}"
        assert sorted(name for name, ok in measurement.executed if ok) == sorted(c.name for c in script.calls())
        assert measurement.calls == expected_calls(script, measurement.system), measurement.system
        assert measurement.prompt_tokens > 0 and measurement.completion_tokens > 0
    assert OURS_NO_PREROUTER != BASELINE


def test_prompt_tokens_cover_messages_and_tool_schemas() -> None:
    script = CaseScript(case_id="t", goal="g", subtasks=[SubtaskScript(
        id="t1", agent="command_center", instruction="g", answer="done",
        turns=[[ScriptedCall(index=0, name="get_dashboard_summary", args={"period": "7d"})]])])
    session = OracleSession(script)
    model = OracleModel(session)
    tools = [{"type": "function", "function": {"name": n, "description": "d" * 400, "parameters": {}}}
             for n in ("get_dashboard_summary", "set_target")]
    messages = [SystemMessage("system"), HumanMessage("g")]
    first = model.bind(tools=tools).invoke(messages)
    assert isinstance(first, AIMessage) and first.tool_calls[0]["args"] == {"period": "7d"}
    assert session.requests[0].role == "command_center"
    assert session.requests[0].prompt_tokens == count_tokens(serialize_request(messages, tools))
    assert session.requests[0].prompt_tokens > count_tokens(serialize_request(messages, []))  # schemas count
    second = model.bind(tools=tools).invoke([*messages, first, ToolMessage('{"summary": "ok"}', tool_call_id="bx0")])
    assert second.content == "done" and not second.tool_calls
    assert session.results == {0: {"summary": "ok"}}
    # An agent may be sent a subset of its tools (the ones its sub-task needs); tools of two agents, or unknown
    # ones, cannot be placed.
    assert isinstance(model.bind(tools=tools[:1]).invoke(messages), AIMessage)
    for names in (("get_dashboard_summary", "draft_post"), ("not_a_tool",)):
        odd = [{"type": "function", "function": {"name": n, "description": "d", "parameters": {}}} for n in names]
        with pytest.raises(LookupError, match="cannot place"):
            model.bind(tools=odd).invoke(messages)


def test_benchmarks_md_section_is_replaced_in_place(tmp_path: Path) -> None:
    path = tmp_path / "BENCHMARKS.md"
    path.write_text("# Benchmarks\n\n## Memory\n\nmemory figures\n", encoding="utf-8")
    write_section("Orchestration (issue 12)", "first", path)
    write_section("Orchestration (issue 12)", "second", path)
    text = path.read_text(encoding="utf-8")
    assert "memory figures" in text and "second" in text and "first" not in text
    assert text.count("## Orchestration (issue 12)") == 1
