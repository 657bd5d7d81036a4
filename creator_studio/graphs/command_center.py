"""The Command Center graph: plan -> agents (in parallel where independent) -> answer.

- plan: the embedding pre-router splits the goal into sub-tasks without a model call when it is
  confident; otherwise one model call with structured output (`RoutingDecision`) decides.
- dispatch: every sub-task whose dependencies are done is sent to its agent with `Send`; independent ones
  run in the same step, concurrently. Each agent sees only its sub-task and the results it depends on.
- answer: one agent's answer is forwarded as it is; several are put side by side under their module names.
  No model call rewrites them.
"""

from __future__ import annotations

import time
from typing import Any

from langchain_core.messages import HumanMessage, SystemMessage
from langgraph.checkpoint.base import BaseCheckpointSaver
from langgraph.graph import END, START, StateGraph
from langgraph.graph.state import CompiledStateGraph
from langgraph.types import Send

from creator_studio.agents import AGENTS
from creator_studio.graphs.agent_node import AgentRunner, durable_task
from creator_studio.graphs.state import AgentPayload, AgentResult, RoutingDecision, RunState, SubTask
from creator_studio.logs import get_logger
from creator_studio.prompts import load_text, render
from creator_studio.providers.llm.offline.routing import route_goal
from creator_studio.runs.records import Step
from creator_studio.store.db import utcnow
from creator_studio.studio import Studio

log = get_logger("graphs.command_center")


def build_graph(studio: Studio, checkpointer: BaseCheckpointSaver[Any]) -> CompiledStateGraph[Any, Any, Any, Any]:
    agent_runner = AgentRunner(studio)

    @durable_task(name="route_model_call")
    def route_with_model(run_id: str, goal: str, workspace_id: str) -> dict[str, Any]:
        recorded = studio.runs.get_step(run_id, "route:model")
        if recorded is not None and recorded.payload is not None:  # replay after a crash: no second call
            return recorded.payload
        ws = studio.workspaces.get(workspace_id)
        agents = "\n".join(f"- {spec.name}: {spec.title}. {spec.description}" for spec in AGENTS.values())
        system = render("command_center/router", agents=agents, now=studio.now().astimezone(ws.zone).isoformat(),
                        timezone=ws.timezone)
        # Function calling, not json_schema: every OpenAI-compatible server we target supports tools, and
        # some (llama.cpp's) reject `response_format: json_schema`.
        model = studio.models.chat_model().with_structured_output(RoutingDecision, method="function_calling",
                                                                  include_raw=True)
        started_at, started = utcnow(), time.perf_counter()
        usage: dict[str, Any] = {}
        try:
            output: dict[str, Any] = model.invoke([SystemMessage(system), HumanMessage(f"<goal>{goal}</goal>")])  # type: ignore[assignment]
        except Exception as exc:  # the embedding plan is the fallback; a model outage must not fail the run
            log.warning("routing model call failed; using the embedding plan", extra={"run_id": run_id},
                        exc_info=True)
            answer: dict[str, Any] = {"decision": None, "error": f"{type(exc).__name__}: {exc}"}
        else:
            raw, parsed = output["raw"], output["parsed"]
            usage = getattr(raw, "usage_metadata", None) or {}
            if parsed is None:  # the model did not produce a valid decision: fall back to the embedding plan
                answer = {"decision": None, "error": str(output.get("parsing_error"))}
            else:
                answer = {"decision": parsed.model_dump(mode="json"), "error": None}
        studio.runs.record_step(run_id, Step(
            step_key="route:model", kind="model", agent="command_center", summary="routing decision",
            payload=answer, status="ok" if answer["decision"] is not None else "error",
            prompt_tokens=usage.get("input_tokens", 0), completion_tokens=usage.get("output_tokens", 0),
            started_at=started_at, ended_at=utcnow(),
            duration_ms=round((time.perf_counter() - started) * 1000, 2)))
        return answer

    def plan(state: RunState) -> dict[str, Any]:
        settings = studio.settings
        pre = route_goal(state["goal"], floor=settings.out_of_scope_floor)
        route: dict[str, Any] = {"source": "embedding", "confidence": pre.confidence,
                                 "out_of_scope": pre.out_of_scope, "dropped": list(pre.dropped)}
        subtasks = [SubTask(id=t.id, agent=t.agent, instruction=t.instruction,
                            depends_on=list(t.depends_on)) for t in pre.subtasks()]
        if pre.confidence < settings.router_threshold:
            answer = route_with_model(state["run_id"], state["goal"], state["workspace_id"]).result()
            if answer["decision"] is not None:
                decision = RoutingDecision.model_validate(answer["decision"])
                route.update(source="model", out_of_scope=decision.out_of_scope)
                subtasks = [] if decision.out_of_scope else _well_formed(decision.subtasks)
            else:
                route.update(source="embedding-fallback", model_error=answer["error"])
        if route["out_of_scope"]:
            subtasks = []
        route["agents"] = list(dict.fromkeys(t.agent for t in subtasks))
        studio.runs.update(state["run_id"], route=route)
        # The pre-router knows which tool each clause asks for: a sub-task it planned is done once those tools
        # succeeded (see agent_node.finishes_subtask), and its agent is sent only those tools and the ones that
        # can feed them (fewer schemas in every request). A model-made plan carries no such lists: all tools.
        hints = {t.id: list(t.tools_hint) for t in pre.subtasks()} if route["source"] != "model" else {}
        return {"plan": [{**t.model_dump(), "stop_tools": hints.get(t.id, []),
                          "tools": AGENTS[t.agent].tools_for(hints.get(t.id, []))} for t in subtasks],
                "route": route}

    def dispatch(state: RunState) -> list[Send] | str:
        done = {r["subtask_id"] for r in state.get("results", [])}
        results = {r["subtask_id"]: r for r in state.get("results", [])}
        ready = [t for t in state.get("plan", []) if t["id"] not in done
                 and all(d in done for d in t["depends_on"])]
        if not ready:
            return "answer"
        return [Send("agent", AgentPayload(run_id=state["run_id"], workspace_id=state["workspace_id"],
                                           subtask=t, upstream=[_handover(results[d]) for d in t["depends_on"]]))
                for t in ready]

    def collect(state: RunState) -> dict[str, Any]:
        return {}

    def answer(state: RunState) -> dict[str, Any]:
        if not state.get("plan"):
            return {"answer": load_text("command_center/out_of_scope").strip()}
        order = {t["id"]: i for i, t in enumerate(state["plan"])}
        results = sorted((AgentResult.model_validate(r) for r in state.get("results", [])),
                         key=lambda r: order.get(r.subtask_id, 0))
        if len(results) == 1:
            return {"answer": results[0].answer}
        return {"answer": "\n\n".join(f"{AGENTS[r.agent].title}: {r.answer}" for r in results)}

    graph = StateGraph(RunState)
    graph.add_node("plan", plan)
    graph.add_node("agent", agent_runner)  # type: ignore[call-overload]
    graph.add_node("collect", collect)
    graph.add_node("answer", answer)
    graph.add_edge(START, "plan")
    graph.add_conditional_edges("plan", dispatch, ["agent", "answer"])
    graph.add_edge("agent", "collect")
    graph.add_conditional_edges("collect", dispatch, ["agent", "answer"])
    graph.add_edge("answer", END)
    return graph.compile(checkpointer=checkpointer)


def _well_formed(subtasks: list[SubTask]) -> list[SubTask]:
    """A model's plan may name dependencies that do not exist or loop: keep only backward references."""
    seen: set[str] = set()
    cleaned = []
    for index, subtask in enumerate(subtasks):
        subtask_id = subtask.id if subtask.id not in seen else f"t{index + 1}"
        cleaned.append(SubTask(id=subtask_id, agent=subtask.agent, instruction=subtask.instruction,
                               depends_on=[d for d in subtask.depends_on if d in seen]))
        seen.add(subtask_id)
    return cleaned


def _handover(result: dict[str, Any]) -> dict[str, Any]:
    """What a dependent agent gets from another: the answer and each tool's result (ids, links)."""
    parsed = AgentResult.model_validate(result)
    return {"agent": parsed.agent, "answer": parsed.answer,
            "outputs": [{"tool": c.tool, "result": c.result} for c in parsed.tool_calls if c.ok]}
