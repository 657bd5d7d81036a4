"""The Command Center graph's state and the shapes that cross its edges.

State values are plain JSON-able dicts (validated by these models at the edges) so the checkpointer can
store and restore them in any process.
"""

from __future__ import annotations

import operator
from typing import Annotated, Any, Literal, TypedDict

from pydantic import BaseModel, Field

from creator_studio.tools.types import AgentName


class SubTask(BaseModel):
    id: str = Field(description="Short id such as t1, t2.")
    agent: AgentName
    instruction: str = Field(min_length=1, description="The part of the goal this agent does, in the creator's "
                                                       "words.")
    depends_on: list[str] = Field(default_factory=list, description="Ids of sub-tasks whose results it needs.")


class RoutingDecision(BaseModel):
    """Decide which agents work on the goal (the Command Center's one structured routing answer)."""

    out_of_scope: bool = Field(description="True when no agent's work fits the goal.")
    subtasks: list[SubTask] = Field(default_factory=list)
    reason: str = ""


class ToolCallRecord(BaseModel):
    tool: str
    arguments: dict[str, Any]
    ok: bool
    summary: str
    result: dict[str, Any] | None = None
    approval: Literal["approved", "rejected", "edited", "policy"] | None = None
    approval_id: str | None = None
    replayed: bool = False


class AgentResult(BaseModel):
    subtask_id: str
    agent: AgentName
    status: Literal["done", "stopped", "failed"]
    answer: str
    tool_calls: list[ToolCallRecord] = Field(default_factory=list)
    started_at: str
    ended_at: str


class RunState(TypedDict, total=False):
    run_id: str
    workspace_id: str
    goal: str
    plan: list[dict[str, Any]]
    route: dict[str, Any]
    results: Annotated[list[dict[str, Any]], operator.add]
    answer: str


class AgentPayload(TypedDict):
    """What one agent receives through `Send`: its sub-task and only the results it depends on."""

    run_id: str
    workspace_id: str
    subtask: dict[str, Any]
    upstream: list[dict[str, Any]]
