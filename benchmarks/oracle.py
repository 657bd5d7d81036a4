"""The scripted oracle: one LangChain chat model that drives both systems through the same script.

A `CaseScript` says what a correct run of an eval case does: which agents work (sub-tasks, in plan order),
each agent's model turns (the tool calls of each turn, with complete arguments) and each agent's final
answer. The oracle answers every model request with the next step of that script:

- Creator Studio's router (tools bound: `RoutingDecision`): the plan.
- langgraph-supervisor's supervisor (tools bound: `transfer_to_*`): the next hand-off, the Command Center's
  own tool calls (the supervisor holds those tools), then the final answer.
- an agent (tools bound: exactly that agent's tools): its next turn's tool calls, then its final answer.

Where it is in the script is read from the request itself (which of its own call ids the history already
holds), so the same oracle works for both architectures. Arguments that name something created earlier in
the run (a draft id, a product id) are filled from the results this run actually produced.

Every request is recorded with its prompt tokens (tiktoken cl100k_base over the serialized messages AND the
tool schemas sent) and completion tokens, which is what the benchmark compares.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from langchain_core.callbacks import CallbackManagerForLLMRun
from langchain_core.language_models import BaseChatModel, LanguageModelInput
from langchain_core.messages import AIMessage, BaseMessage, ToolMessage
from langchain_core.outputs import ChatGeneration, ChatResult
from langchain_core.runnables import Runnable
from langchain_core.utils.function_calling import convert_to_openai_tool
from pydantic import BaseModel, Field, PrivateAttr

from creator_studio.agents import AGENTS
from creator_studio.graphs.agent_node import direct_answer
from creator_studio.providers.llm.offline.writer import OfflineWriter
from creator_studio.providers.llm.tokens import count_tokens
from creator_studio.providers.llm.writer import Writer

ROUTING_TOOL = "RoutingDecision"
HANDOFF_PREFIX = "transfer_to_"
CALL_ID_PREFIX = "bx"  # a scripted tool call: bx<index>
HANDOFF_ID_PREFIX = "hx"  # a scripted hand-off: hx<step>
SUPERVISOR_AGENT = "command_center"  # the baseline supervisor also holds the Command Center's own tools


# The script -------------------------------------------------------------------------------------------------
class Ref(BaseModel):
    """An argument value that came from an earlier call's result: call `call`, at `path` in its result."""

    arg_path: list[str | int]
    call: int
    result_path: list[str | int]


class ScriptedCall(BaseModel):
    index: int  # unique within the case; the call id is bx<index>
    name: str
    args: dict[str, Any]
    refs: list[Ref] = Field(default_factory=list)
    ok: bool = True  # whether the reference run's call succeeded (a replay must match)

    @property
    def call_id(self) -> str:
        return f"{CALL_ID_PREFIX}{self.index}"


class SubtaskScript(BaseModel):
    id: str
    agent: str
    instruction: str
    depends_on: list[str] = Field(default_factory=list)
    turns: list[list[ScriptedCall]] = Field(default_factory=list)
    answer: str
    # The reference run ended at its planned tools: the answer is their results' summaries (ids differ per run),
    # so a system that asks for a final answer gets it rendered from the results of its own run.
    direct: bool = False

    def calls(self) -> list[ScriptedCall]:
        return [c for turn in self.turns for c in turn]

    def answer_from(self, results: dict[int, Any]) -> str:
        """The answer, rendered from this run's results when the reference run ended at its tools (the reference
        model is the offline one, whose answers are labelled)."""
        if not self.direct or not results:
            return self.answer
        summaries = [str(r.get("summary", "")) for r in (results.get(c.index) for c in self.calls())
                     if isinstance(r, dict)]
        return direct_answer(summaries, offline=True)


class CaseScript(BaseModel):
    case_id: str
    goal: str
    world: str = "default"
    out_of_scope: bool = False
    out_of_scope_answer: str = ""
    subtasks: list[SubtaskScript] = Field(default_factory=list)

    def calls(self) -> list[ScriptedCall]:
        return [c for s in self.subtasks for c in s.calls()]

    def subtask_of(self, agent: str) -> SubtaskScript:
        for subtask in self.subtasks:
            if subtask.agent == agent:
                return subtask
        raise LookupError(f"{self.case_id}: the script has no sub-task for agent {agent!r}")

    def final_answer(self, results: dict[int, Any] | None = None) -> str:
        """What either system answers: one agent's answer as is, several side by side under module names.
        `results` (call index -> result of this run) renders the answers of sub-tasks that ended at their tools."""
        if self.out_of_scope or not self.subtasks:
            return self.out_of_scope_answer
        answers = [s.answer_from(results or {}) for s in self.subtasks]
        if len(self.subtasks) == 1:
            return answers[0]
        return "\n\n".join(f"{AGENTS[s.agent].title}: {a}" for s, a in zip(self.subtasks, answers, strict=True))


# What was asked ----------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class ModelRequest:
    role: str  # router | supervisor | <agent>
    prompt_tokens: int
    completion_tokens: int
    seconds: float


@dataclass
class OracleSession:
    """One run's shared state: the script, the results seen so far, and every request made."""

    script: CaseScript
    requests: list[ModelRequest] = field(default_factory=list)
    results: dict[int, Any] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def calls(self) -> int:
        return len(self.requests)

    @property
    def prompt_tokens(self) -> int:
        return sum(r.prompt_tokens for r in self.requests)

    @property
    def completion_tokens(self) -> int:
        return sum(r.completion_tokens for r in self.requests)


def serialize_request(messages: Sequence[BaseMessage], tools: Sequence[dict[str, Any]]) -> str:
    """The text a provider would receive: every message (role, content, tool calls, ids) and the tool schemas."""
    rows: list[dict[str, Any]] = []
    for message in messages:
        row: dict[str, Any] = {"role": message.type, "content": _text(message.content)}
        if message.name:
            row["name"] = message.name
        if isinstance(message, AIMessage) and message.tool_calls:
            row["tool_calls"] = [{"id": c.get("id"), "name": c["name"], "arguments": c["args"]}
                                 for c in message.tool_calls]
        if isinstance(message, ToolMessage):
            row["tool_call_id"] = message.tool_call_id
        rows.append(row)
    return json.dumps(rows, ensure_ascii=False, default=str) + json.dumps(list(tools), ensure_ascii=False)


def serialize_reply(reply: AIMessage) -> str:
    calls = [{"name": c["name"], "arguments": c["args"]} for c in reply.tool_calls]
    return _text(reply.content) + (json.dumps(calls, ensure_ascii=False, default=str) if calls else "")


def _text(content: Any) -> str:
    return content if isinstance(content, str) else json.dumps(content, ensure_ascii=False, default=str)


# The model ---------------------------------------------------------------------------------------------------
class OracleModel(BaseChatModel):
    """A zero-latency chat model that answers from an `OracleSession`'s script."""

    _session: OracleSession = PrivateAttr()
    _owner: dict[str, str] = PrivateAttr(default_factory=dict)

    def __init__(self, session: OracleSession, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._session = session
        self._owner = {tool: name for name, spec in AGENTS.items() for tool in spec.tool_names}

    @property
    def session(self) -> OracleSession:
        return self._session

    @property
    def _llm_type(self) -> str:
        return "benchmark-oracle"

    # `parallel_tool_calls` is a named parameter (as in ChatOpenAI) so langgraph-supervisor passes it, as it
    # would to a real provider; the oracle itself emits one hand-off per turn either way.
    def bind_tools(self, tools: Sequence[Any], *, tool_choice: Any = None, parallel_tool_calls: bool | None = None,
                   **kwargs: Any) -> Runnable[LanguageModelInput, AIMessage]:
        extra: dict[str, Any] = dict(kwargs)
        if tool_choice is not None:
            extra["tool_choice"] = tool_choice
        if parallel_tool_calls is not None:
            extra["parallel_tool_calls"] = parallel_tool_calls
        return self.bind(tools=[convert_to_openai_tool(t) for t in tools], **extra)

    def _generate(self, messages: list[BaseMessage], stop: list[str] | None = None,
                  run_manager: CallbackManagerForLLMRun | None = None, **kwargs: Any) -> ChatResult:
        started = time.perf_counter()
        tools: list[dict[str, Any]] = list(kwargs.get("tools") or [])
        names = frozenset(t["function"]["name"] for t in tools)
        session = self._session
        with session.lock:
            self._observe(messages)
            if ROUTING_TOOL in names:
                role, reply = "router", self._route()
            elif any(n.startswith(HANDOFF_PREFIX) for n in names):
                role, reply = "supervisor", self._supervise(messages)
            else:
                # An agent may be sent only the tools its sub-task needs: any one tool names its owner.
                owners = {self._owner.get(n) for n in names}
                agent = owners.pop() if len(owners) == 1 else None
                if agent is None:
                    raise LookupError(f"the oracle was asked with tools it cannot place: {sorted(names)}")
                role, reply = agent, self._agent_turn(agent, messages)
        prompt = count_tokens(serialize_request(messages, tools))
        completion = count_tokens(serialize_reply(reply))
        reply.usage_metadata = {"input_tokens": prompt, "output_tokens": completion,
                                "total_tokens": prompt + completion}
        with session.lock:
            session.requests.append(ModelRequest(role=role, prompt_tokens=prompt, completion_tokens=completion,
                                                 seconds=time.perf_counter() - started))
        return ChatResult(generations=[ChatGeneration(message=reply)])

    # The three kinds of request -------------------------------------------------------------------------
    def _route(self) -> AIMessage:
        script = self._session.script
        decision = {"out_of_scope": script.out_of_scope,
                    "subtasks": [{"id": s.id, "agent": s.agent, "instruction": s.instruction,
                                  "depends_on": list(s.depends_on)} for s in script.subtasks],
                    "reason": "scripted by the benchmark oracle"}
        return AIMessage(content="", tool_calls=[{"name": ROUTING_TOOL, "args": decision, "id": "route0"}])

    def _supervise(self, messages: list[BaseMessage]) -> AIMessage:
        steps = supervisor_steps(self._session.script)
        done = _turns_taken(messages, _supervisor_ids(self._session.script), count_handoffs=True)
        if done >= len(steps):
            return AIMessage(content=self._session.script.final_answer(self._session.results))
        step = steps[done]
        if isinstance(step, str):
            return AIMessage(content="", tool_calls=[{"name": f"{HANDOFF_PREFIX}{step}", "args": {},
                                                      "id": f"{HANDOFF_ID_PREFIX}{done}"}])
        return self._calls(step)

    def _agent_turn(self, agent: str, messages: list[BaseMessage]) -> AIMessage:
        subtask = self._session.script.subtask_of(agent)
        done = _turns_taken(messages, {c.call_id for c in subtask.calls()})
        if done >= len(subtask.turns):
            return AIMessage(content=subtask.answer_from(self._session.results))
        return self._calls(subtask.turns[done])

    def _calls(self, turn: list[ScriptedCall]) -> AIMessage:
        return AIMessage(content="", tool_calls=[{"name": c.name, "args": self._resolved(c), "id": c.call_id}
                                                 for c in turn])

    # Results this run produced, and the arguments that need them ------------------------------------------
    def _observe(self, messages: list[BaseMessage]) -> None:
        for message in messages:
            if not isinstance(message, ToolMessage) or not message.tool_call_id.startswith(CALL_ID_PREFIX):
                continue
            index = int(message.tool_call_id.removeprefix(CALL_ID_PREFIX))
            if index in self._session.results:
                continue
            try:
                self._session.results[index] = json.loads(str(message.content))
            except ValueError:  # an error message: nothing to take ids from
                self._session.results[index] = None

    def _resolved(self, call: ScriptedCall) -> dict[str, Any]:
        args: Any = json.loads(json.dumps(call.args))
        for ref in call.refs:
            value = _lookup(self._session.results.get(ref.call), ref.result_path)
            if value is not None:
                args = _replace(args, ref.arg_path, value)
        return dict(args)


def supervisor_steps(script: CaseScript) -> list[str | list[ScriptedCall]]:
    """The supervisor's turns: a hand-off per specialist sub-task; the Command Center's own calls itself."""
    steps: list[str | list[ScriptedCall]] = []
    for subtask in script.subtasks:
        if subtask.agent == SUPERVISOR_AGENT:
            steps.extend(subtask.turns)
        else:
            steps.append(subtask.agent)
    return steps


def _supervisor_ids(script: CaseScript) -> set[str]:
    return {c.call_id for s in script.subtasks if s.agent == SUPERVISOR_AGENT for c in s.calls()}


def _turns_taken(messages: list[BaseMessage], own_ids: set[str], *, count_handoffs: bool = False) -> int:
    """How many of this role's scripted turns the history already holds (for the supervisor, hand-offs too)."""

    def own(call: dict[str, Any]) -> bool:
        call_id = call.get("id") or ""
        return call_id in own_ids or (count_handoffs and call_id.startswith(HANDOFF_ID_PREFIX)
                                      and call["name"].startswith(HANDOFF_PREFIX))

    return sum(1 for m in messages if isinstance(m, AIMessage) and any(own(dict(c)) for c in m.tool_calls))


def _child(data: Any, key: str | int) -> tuple[bool, Any]:
    if isinstance(data, dict) and isinstance(key, str) and key in data:
        return True, data[key]
    if isinstance(data, list) and isinstance(key, int) and 0 <= key < len(data):
        return True, data[key]
    return False, None


def _lookup(data: Any, path: list[str | int]) -> Any:
    for key in path:
        found, data = _child(data, key)
        if not found:
            return None
    return data


def _replace(data: Any, path: list[str | int], value: Any) -> Any:
    if not path:
        return value
    found, child = _child(data, path[0])
    if found:
        data[path[0]] = _replace(child, path[1:], value)
    return data


# Plugging it into Creator Studio ----------------------------------------------------------------------------
@dataclass
class OracleProvider:
    """A `ModelProvider` (creator_studio/providers/llm/provider.py) serving the oracle; tools that write text
    use the offline writer in both systems, so the writing work is the same."""

    model: OracleModel
    name: str = "oracle"
    offline: bool = True
    _writer: Writer = field(default_factory=OfflineWriter)

    @property
    def writer(self) -> Writer:
        return self._writer

    def chat_model(self) -> BaseChatModel:
        return self.model
