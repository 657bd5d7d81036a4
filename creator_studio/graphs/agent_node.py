"""One agent at work: a bounded tool-calling loop over the tools it owns.

Durability comes from LangGraph tasks: every model call and every tool call is a `@task`, so when the node
runs again (after an approval, or after the process was killed) finished calls return their saved results
instead of running again. Side effects also pass through the idempotency ledger, which covers a crash in the
middle of a provider call. Approvals are one `interrupt` per model turn, carrying every side effect of
that turn.
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Callable
from datetime import datetime
from typing import Any

from langchain_core.language_models import BaseChatModel
from langchain_core.messages import (
    AIMessage,
    BaseMessage,
    HumanMessage,
    SystemMessage,
    ToolMessage,
    message_to_dict,
    messages_from_dict,
)
from langgraph.config import get_stream_writer
from langgraph.func import task
from langgraph.types import interrupt

from creator_studio.agents import AGENTS, AgentSpec
from creator_studio.agents.base import PRODUCER_TOOLS
from creator_studio.errors import StudioError
from creator_studio.graphs.state import AgentPayload, AgentResult, ToolCallRecord
from creator_studio.prompts import load_text, prompt_path, render
from creator_studio.providers.llm.offline.model import OFFLINE_PREFIX
from creator_studio.providers.llm.writer import Written
from creator_studio.runs.approvals import ApprovalBatch, ApprovalDecision, ApprovalRequest
from creator_studio.runs.records import Step
from creator_studio.store.db import utcnow
from creator_studio.studio import Studio
from creator_studio.tools.base import ToolArgs, ToolContext, ToolSpec
from creator_studio.tools.invoke import ToolOutcome, execute
from creator_studio.workspaces.service import Workspace

REJECTED_PREFIX = "Rejected by the creator"
# LangGraph's `task` is typed for its functional API; as a plain decorator here it is simply untyped.
durable_task: Any = task


def idempotency_key(run_id: str, subtask_id: str, call_id: str) -> str:
    return hashlib.sha256(f"{run_id}|{subtask_id}|{call_id}".encode()).hexdigest()[:32]


def workspace_context(studio: Studio, ws: Workspace, agent: str, now: datetime) -> dict[str, Any]:
    accounts = sorted(studio.social.accounts(ws.id), key=lambda a: a.followers, reverse=True)
    return {"now": now.astimezone(ws.zone).isoformat(timespec="minutes"), "timezone": ws.timezone,
            "weekday": now.astimezone(ws.zone).strftime("%A"), "agent": agent,
            "platforms": list(dict.fromkeys(a.platform for a in accounts)),
            "brand": ws.brand_voice.model_dump()}


def agent_prompt(studio: Studio, spec: AgentSpec, ws: Workspace, now: datetime) -> str:
    notes = load_text(spec.prompt) if _has_prompt(spec.prompt) else ""
    return render("agents/base", title=spec.title, description=spec.description, agent_notes=notes.strip(),
                  context_json=json.dumps(workspace_context(studio, ws, spec.name, now), ensure_ascii=False))


def _has_prompt(name: str) -> bool:
    try:
        prompt_path(name)
    except FileNotFoundError:
        return False
    return True


def finishes_subtask(subtask: dict[str, Any], records: list[ToolCallRecord], turn_start: int) -> bool:
    """Whether the turn that just ran ends the sub-task: the planner named the tools the sub-task needs
    (`stop_tools`), every call of this turn succeeded, none of them only produced input for another tool (a
    draft, a product, a comment list: the model may still want to use it), and each named tool has succeeded by
    now. Without named tools (a model-routed sub-task) the agent's model says when it is done, as before."""
    stop_tools = set(subtask.get("stop_tools") or ())
    turn = records[turn_start:]
    if not stop_tools or not turn or not all(r.ok and r.tool not in PRODUCER_TOOLS for r in turn):
        return False
    return stop_tools <= {r.tool for r in records if r.ok}


def direct_answer(summaries: list[str], offline: bool) -> str:
    """An agent's answer rendered from its tools' own summaries, in the order they ran (not rewritten)."""
    text = " ".join(s.strip() for s in summaries if s.strip())
    return f"{OFFLINE_PREFIX}{text}" if offline else text


def task_message(payload: AgentPayload) -> str:
    instruction = payload["subtask"]["instruction"]
    if not payload["upstream"]:
        return instruction
    return (f"{instruction}\n\n<results_from_other_agents>"
            f"{json.dumps(payload['upstream'], ensure_ascii=False)}</results_from_other_agents>")


class AgentRunner:
    """Builds the `agent` node for one studio. Bound models are cached per agent."""

    def __init__(self, studio: Studio) -> None:
        self.studio = studio
        self._bound: dict[tuple[str, tuple[str, ...]], Any] = {}
        self._workspaces: dict[str, Workspace] = {}

        @durable_task(name="model_call")
        def model_call(run_id: str, step_key: str, agent: str, tools: tuple[str, ...], messages: list[BaseMessage]
                       ) -> AIMessage:
            return self._call_model(run_id, step_key, agent, tools, messages)

        @durable_task(name="tool_call")
        def tool_call(run_id: str, step_key: str, workspace_id: str, agent: str, tool: str,
                      arguments: dict[str, Any], key: str | None) -> dict[str, Any]:
            return self._call_tool(run_id, step_key, workspace_id, agent, tool, arguments, key).model_dump()

        self._model_task: Any = model_call
        self._tool_task: Any = tool_call

    # The node ---------------------------------------------------------------------------------------
    def __call__(self, payload: AgentPayload) -> dict[str, Any]:
        studio = self.studio
        settings = studio.settings
        subtask = payload["subtask"]
        run_id, agent = payload["run_id"], subtask["agent"]
        spec = AGENTS[agent]
        ws = studio.workspaces.get(payload["workspace_id"])
        self._workspaces[ws.id] = ws  # read once per agent; its tool calls use it (see _call_tool)
        started = utcnow()
        emit = _writer()
        messages: list[BaseMessage] = [SystemMessage(agent_prompt(studio, spec, ws, studio.now())),
                                       HumanMessage(task_message(payload))]
        records: list[ToolCallRecord] = []
        # Only the tools this sub-task may need go with each request (all of them when the plan does not say).
        tools = tuple(subtask.get("tools") or spec.tool_names)

        def finish(status: str, answer: str) -> dict[str, Any]:
            emit({"type": "agent_finished", "agent": agent, "subtask": subtask["id"], "status": status})
            result = AgentResult(subtask_id=subtask["id"], agent=agent, status=status,
                                 answer=answer, tool_calls=records, started_at=started.isoformat(),
                                 ended_at=utcnow().isoformat())
            return {"results": [result.model_dump(mode="json")]}

        for turn in range(settings.max_agent_steps):
            model_calls, tool_calls = studio.runs.counts(run_id)
            if model_calls >= settings.max_model_calls:
                return finish("stopped", _budget_message(settings.max_model_calls, "model calls",
                                                         "STUDIO_MAX_MODEL_CALLS"))
            reply: AIMessage = self._model_task(run_id, f"{subtask['id']}:model:{turn}", agent, tools,
                                                messages).result()
            # Sent back with a blank instead of null content: some OpenAI-compatible servers (llama.cpp's)
            # reject an assistant message whose content is null, which is how an empty one goes on the wire.
            null_content = bool(reply.tool_calls) and not reply.content
            messages.append(reply.model_copy(update={"content": " "}) if null_content else reply)
            if not reply.tool_calls:
                return finish("done", str(reply.content).strip())
            if tool_calls + len(reply.tool_calls) > settings.max_tool_calls:
                return finish("stopped", _budget_message(settings.max_tool_calls, "tool calls",
                                                         "STUDIO_MAX_TOOL_CALLS"))
            before = len(records)
            messages.extend(self._run_turn(run_id, subtask["id"], spec, ws, reply, records, emit))
            if finishes_subtask(subtask, records, before):
                # Stop at tools (return_direct): the planned tools all succeeded, so their results are the
                # answer; asking the model to restate them would cost a request and could only garble them.
                return finish("done", direct_answer([r.summary for r in records if r.ok], studio.models.offline))
        return finish("stopped", f"I stopped after {settings.max_agent_steps} steps without finishing "
                                 f"(STUDIO_MAX_AGENT_STEPS). What finished is listed above.")

    # One model turn's tool calls: validate all, ask once for the side effects, then run in order --------
    def _run_turn(self, run_id: str, subtask_id: str, spec: AgentSpec, ws: Workspace, reply: AIMessage,
                  records: list[ToolCallRecord], emit: Callable[[dict[str, Any]], None]) -> list[ToolMessage]:
        studio = self.studio
        owned = {t.name: t for t in spec.tools()}
        planned: list[tuple[dict[str, Any], ToolSpec[Any, Any] | None, ToolArgs | None, str | None]] = []
        tool_calls: list[dict[str, Any]] = [dict(c) for c in reply.tool_calls]
        requests: list[ApprovalRequest] = []
        auto: list[ApprovalRequest] = []
        for call in tool_calls:
            tool_spec = owned.get(call["name"])
            if tool_spec is None:
                planned.append((call, None, None, f"{call['name']} is not one of the {spec.title} tools "
                                                        f"({', '.join(owned)})."))
                continue
            key = idempotency_key(run_id, subtask_id, call["id"] or call["name"])
            ctx = self._context(ws, spec.name, run_id, key)
            try:
                args = tool_spec.validate(call["args"], ctx)
                tool_spec.check(ctx, args)
            except StudioError as exc:
                planned.append((call, tool_spec, None, exc.message))
                continue
            planned.append((call, tool_spec, args, None))
            if tool_spec.side_effect:
                request = ApprovalRequest(approval_id=f"ap_{key[:12]}", run_id=run_id, workspace_id=ws.id,
                                          agent=spec.name, tool=tool_spec.name,
                                          arguments=args.model_dump(mode="json", exclude_none=True),
                                          preview=_safe_preview(tool_spec, ctx, args), idempotency_key=key)
                (auto if tool_spec.name in ws.auto_approve else requests).append(request)

        decisions: dict[str, ApprovalDecision] = {}
        for request in auto:  # the workspace policy approves these without asking
            decisions[request.approval_id] = ApprovalDecision(decision="approve", decided_by="policy")
            studio.approvals.open_decided(request, decisions[request.approval_id])
        if requests:
            batch = ApprovalBatch(run_id=run_id, agent=spec.name, requests=requests)
            answer = interrupt(batch.model_dump(mode="json"))
            for approval_id, raw in dict(answer.get("decisions", {})).items():
                decisions[approval_id] = ApprovalDecision.model_validate(raw)

        messages: list[ToolMessage] = []
        for call, tool_spec, args, error in planned:
            call_id = call["id"] or call["name"]
            if tool_spec is None or args is None:
                messages.append(self._error_message(run_id, subtask_id, spec.name, call, error or "invalid call",
                                                    records))
                continue
            key = idempotency_key(run_id, subtask_id, call_id)
            approval_id = f"ap_{key[:12]}"
            approval: str | None = None
            if tool_spec.side_effect:
                decision = decisions.get(approval_id)
                if decision is None:
                    decision = ApprovalDecision(decision="reject", reason="no decision was given",
                                                decided_by="system")
                if decision.decision == "reject":
                    text = (f"{REJECTED_PREFIX}: {decision.reason or 'no reason given'}. "
                            f"{tool_spec.name} was not run; do not retry it.")
                    records.append(ToolCallRecord(tool=tool_spec.name, arguments=call["args"], ok=False,
                                                  summary=text, approval="rejected", approval_id=approval_id))
                    now = utcnow()
                    studio.runs.record_step(run_id, Step(
                        step_key=f"{subtask_id}:tool:{call_id}", kind="tool", agent=spec.name, tool=tool_spec.name,
                        arguments=args.model_dump(mode="json", exclude_none=True), status="rejected",
                        summary=f"Not run: rejected ({decision.reason or 'no reason given'}).", started_at=now,
                        ended_at=now))
                    emit({"type": "tool_rejected", "agent": spec.name, "tool": tool_spec.name})
                    messages.append(ToolMessage(content=text, tool_call_id=call_id, status="error"))
                    continue
                approval = "policy" if decision.decided_by == "policy" else (
                    "edited" if decision.decision == "edit" else "approved")
                if decision.decision == "edit" and decision.arguments:
                    ctx = self._context(ws, spec.name, run_id, key)
                    try:
                        args = tool_spec.validate({**call["args"], **decision.arguments}, ctx)
                    except StudioError as exc:
                        messages.append(self._error_message(run_id, subtask_id, spec.name, call,
                                                            f"the edited arguments are invalid: {exc.message}",
                                                            records))
                        continue
            outcome = ToolOutcome.model_validate(self._tool_task(
                run_id, f"{subtask_id}:tool:{call_id}", ws.id, spec.name, tool_spec.name,
                args.model_dump(mode="json", exclude_none=True), key).result())
            records.append(ToolCallRecord(tool=tool_spec.name, arguments=outcome.arguments, ok=outcome.ok,
                                          summary=outcome.summary, result=outcome.result, approval=approval,
                                          approval_id=approval_id if tool_spec.side_effect else None,
                                          replayed=outcome.replayed))
            content = json.dumps(outcome.result, ensure_ascii=False, default=str) if outcome.ok else \
                f"Error: {outcome.error}"
            messages.append(ToolMessage(content=content, tool_call_id=call_id,
                                        status="success" if outcome.ok else "error"))
        return messages

    def _error_message(self, run_id: str, subtask_id: str, agent: str, call: dict[str, Any], error: str,
                       records: list[ToolCallRecord]) -> ToolMessage:
        call_id = call["id"] or call["name"]
        now = utcnow()
        self.studio.runs.record_step(run_id, Step(step_key=f"{subtask_id}:tool:{call_id}", kind="tool", agent=agent,
                                                  tool=call["name"], arguments=call["args"], status="invalid",
                                                  summary=error, started_at=now, ended_at=now))
        records.append(ToolCallRecord(tool=call["name"], arguments=call["args"], ok=False, summary=error))
        return ToolMessage(content=f"Error: {error}", tool_call_id=call_id, status="error")

    def _context(self, ws: Workspace, agent: str, run_id: str, key: str | None,
                 on_model_call: Callable[[Written], None] | None = None) -> ToolContext:
        return ToolContext(studio=self.studio, workspace=ws, agent=agent, now=self.studio.now(), run_id=run_id,
                           idempotency_key=key, on_model_call=on_model_call, journal=True)

    # Task bodies (run once; their results are checkpointed) ------------------------------------------
    def _bound_model(self, agent: str, tools: tuple[str, ...]) -> Any:
        key = (agent, tools)
        if key not in self._bound:
            model: BaseChatModel = self.studio.models.chat_model()
            # tool_choice "auto" said out loud: OpenAI assumes it, but some compatible servers read its absence
            # as "no tools".
            self._bound[key] = model.bind_tools([t.openai_schema() for t in AGENTS[agent].tools() if t.name in tools],
                                                tool_choice="auto")
        return self._bound[key]

    def _call_model(self, run_id: str, step_key: str, agent: str, tools: tuple[str, ...],
                    messages: list[BaseMessage]) -> AIMessage:
        # LangGraph saves task results in the background; the run record is written before we go on, so a
        # process killed right after this call replays the recorded reply instead of asking the model again.
        recorded = self.studio.runs.get_step(run_id, step_key)
        if recorded is not None and recorded.payload is not None:
            return replayed_message(recorded.payload)
        emit = _writer()
        if step_key.endswith(":model:0"):
            emit({"type": "agent_started", "agent": agent, "instruction": str(messages[-1].content)[:300]})
        emit({"type": "model_call", "agent": agent})
        started_at, started = utcnow(), time.perf_counter()
        reply: AIMessage = self._bound_model(agent, tools).invoke(messages)
        usage = reply.usage_metadata or {"input_tokens": 0, "output_tokens": 0}
        calls = ", ".join(c["name"] for c in reply.tool_calls) or "final answer"
        self.studio.runs.record_step(run_id, Step(
            step_key=step_key, kind="model", agent=agent, summary=calls, payload=message_to_dict(reply),
            prompt_tokens=usage.get("input_tokens", 0), completion_tokens=usage.get("output_tokens", 0),
            started_at=started_at, ended_at=utcnow(),
            duration_ms=round((time.perf_counter() - started) * 1000, 2)))
        return reply

    def _call_tool(self, run_id: str, step_key: str, workspace_id: str, agent: str, tool: str,
                   arguments: dict[str, Any], key: str | None) -> ToolOutcome:
        ws = self._workspaces.get(workspace_id) or self.studio.workspaces.get(workspace_id)
        writes = 0

        def count_writer_call(written: Written) -> None:
            nonlocal writes
            writes += 1
            self.studio.runs.record_step(run_id, Step(
                step_key=f"{step_key}:writer:{writes}", kind="model", agent=agent, tool=tool,
                summary=f"writer for {tool}", prompt_tokens=written.prompt_tokens,
                completion_tokens=written.completion_tokens, started_at=utcnow(),
                ended_at=utcnow(), duration_ms=written.latency_ms))

        ctx = self._context(ws, agent, run_id, key, count_writer_call)
        tool_spec = {t.name: t for t in AGENTS[agent].tools()}[tool]
        done = self.studio.ledger.get(ws.id, key) if key else None
        if done is not None and done.status == "succeeded" and done.result is not None:
            # Finished before a crash: replay it as it was (its arguments may no longer validate, e.g. a time
            # that has passed since).
            return ToolOutcome(tool=tool, ok=True, arguments=arguments, result=done.result, replayed=True)
        emit = _writer()
        emit({"type": "tool_started", "agent": agent, "tool": tool, "arguments": arguments})
        started_at, started = utcnow(), time.perf_counter()
        outcome = execute(tool_spec, ctx, tool_spec.validate(arguments, ctx))
        emit({"type": "tool_finished", "agent": agent, "tool": tool, "ok": outcome.ok, "summary": outcome.summary})
        self.studio.runs.record_step(run_id, Step(
            step_key=step_key, kind="tool", agent=agent, tool=tool, arguments=arguments,
            status="ok" if outcome.ok else "error", summary=outcome.summary, started_at=started_at,
            ended_at=utcnow(), duration_ms=round((time.perf_counter() - started) * 1000, 2)))
        return outcome


def replayed_message(payload: dict[str, Any]) -> AIMessage:
    message = messages_from_dict([payload])[0]
    assert isinstance(message, AIMessage), "a recorded model step holds an AI message"
    return message


def _safe_preview(spec: ToolSpec[Any, Any], ctx: ToolContext, args: ToolArgs) -> str:
    try:
        return spec.preview(ctx, args)
    except StudioError as exc:
        return f"{spec.name}: {exc.message}"


def _budget_message(limit: int, what: str, setting: str) -> str:
    return render("command_center/budget_exceeded", limit=str(limit), what=what, setting=setting).strip()


def _writer() -> Callable[[dict[str, Any]], None]:
    try:
        return get_stream_writer()
    except RuntimeError:
        return lambda _event: None
