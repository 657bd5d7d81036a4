"""Goal routing: which agents a goal needs, and which part of the goal each one gets.

Shared by the Command Center's embedding pre-router (which decides without a model call when it is
confident) and by the offline model's structured routing answer (when it is asked to decide anyway).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from creator_studio.providers.llm.offline.intents import ClauseIntent, intent_index
from creator_studio.providers.llm.offline.normalise import normalise
from creator_studio.providers.llm.offline.slots import split_clauses

# A clause referring back to earlier work ("send it", "schedule that", "the draft") depends on it.
_ANAPHORA = re.compile(r"\b(it|that|this|them|those|the draft|the post|the newsletter|the variants|the product)\b",
                       re.IGNORECASE)


@dataclass(frozen=True)
class RoutedClause:
    text: str
    tool: str
    agent: str
    score: float
    margin: float


@dataclass(frozen=True)
class PlannedSubTask:
    id: str
    agent: str
    instruction: str
    depends_on: tuple[str, ...] = ()
    tools_hint: tuple[str, ...] = ()


@dataclass(frozen=True)
class GoalRoute:
    goal: str
    clauses: tuple[RoutedClause, ...]
    out_of_scope: bool
    confidence: float
    dropped: tuple[str, ...] = field(default_factory=tuple)

    @property
    def agents(self) -> list[str]:
        return list(dict.fromkeys(c.agent for c in self.clauses))

    def subtasks(self) -> list[PlannedSubTask]:
        """One sub-task per run of same-agent clauses; a clause that refers back to another agent's work
        depends on that agent's sub-task. Independent sub-tasks run in parallel."""
        tasks: list[PlannedSubTask] = []
        for clause in self.clauses:
            previous = tasks[-1] if tasks else None
            if previous is not None and previous.agent == clause.agent:
                tasks[-1] = PlannedSubTask(id=previous.id, agent=previous.agent,
                                           instruction=f"{previous.instruction}; {clause.text}",
                                           depends_on=previous.depends_on,
                                           tools_hint=(*previous.tools_hint, clause.tool))
                continue
            same_agent = [t for t in tasks if t.agent == clause.agent]
            if same_agent and not _ANAPHORA.search(clause.text):
                # The same agent again later in the goal, with no reference back: one sub-task is enough.
                target = same_agent[0]
                index = tasks.index(target)
                tasks[index] = PlannedSubTask(id=target.id, agent=target.agent,
                                              instruction=f"{target.instruction}; {clause.text}",
                                              depends_on=target.depends_on,
                                              tools_hint=(*target.tools_hint, clause.tool))
                continue
            depends = (previous.id,) if previous is not None and _ANAPHORA.search(clause.text) else ()
            tasks.append(PlannedSubTask(id=f"t{len(tasks) + 1}", agent=clause.agent, instruction=clause.text,
                                        depends_on=depends, tools_hint=(clause.tool,)))
        return tasks


def route_goal(goal: str, *, floor: float) -> GoalRoute:
    text = normalise(goal)
    clauses = split_clauses(text) or [text]
    intents = intent_index().classify(clauses)
    routed: list[RoutedClause] = []
    dropped: list[str] = []
    for intent in intents:
        if intent.is_out_of_scope(floor):
            if routed and intent.out_of_scope_score <= intent.best.score + 0.05:
                _extend_last(routed, intent)  # a weak fragment continues the clause before it
            else:
                dropped.append(intent.clause)
            continue
        routed.append(RoutedClause(text=intent.clause, tool=intent.best.tool, agent=intent.best.agent,
                                   score=intent.best.score, margin=intent.margin))
    if not routed:
        best = max((i.best.score for i in intents), default=0.0)
        return GoalRoute(goal=goal, clauses=(), out_of_scope=True, confidence=round(1 - best, 4),
                         dropped=tuple(dropped))
    confidence = min(_confidence(c) for c in routed)
    return GoalRoute(goal=goal, clauses=tuple(routed), out_of_scope=False, confidence=round(confidence, 4),
                     dropped=tuple(dropped))


def _confidence(clause: RoutedClause) -> float:
    # Similarity alone is not confidence: a clause that nearly matched another agent's tool is ambiguous.
    agent_margin = clause.margin if clause.margin > 0 else 0.0
    return min(1.0, clause.score * 0.6 + min(agent_margin, 0.5) * 0.8)


def _extend_last(routed: list[RoutedClause], intent: ClauseIntent) -> None:
    last = routed[-1]
    routed[-1] = RoutedClause(text=f"{last.text} and {intent.clause}", tool=last.tool, agent=last.agent,
                              score=last.score, margin=last.margin)
