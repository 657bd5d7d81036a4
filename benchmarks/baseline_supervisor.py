"""The baseline: langgraph-supervisor's `create_supervisor` over the same four agents and the same tools.

Built the way its README's quickstart shows: one `create_react_agent` per agent (name, tools, prompt),
`create_supervisor([...], model=..., prompt=...)` with its defaults (hand-off tools, output_mode
"last_message", one hand-off at a time), `.compile()`, `.invoke({"messages": [...]})`. The supervisor also
holds the Command Center's own tools (dashboard summary, growth targets) through its `tools=` parameter,
since in Creator Studio those belong to the Command Center, not to a specialist.

Each tool is a LangChain tool with the very JSON schema Creator Studio sends, whose body goes through the same
path as Creator Studio's agents: validate, check, then `creator_studio.tools.invoke.execute` (journaled in
the idempotency ledger) against the run's own seeded sandbox studio. Its result is the same JSON text.
There is no approval step (the library has none), which is what "auto-approve" means for the baseline.
"""

from __future__ import annotations

import json
import uuid
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from string import Template
from typing import Any

from langchain_core.language_models import BaseChatModel
from langchain_core.runnables import RunnableConfig
from langchain_core.tools import BaseTool
from langgraph.checkpoint.base import BaseCheckpointSaver
from langgraph.graph.state import CompiledStateGraph
from langgraph.pregel import Pregel
from langgraph_supervisor import create_supervisor
from pydantic import PrivateAttr

from creator_studio.agents import AGENTS, SPECIALISTS
from creator_studio.errors import StudioError
from creator_studio.evals.worlds import WORKSPACE_ID
from creator_studio.graphs.agent_node import agent_prompt
from creator_studio.store.db import utcnow
from creator_studio.studio import Studio
from creator_studio.tools.base import ToolContext, ToolSpec
from creator_studio.tools.invoke import execute, get_tool

with warnings.catch_warnings():  # the README's create_react_agent; LangGraph 1.x marks it deprecated
    warnings.simplefilter("ignore", DeprecationWarning)
    from langgraph.prebuilt import create_react_agent

SUPERVISOR_PROMPT = Path(__file__).resolve().parent / "prompts" / "supervisor.md"


@dataclass
class ToolLog:
    """What the baseline's tools did, in order, and when (for tool time)."""

    calls: list[tuple[str, bool]] = field(default_factory=list)
    intervals: list[tuple[datetime, datetime]] = field(default_factory=list)


class StudioTool(BaseTool):
    """One Creator Studio tool as a LangChain tool, run against one studio."""

    name: str
    description: str
    args_schema: Any
    _studio: Studio = PrivateAttr()
    _agent: str = PrivateAttr()
    _log: ToolLog = PrivateAttr()

    def __init__(self, studio: Studio, spec: ToolSpec[Any, Any], log: ToolLog) -> None:
        function = spec.openai_schema()["function"]
        super().__init__(name=spec.name, description=function["description"], args_schema=function["parameters"])
        self._studio = studio
        self._agent = spec.agent
        self._log = log

    def _run(self, **kwargs: Any) -> str:
        studio = self._studio
        spec = get_tool(self.name)  # looked up per call, like Creator Studio's agent node
        ctx = ToolContext(studio=studio, workspace=studio.workspaces.get(WORKSPACE_ID), agent=self._agent,
                          now=studio.now(), run_id=None, idempotency_key=uuid.uuid4().hex, journal=True)
        try:
            args = spec.validate(kwargs, ctx)
            spec.check(ctx, args)
        except StudioError as exc:
            self._log.calls.append((self.name, False))
            return f"Error: {exc.message}"
        started = utcnow()
        outcome = execute(spec, ctx, args)
        self._log.intervals.append((started, utcnow()))
        self._log.calls.append((self.name, outcome.ok))
        if not outcome.ok:
            return f"Error: {outcome.error}"
        return json.dumps(outcome.result, ensure_ascii=False, default=str)


def build_baseline(studio: Studio, model: BaseChatModel, log: ToolLog,
                   checkpointer: BaseCheckpointSaver[Any] | None = None) -> CompiledStateGraph[Any, Any, Any, Any]:
    """The README's build; `checkpointer` (not in the README) only for the like-for-like durability row."""
    ws = studio.workspaces.get(WORKSPACE_ID)
    now = studio.now()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        agents: list[Pregel[Any, Any, Any, Any]] = [
            create_react_agent(model=model, tools=[StudioTool(studio, t, log) for t in AGENTS[name].tools()],
                               name=name, prompt=agent_prompt(studio, AGENTS[name], ws, now))
            for name in SPECIALISTS]
        listing = "\n".join(f"- {AGENTS[n].name}: {AGENTS[n].title}. {AGENTS[n].description}" for n in SPECIALISTS)
        prompt = Template(SUPERVISOR_PROMPT.read_text(encoding="utf-8")).substitute(
            agents=listing, now=now.astimezone(ws.zone).isoformat(), timezone=ws.timezone)
        own_tools: list[BaseTool | Callable[..., Any]] = [StudioTool(studio, t, log)
                                                          for t in AGENTS["command_center"].tools()]
        workflow = create_supervisor(agents, model=model, tools=own_tools, prompt=prompt)
        return workflow.compile(checkpointer=checkpointer)


def run_baseline(app: CompiledStateGraph[Any, Any, Any, Any], goal: str) -> str:
    """Run one goal to the end; the answer is the supervisor's last message."""
    config: RunnableConfig = {"recursion_limit": 100, "configurable": {"thread_id": uuid.uuid4().hex}}
    state = app.invoke({"messages": [{"role": "user", "content": goal}]}, config)
    return str(state["messages"][-1].content)
