"""Funnels: how many people reach each step, the conversion between steps, the weakest step, and the time
people take between steps.

Two inputs: per-step counts (what platforms report in aggregate), or per-person events, where a person counts
at a step only after reaching the previous one (an ordered funnel), which also gives the time between steps.
"""

from __future__ import annotations

import statistics
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from creator_studio.errors import InvalidInput


@dataclass(frozen=True)
class StepResult:
    step: str
    count: int
    conversion_from_previous: float | None  # None for the first step or when the previous step is empty
    median_hours_from_previous: float | None = None
    mean_hours_from_previous: float | None = None


@dataclass(frozen=True)
class FunnelResult:
    steps: list[StepResult]
    overall_conversion: float | None
    weakest_index: int | None  # index of the step *into* which conversion is lowest

    @property
    def weakest_step(self) -> str | None:
        if self.weakest_index is None:
            return None
        return f"{self.steps[self.weakest_index - 1].step} → {self.steps[self.weakest_index].step}"

    @property
    def weakest_conversion(self) -> float | None:
        return None if self.weakest_index is None else self.steps[self.weakest_index].conversion_from_previous


def from_counts(steps: Sequence[tuple[str, int]]) -> FunnelResult:
    """A funnel from aggregate counts, step by step; the weakest step is the lowest step-to-step conversion
    (the earliest one on a tie)."""
    if not steps:
        raise InvalidInput("a funnel needs at least one step.")
    results: list[StepResult] = []
    for index, (name, count) in enumerate(steps):
        if count < 0:
            raise InvalidInput(f"step {name!r} has a negative count ({count}).")
        previous = steps[index - 1][1] if index else 0
        rate = count / previous if index and previous else None
        results.append(StepResult(name, count, rate))
    return _finish(results)


def from_events(step_names: Sequence[str], events: Sequence[tuple[str, str, datetime]]) -> FunnelResult:
    """An ordered funnel from (person, step, time) events: a person reaches step k at their first step-k event
    after they reached step k−1; the hours between those two moments give the time between steps."""
    if not step_names:
        raise InvalidInput("a funnel needs at least one step.")
    unknown = sorted({s for _, s, _ in events} - set(step_names))
    if unknown:
        raise InvalidInput(f"events name steps that are not in the funnel: {', '.join(unknown)}.")
    by_person: dict[str, list[tuple[datetime, int]]] = {}
    position = {name: i for i, name in enumerate(step_names)}
    for person, step_name, at in events:
        by_person.setdefault(person, []).append((at, position[step_name]))
    reached = [0] * len(step_names)
    gaps: list[list[float]] = [[] for _ in step_names]
    for timeline in by_person.values():
        timeline.sort()
        next_step, last_at = 0, None
        for at, step in timeline:
            if step != next_step:
                continue
            reached[step] += 1
            if last_at is not None:
                gaps[step].append((at - last_at).total_seconds() / 3600)
            last_at, next_step = at, step + 1
            if next_step == len(step_names):
                break
    results = []
    for index, name in enumerate(step_names):
        previous = reached[index - 1] if index else 0
        results.append(
            StepResult(
                name,
                reached[index],
                reached[index] / previous if index and previous else None,
                statistics.median(gaps[index]) if gaps[index] else None,
                statistics.fmean(gaps[index]) if gaps[index] else None,
            )
        )
    return _finish(results)


def _finish(results: list[StepResult]) -> FunnelResult:
    rated = [(r.conversion_from_previous, i) for i, r in enumerate(results) if r.conversion_from_previous is not None]
    weakest = min(rated)[1] if rated else None
    first = results[0].count
    return FunnelResult(results, results[-1].count / first if first else None, weakest)
