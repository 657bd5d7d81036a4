"""The offline planner model: a LangChain chat model with no generative LLM behind it.

It reads what a real model would read (the system prompt's workspace context, the sub-task, the bound
tools, the tool results so far) and answers with tool calls chosen by the offline NLU pipeline, or with a
final answer assembled from the tools' own summaries. Every answer it writes starts with "[offline]" and its
`model_name` is `offline-planner`: it never pretends to be a language model.
"""

from __future__ import annotations

import hashlib
import json
import re
import time
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from langchain_core.callbacks import CallbackManagerForLLMRun
from langchain_core.language_models import BaseChatModel, LanguageModelInput
from langchain_core.messages import AIMessage, BaseMessage, HumanMessage, SystemMessage, ToolMessage
from langchain_core.outputs import ChatGeneration, ChatResult
from langchain_core.runnables import Runnable
from langchain_core.utils.function_calling import convert_to_openai_tool

from creator_studio.providers.llm.offline.agent_planner import (
    Observation,
    PlanState,
    TaskContext,
    next_calls,
    parse_observation,
    plan_steps,
)
from creator_studio.providers.llm.offline.routing import route_goal
from creator_studio.providers.llm.tokens import count_tokens
from creator_studio.workspaces.service import BrandVoice

MODEL_NAME = "offline-planner"
ROUTING_TOOL = "RoutingDecision"
OFFLINE_PREFIX = "[offline] "
_CONTEXT = re.compile(r"<workspace_context>(.*?)</workspace_context>", re.DOTALL)
_UPSTREAM = re.compile(r"<results_from_other_agents>(.*?)</results_from_other_agents>", re.DOTALL)
_GOAL = re.compile(r"<goal>(.*?)</goal>", re.DOTALL)
_STEP_ID = re.compile(r"^s(\d+)_")
_REJECTION_REASON = re.compile(r"Rejected by the creator: (.*?)\. \w+ was not run")


class OfflinePlannerModel(BaseChatModel):
    out_of_scope_floor: float = 0.3

    @property
    def _llm_type(self) -> str:
        return "creator-studio-offline-planner"

    @property
    def _identifying_params(self) -> dict[str, Any]:
        return {"model_name": MODEL_NAME}

    def bind_tools(self, tools: Sequence[Any], *, tool_choice: str | None = None, **kwargs: Any
                   ) -> Runnable[LanguageModelInput, AIMessage]:
        formatted = [convert_to_openai_tool(t) for t in tools]
        return self.bind(tools=formatted, tool_choice=tool_choice, **kwargs)

    def _generate(self, messages: list[BaseMessage], stop: list[str] | None = None,
                  run_manager: CallbackManagerForLLMRun | None = None, **kwargs: Any) -> ChatResult:
        started = time.perf_counter()
        tools: list[dict[str, Any]] = kwargs.get("tools") or []
        names = {t["function"]["name"] for t in tools}
        message = self._route(messages) if ROUTING_TOOL in names else self._agent_turn(messages, names)
        prompt = "\n".join(str(m.content) for m in messages) + json.dumps(tools)
        completion = str(message.content) + json.dumps([c["args"] for c in message.tool_calls])
        message.usage_metadata = {"input_tokens": count_tokens(prompt), "output_tokens": count_tokens(completion),
                                  "total_tokens": 0}
        message.usage_metadata["total_tokens"] = (message.usage_metadata["input_tokens"]
                                                  + message.usage_metadata["output_tokens"])
        message.response_metadata = {"model_name": MODEL_NAME,
                                     "latency_ms": round((time.perf_counter() - started) * 1000, 3)}
        return ChatResult(generations=[ChatGeneration(message=message)])

    # Routing (structured output) --------------------------------------------------------------------
    def _route(self, messages: list[BaseMessage]) -> AIMessage:
        text = _last_human(messages)
        match = _GOAL.search(text)
        goal = match.group(1).strip() if match else text
        route = route_goal(goal, floor=self.out_of_scope_floor)
        decision = {
            "out_of_scope": route.out_of_scope,
            "subtasks": [{"id": t.id, "agent": t.agent, "instruction": t.instruction,
                          "depends_on": list(t.depends_on)} for t in route.subtasks()],
            "reason": "no agent's tools fit this goal" if route.out_of_scope else "matched by the offline planner",
        }
        return AIMessage(content="", tool_calls=[{"name": ROUTING_TOOL, "args": decision, "id": _call_id("route",
                                                                                                      goal)}])

    # Agent turns ------------------------------------------------------------------------------------
    def _agent_turn(self, messages: list[BaseMessage], allowed: set[str]) -> AIMessage:
        context = _context(messages)
        human = _first_human(messages)
        upstream_match = _UPSTREAM.search(human)
        upstream = upstream_match.group(1) if upstream_match else ""
        task = _UPSTREAM.sub("", human).strip()
        steps = plan_steps(task, allowed, upstream)
        observed = _observations(messages)
        state = PlanState(task=task, context=context, steps=steps, observed=observed, upstream=upstream)
        wave = next_calls(state)
        if wave.calls:
            calls = [{"name": tool, "args": args, "id": _call_id(f"s{index}", f"{n}:{json.dumps(args)}")}
                     for n, (index, tool, args) in enumerate(wave.calls)]
            return AIMessage(content="", tool_calls=calls)
        return AIMessage(content=_final_answer(state, wave.skipped))


def _final_answer(state: PlanState, skipped: list[tuple[str, str]]) -> str:
    lines: list[str] = []
    for step in state.steps:
        observation = state.observed.get(step.index)
        if observation is None:
            continue
        if observation.rejected:
            reason = _REJECTION_REASON.search(" ".join(observation.errors))
            because = f" ({reason.group(1)})" if reason and reason.group(1) != "no reason given" else ""
            lines.append(f"I did not run {step.tool}: you rejected it{because}.")
            continue
        lines.extend(str(r.get("summary", "")).strip() for r in observation.results if r.get("summary"))
        lines.extend(f"{step.tool} failed: {error}" for error in observation.errors)
    lines.extend(f"I did not run {tool}: {reason}." for tool, reason in skipped)
    if not state.steps:
        lines.append("None of my tools fits this request.")
    return OFFLINE_PREFIX + " ".join(line for line in lines if line)


def _observations(messages: list[BaseMessage]) -> dict[int, Observation]:
    step_of: dict[str, int] = {}
    for message in messages:
        if isinstance(message, AIMessage):
            for call in message.tool_calls:
                match = _STEP_ID.match(call.get("id") or "")
                if match:
                    step_of[call["id"] or ""] = int(match.group(1))
    observed: dict[int, Observation] = {}
    for message in messages:
        if isinstance(message, ToolMessage) and message.tool_call_id in step_of:
            observation = observed.setdefault(step_of[message.tool_call_id], Observation())
            result, error, rejected = parse_observation(str(message.content))
            if result is not None:
                observation.results.append(result)
            if error is not None:
                observation.errors.append(error)
            observation.rejected = observation.rejected or rejected
    return observed


def _context(messages: list[BaseMessage]) -> TaskContext:
    for message in messages:
        if isinstance(message, SystemMessage):
            match = _CONTEXT.search(str(message.content))
            if match:
                data = json.loads(match.group(1))
                return TaskContext(now=datetime.fromisoformat(data["now"]), timezone=data["timezone"],
                                   platforms=tuple(data.get("platforms", [])),
                                   brand=BrandVoice.model_validate(data.get("brand", {})),
                                   agent=str(data.get("agent", "")))
    raise ValueError("the offline model needs the <workspace_context> block of the agent prompt")


def _first_human(messages: list[BaseMessage]) -> str:
    return next((str(m.content) for m in messages if isinstance(m, HumanMessage)), "")


def _last_human(messages: list[BaseMessage]) -> str:
    return next((str(m.content) for m in reversed(messages) if isinstance(m, HumanMessage)), "")


def _call_id(prefix: str, seed: str) -> str:
    return f"{prefix}_{hashlib.sha256(seed.encode()).hexdigest()[:10]}"
