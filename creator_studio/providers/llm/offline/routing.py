"""Goal routing: which agents a goal needs, and which part of the goal each one gets.

Shared by the Command Center's embedding pre-router (which decides without a model call when it is
confident) and by the offline model's structured routing answer (when it is asked to decide anyway).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from creator_studio.providers.llm.offline.intents import ClauseIntent, intent_index
from creator_studio.providers.llm.offline.normalise import normalise
from creator_studio.providers.llm.offline.quoting import is_reported, mask, without_reported
from creator_studio.providers.llm.offline.scope import ANCHORLESS_FLOOR, acts_for_someone_else, has_domain_anchor
from creator_studio.providers.llm.offline.slots import split_clauses
from creator_studio.providers.llm.offline.timing import (
    REPORT_TOOLS,
    adjust,
    prepare_clauses,
    strip_negated_asides,
    wants_now,
)

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
    # Quoted and reported speech is data: it is masked before splitting and never becomes an intent.
    masked = mask(goal)
    kept, reported = without_reported(masked.text)
    text = normalise(kept)
    text, asides = strip_negated_asides(text)
    whole = [c for c in split_clauses(text) if not is_reported(c)]
    _prefetch(text, whole)
    clauses = _split_coordinated(whole)
    prepared, negated = prepare_clauses(text, clauses)
    negated = [*asides, *negated]
    dropped: list[str] = [masked.restore(r) for r in [*reported, *negated]]
    if not prepared:
        return GoalRoute(goal=goal, clauses=(), out_of_scope=True, confidence=1.0, dropped=tuple(dropped))
    intents = intent_index().classify([c for c, _ in prepared])
    routed: list[RoutedClause] = []
    someone_else = False
    index = intent_index()
    for intent, (_, new_sentence) in zip(intents, prepared, strict=True):
        # The studio acts only for the creator: a clause about another person's account or earnings (and
        # the clauses that go on about "her"/"his" things) is out of scope however close its words are.
        if acts_for_someone_else(intent.clause) or (someone_else and _THIRD_PERSON.search(intent.clause)):
            someone_else = True
            dropped.append(masked.restore(intent.clause))
            continue
        if _out_of_scope(intent, floor):
            if routed and intent.out_of_scope_score <= intent.best.score + 0.05:
                _extend_last(routed, intent, masked.restore(intent.clause))  # a weak fragment continues
            else:
                dropped.append(masked.restore(intent.clause))
            continue
        tool = adjust(intent.best.tool, intent.clause)
        last = routed[-1] if routed else None
        if (last is not None and last.tool == "schedule_goal" and not new_sentence and tool in REPORT_TOOLS
                and not wants_now(intent.clause)):
            # "Every Monday at 9am, check my MRR and give me a short summary": all of it is the scheduled goal.
            _extend_last(routed, intent, masked.restore(intent.clause))
            continue
        routed.append(RoutedClause(text=masked.restore(intent.clause), tool=tool, agent=index.tool_agent[tool],
                                   score=intent.best.score, margin=intent.margin))
    if not routed:
        best = max((i.best.score for i in intents), default=0.0)
        return GoalRoute(goal=goal, clauses=(), out_of_scope=True, confidence=round(1 - best, 4),
                         dropped=tuple(dropped))
    confidence = min(_confidence(c) for c in routed)
    return GoalRoute(goal=goal, clauses=tuple(routed), out_of_scope=False, confidence=round(confidence, 4),
                     dropped=tuple(dropped))


# "my top engagers, and who's at risk", "the failed runs and my revenue", "revenue with how my posts did":
# a second request joined to the first without a verb of its own.
_COORDINATION = re.compile(
    r",?\s+(?:and|with|plus|as\s+well\s+as)\s+(?=(?:my|how|who|who's|what|what's|which|whether)\b)", re.IGNORECASE)
_COORDINATION_FLOOR = 0.5


def _coordinations(clause: str) -> list[tuple[str, str]]:
    """Where a clause may join two requests: each (head, tail) that both name something of the business."""
    pairs = []
    for match in _COORDINATION.finditer(clause):
        head, tail = clause[:match.start()], clause[match.end():]
        if has_domain_anchor(head) and has_domain_anchor(tail):
            pairs.append((head, tail))
    return pairs


def _prefetch(text: str, clauses: list[str]) -> None:
    """Embed, in one batch, every text the router may classify: each coordination's head and tail and the
    prepared clauses with and without the splits. One forward pass of the encoder costs about the same for one
    sentence as for ten, so this replaces the splitter's pass and the classifier's pass by one; the classify
    calls below then read the encoder's cache."""
    pairs = [pair for clause in clauses for pair in _coordinations(clause)]
    if not pairs:
        return  # one classify call follows anyway: nothing to merge
    split: list[str] = []
    for clause in clauses:  # as _split_coordinated splits when the first join holds (a miss costs one pass)
        found = _coordinations(clause)
        split.extend(found[0] if found else [clause])
    texts = [t for pair in pairs for t in pair]
    for variant in (clauses, split):
        texts.extend(c for c, _ in prepare_clauses(text, variant)[0])
    intent_index().prefetch(texts)


def _split_coordinated(clauses: list[str]) -> list[str]:
    """Split a clause at "and my ..." / "and who's ..." when the second part asks a different agent."""
    result: list[str] = []
    index = intent_index()
    for clause in clauses:
        parts = [clause]
        for head, tail in _coordinations(clause):
            first, second = index.classify([head, tail])
            if (second.best.score >= _COORDINATION_FLOOR and first.best.agent != second.best.agent
                    and not second.is_out_of_scope(_COORDINATION_FLOOR)):
                parts = [head, tail]
                break
        result.extend(parts)
    return result


_THIRD_PERSON = re.compile(r"\b(?:she|he|her|his|they|their|them)\b", re.IGNORECASE)


def _out_of_scope(intent: ClauseIntent, floor: float) -> bool:
    """Below the similarity floor, nearer the out-of-scope exemplars, or naming nothing of the creator's
    business while not being very close to a tool."""
    if intent.is_out_of_scope(floor):
        return True
    return not has_domain_anchor(intent.clause) and intent.best.score < ANCHORLESS_FLOOR


def _confidence(clause: RoutedClause) -> float:
    # Similarity alone is not confidence: a clause that nearly matched another agent's tool is ambiguous.
    agent_margin = clause.margin if clause.margin > 0 else 0.0
    return min(1.0, clause.score * 0.6 + min(agent_margin, 0.5) * 0.8)


def _extend_last(routed: list[RoutedClause], intent: ClauseIntent, text: str) -> None:
    last = routed[-1]
    routed[-1] = RoutedClause(text=f"{last.text} and {text}", tool=last.tool, agent=last.agent,
                              score=last.score, margin=last.margin)
