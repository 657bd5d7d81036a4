"""Workflow definitions: what starts a workflow (its trigger) and what it does (its steps).

These pydantic models are the one shape of a workflow everywhere: tool arguments, the JSON stored in
`automation_workflows.definition`, API bodies. A definition that validates can be run: triggers are
checked (a cron expression that parses and fires, a `module.past_tense` event name, a known metric) and
every tool step names a tool that exists. The cron parser lives here too because a cron expression is part
of a trigger: `CronSchedule.parse("0 9 * * 1").next_after(now, zone)`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Annotated, Any, Literal, get_args
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator, model_validator

from creator_studio.events.schemas import EVENT_TYPE_NAMES
from creator_studio.tools.types import AGENT_NAMES, AwareDatetime, Period

# --------------------------------------------------------------------------------------------------------
# Cron expressions (the classic five fields, Vixie cron semantics)
# --------------------------------------------------------------------------------------------------------

_MONTH_NAMES = {
    name: i + 1
    for i, name in enumerate(["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"])
}
_DAY_NAMES = {name: i for i, name in enumerate(["sun", "mon", "tue", "wed", "thu", "fri", "sat"])}
_MACROS = {
    "@yearly": "0 0 1 1 *",
    "@annually": "0 0 1 1 *",
    "@monthly": "0 0 1 * *",
    "@weekly": "0 0 * * 0",
    "@daily": "0 0 * * *",
    "@midnight": "0 0 * * *",
    "@hourly": "0 * * * *",
}


@dataclass(frozen=True)
class _CronField:
    label: str
    low: int
    high: int
    names: dict[str, int]


_FIELDS = (
    _CronField("minute", 0, 59, {}),
    _CronField("hour", 0, 23, {}),
    _CronField("day of month", 1, 31, {}),
    _CronField("month", 1, 12, _MONTH_NAMES),
    _CronField("day of week", 0, 7, _DAY_NAMES),  # 0 and 7 are both Sunday
)

# Long enough for the rarest schedule that fires at all. A day of month combined with a weekday matches
# either (Vixie cron), so the rarest is 29 February alone: 8 years apart around 2100, which has no leap day.
_SEARCH_DAYS = 9 * 366


def _cron_value(text: str, field: _CronField, position: int) -> int:
    lowered = text.lower()
    if lowered in field.names:
        return field.names[lowered]
    if not text.isdigit():
        raise ValueError(
            f"cron field {position} ({field.label}): {text!r} is not a number"
            + (" or a name like " + ", ".join(list(field.names)[:3]).upper() if field.names else "")
        )
    value = int(text)
    if not field.low <= value <= field.high:
        raise ValueError(f"cron field {position} ({field.label}): {value} is outside {field.low}-{field.high}")
    return value


def _parse_cron_field(text: str, field: _CronField, position: int) -> frozenset[int]:
    values: set[int] = set()
    for part in text.split(","):
        if not part:
            raise ValueError(f"cron field {position} ({field.label}) has an empty list item in {text!r}")
        range_text, _, step_text = part.partition("/")
        step = 1
        if step_text:
            if not step_text.isdigit() or int(step_text) == 0:
                raise ValueError(
                    f"cron field {position} ({field.label}): step {step_text!r} must be a whole number above 0"
                )
            step = int(step_text)
        if range_text == "*":
            low, high = field.low, field.high
        elif "-" in range_text:
            start_text, _, end_text = range_text.partition("-")
            low, high = _cron_value(start_text, field, position), _cron_value(end_text, field, position)
            if low > high:
                raise ValueError(f"cron field {position} ({field.label}): range {range_text!r} runs backwards")
        else:
            low = _cron_value(range_text, field, position)
            # "5/15" means "from 5 to the end, every 15" as in Vixie cron.
            high = field.high if step_text else low
        values.update(range(low, high + 1, step))
    if field.label == "day of week" and 7 in values:
        values.discard(7)
        values.add(0)
    return frozenset(values)


@dataclass(frozen=True)
class CronSchedule:
    """A parsed five-field cron expression: minute hour day-of-month month day-of-week."""

    expression: str
    minutes: frozenset[int]
    hours: frozenset[int]
    days_of_month: frozenset[int]
    months: frozenset[int]
    days_of_week: frozenset[int]  # 0 = Sunday
    day_of_month_restricted: bool
    day_of_week_restricted: bool

    @classmethod
    def parse(cls, expression: str) -> CronSchedule:
        text = " ".join(expression.split())
        fields = _MACROS.get(text.lower(), text).split(" ")
        if len(fields) != 5:
            raise ValueError(
                f"cron {expression!r} has {len(fields)} field(s); it needs 5: minute hour "
                f"day-of-month month day-of-week, e.g. '0 9 * * 1' for Mondays at 09:00"
            )
        parsed = [_parse_cron_field(f, spec, i + 1) for i, (f, spec) in enumerate(zip(fields, _FIELDS, strict=True))]
        schedule = cls(
            expression=text,
            minutes=parsed[0],
            hours=parsed[1],
            days_of_month=parsed[2],
            months=parsed[3],
            days_of_week=parsed[4],
            day_of_month_restricted=not fields[2].startswith("*"),
            day_of_week_restricted=not fields[4].startswith("*"),
        )
        # An expression like "0 0 31 2 *" parses but never fires: reject it now, not at run time.
        schedule.next_after(datetime(2000, 1, 1, tzinfo=UTC), ZoneInfo("UTC"))
        return schedule

    def _day_matches(self, day: date) -> bool:
        if day.month not in self.months:
            return False
        in_month = day.day in self.days_of_month
        in_week = (day.weekday() + 1) % 7 in self.days_of_week
        if self.day_of_month_restricted and self.day_of_week_restricted:
            return in_month or in_week  # classic cron: either day rule is enough when both are given
        return in_month and in_week

    def next_after(self, after: datetime, zone: ZoneInfo) -> datetime:
        """The first firing strictly after `after`, read in `zone`, returned in UTC.

        Wall-clock times skipped by a daylight-saving jump fire right after the jump (02:30 on the spring
        change in Berlin fires at 03:30 CEST); times that occur twice fire once, at the first occurrence.
        """
        after_utc = after.astimezone(UTC)
        start = after.astimezone(zone).replace(tzinfo=None, second=0, microsecond=0) + timedelta(minutes=1)
        day = start.date()
        times = [time(h, m) for h in sorted(self.hours) for m in sorted(self.minutes)]
        for _ in range(_SEARCH_DAYS):
            if self._day_matches(day):
                found = [
                    moment
                    for moment in (
                        datetime.combine(day, t).replace(tzinfo=zone).astimezone(UTC)
                        for t in times
                        if datetime.combine(day, t) >= start
                    )
                    if moment > after_utc
                ]
                if found:
                    return min(found)
            day += timedelta(days=1)
        raise ValueError(f"cron {self.expression!r} never fires (check the day and month fields)")


_WEEKDAY_NAMES = ["Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday"]


def describe_cron(expression: str) -> str:
    """Plain words for the common shapes ("every Monday at 09:00"); the expression itself otherwise."""
    schedule = CronSchedule.parse(expression)
    simple_time = len(schedule.minutes) == 1 and len(schedule.hours) == 1
    every_month_day = not schedule.day_of_month_restricted and len(schedule.months) == 12
    if simple_time and every_month_day:
        at = f"{next(iter(schedule.hours)):02}:{next(iter(schedule.minutes)):02}"
        if not schedule.day_of_week_restricted:
            return f"every day at {at}"
        days = [_WEEKDAY_NAMES[d] for d in [1, 2, 3, 4, 5, 6, 0] if d in schedule.days_of_week]
        return f"every {', '.join(days)} at {at}"
    return f"on the cron schedule '{schedule.expression}'"


def check_cron(expression: str) -> str:
    return CronSchedule.parse(expression).expression


def check_timezone(name: str) -> str:
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ValueError(f"unknown time zone {name!r}: use an IANA name such as 'Europe/Berlin'") from exc
    return name


# --------------------------------------------------------------------------------------------------------
# Triggers
# --------------------------------------------------------------------------------------------------------


def _type_tag_is_required(schema: dict[str, Any]) -> None:
    """`type` picks the kind of trigger or step and the parser needs it (no default applies inside a union), so
    the JSON schema (the API's OpenAPI description) lists it as required."""
    if "type" in schema.get("properties", {}) and "type" not in schema.setdefault("required", []):
        schema["required"].insert(0, "type")


class _Definition(BaseModel):
    # Unknown keys are mistakes (a typo in "cron"), not extras to ignore; "if" is a keyword in Python.
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True, populate_by_name=True, serialize_by_alias=True,
                              json_schema_extra=_type_tag_is_required)


CronExpression = Annotated[
    str,
    Field(description="Five fields: minute hour day-of-month month day-of-week, e.g. '0 9 * * 1' = Mondays 09:00."),
]


# After downtime: run every firing that was missed (catch_up) or only the latest one and log the rest (skip).
MissedRunPolicy = Literal["catch_up", "skip"]


class CronTrigger(_Definition):
    type: Literal["cron"] = "cron"
    cron: CronExpression
    timezone: str | None = Field(default=None, description="IANA zone; default: the workspace's time zone.")
    missed: MissedRunPolicy = Field(default="skip", description="After downtime: catch_up or skip missed runs.")

    @field_validator("cron")
    @classmethod
    def _check_cron(cls, value: str) -> str:
        return check_cron(value)

    @field_validator("timezone")
    @classmethod
    def _check_zone(cls, value: str | None) -> str | None:
        return None if value is None else check_timezone(value)

    def describe(self, zone: ZoneInfo) -> str:
        return f"{describe_cron(self.cron)} ({self.timezone or zone.key})"


# Events are `module.past_tense` (conventions.md): the namespace is a module or one of the event namespaces of
# the product brief (audience, system), the name ends in a verb's past form, e.g. content.published,
# revenue.payment_failed, audience.comment_received. The brief's own event names are always accepted.
EVENT_NAMESPACES = (*AGENT_NAMES, "audience", "system")
KNOWN_EVENTS = EVENT_TYPE_NAMES  # one source of truth: the registry in creator_studio/events/schemas.py
_EVENT = re.compile(r"^([a-z_]+)\.([a-z][a-z0-9]*(?:_[a-z0-9]+)*)$")
_IRREGULAR_PAST = frozenset(
    {
        "sent",
        "paid",
        "won",
        "lost",
        "made",
        "built",
        "sold",
        "written",
        "taken",
        "given",
        "left",
        "hit",
        "set",
        "begun",
        "run",
        "done",
        "seen",
        "met",
        "read",
        "bought",
        "held",
        "kept",
        "found",
        "become",
        "grown",
        "shown",
        "spent",
        "cut",
        "quit",
        "reset",
        "upgraded",
        "overdue",
        "due",
    }
)


def check_event_name(name: str) -> str:
    match = _EVENT.match(name)
    if not match:
        raise ValueError(f"event {name!r} is not like 'module.past_tense', e.g. 'revenue.payment_failed'")
    module, action = match.groups()
    if name in KNOWN_EVENTS:
        return name
    if module not in EVENT_NAMESPACES:
        raise ValueError(f"event {name!r}: {module!r} is not an event namespace; use one of "
                         f"{', '.join(EVENT_NAMESPACES)}")
    last_word = action.rsplit("_", 1)[-1]
    if not (last_word.endswith("ed") or last_word in _IRREGULAR_PAST):
        raise ValueError(f"event {name!r}: the name should end in a past tense verb, like '{module}.{action}ed'")
    return name


FilterValue = str | int | float | bool


class EventTrigger(_Definition):
    type: Literal["event"] = "event"
    event: str = Field(description="A `module.past_tense` event name, e.g. revenue.payment_failed.")
    filter: dict[str, FilterValue] | None = Field(
        default=None, description="Only events whose payload fields equal these values start the workflow."
    )

    @field_validator("event")
    @classmethod
    def _check_event(cls, value: str) -> str:
        return check_event_name(value)

    @field_validator("filter")
    @classmethod
    def _check_filter(cls, value: dict[str, FilterValue] | None) -> dict[str, FilterValue] | None:
        for key in value or {}:
            if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_.]{0,99}", key):
                raise ValueError(f"filter key {key!r} is not a payload field name (letters, digits, _ and .)")
        return value

    def describe(self, zone: ZoneInfo) -> str:
        where = " and ".join(f"{key} = {value!r}" for key, value in (self.filter or {}).items())
        return f"whenever {self.event} happens" + (f" with {where}" if where else "")


# Metrics a threshold or a condition can watch; each is measured by the module that owns it.
Metric = Literal[
    "engagement_rate",
    "followers",
    "mrr",
    "revenue",
    "churn_rate",
    "newsletter_subscribers",
    "unreplied_comments",
    "failed_payments",
    # Behavioural metrics of the seed's sequences, read through automation.metrics.MetricSource.
    "community_participation",
    "churn_risk",
    "funnel_progression",
]
Comparison = Literal["<", ">"]


class ThresholdTrigger(_Definition):
    type: Literal["threshold"] = "threshold"
    metric: Metric
    op: Comparison
    value: float
    window: Period = Field(default="7d", description="Measured over this period, like 7d or 30d.")

    def describe(self, zone: ZoneInfo) -> str:
        direction = "below" if self.op == "<" else "above"
        return f"when {self.metric} over {self.window} goes {direction} {self.value:g}"


class OnceTrigger(_Definition):
    """A single run at a given time (what `schedule_goal` uses for `at`); the service checks it is ahead."""

    type: Literal["once"] = "once"
    at: AwareDatetime
    missed: MissedRunPolicy = Field(default="catch_up", description="If the worker was down then: run late or skip.")

    def describe(self, zone: ZoneInfo) -> str:
        return f"once, at {self.at.astimezone(zone).strftime('%a %d %b %Y %H:%M')} ({zone.key})"


Trigger = Annotated[CronTrigger | EventTrigger | ThresholdTrigger | OnceTrigger, Field(discriminator="type")]

# --------------------------------------------------------------------------------------------------------
# Steps
# --------------------------------------------------------------------------------------------------------


class _Retrying(_Definition):
    """Per-step retries: a failed attempt is tried again after `retry_delay`, doubling each time."""

    retries: int = Field(default=0, ge=0, le=10, description="Extra attempts after a failure.")
    retry_delay: str = Field(default="1m", description="Wait before the first retry: 30s, 1m, 2h.")

    @field_validator("retry_delay")
    @classmethod
    def _check_delay(cls, value: str) -> str:
        parse_duration(value, allow_seconds=True)
        return value.strip().lower()


class ToolStep(_Retrying):
    type: Literal["tool"] = "tool"
    tool: str = Field(description="A tool of the catalogue, e.g. start_email_sequence.")
    args: dict[str, Any] = Field(
        default_factory=dict, description="Its arguments; values may use {{event.field}} placeholders."
    )

    @model_validator(mode="after")
    def _known_tool(self, info: ValidationInfo) -> ToolStep:
        if (info.context or {}).get("stored"):
            return self  # checked when it was saved; a stored workflow stays readable if a tool is retired
        # Imported here: the tool registry imports the tool modules, which import this module.
        from creator_studio.tools.base import load_all_tools

        tools = load_all_tools()
        spec = tools.get(self.tool)
        if spec is None:
            raise ValueError(
                f"unknown tool {self.tool!r}; use a tool of the catalogue such as {', '.join(sorted(tools)[:4])}"
            )
        accepted = {name for name, info in spec.args_model.model_fields.items()} | {
            info.alias for info in spec.args_model.model_fields.values() if info.alias
        }
        unknown = sorted(set(self.args) - accepted)
        if unknown:
            raise ValueError(
                f"{self.tool} has no argument(s) {', '.join(unknown)}; it takes "
                f"{', '.join(sorted(accepted)) or 'no arguments'}"
            )
        return self

    def describe(self) -> str:
        shown = ", ".join(f"{key}={value!r}" for key, value in self.args.items())
        return f"call {self.tool}({shown})"


class GoalStep(_Retrying):
    type: Literal["goal"] = "goal"
    goal: str = Field(min_length=3, max_length=2000, description="A goal the Command Center plans and runs.")

    def describe(self) -> str:
        return f"run the goal “{self.goal}”"


_FUNCTION_NAME = re.compile(r"^[a-z][a-z0-9_]*\.[a-z][a-z0-9_]*$")


class CodeStep(_Retrying):
    """A named, registered Python step function (like n8n's Code node), for steps plain tool calls cannot express.

    The function gets a typed context (`automation.functions.StepContext`): the studio, the workspace, the run's
    correlation id, the results of earlier steps and what the run was given (the simulated world, in the
    sandbox); what it returns is this step's result, available to later steps."""

    type: Literal["code"] = "code"
    function: str = Field(description="A registered step function, e.g. acquisition.publish_across_platforms.")
    args: dict[str, Any] = Field(
        default_factory=dict, description="Its parameters; values may use {{event.field}} placeholders."
    )

    @field_validator("function")
    @classmethod
    def _check_function(cls, value: str, info: ValidationInfo) -> str:
        if not _FUNCTION_NAME.match(value):
            raise ValueError(f"step function {value!r} is not like 'group.name', e.g. 'acquisition.publish'")
        if (info.context or {}).get("stored"):
            return value  # checked when it was saved
        # Imported here: the step functions' modules import this module.
        from creator_studio.automation.functions import load_step_functions

        functions = load_step_functions()
        if value not in functions:
            group = value.split(".", 1)[0]
            known = sorted(name for name in functions if name.startswith(f"{group}.")) or sorted(functions)
            raise ValueError(f"unknown step function {value!r}; registered: {', '.join(known[:12])}")
        return value

    def describe(self) -> str:
        shown = ", ".join(f"{key}={value!r}" for key, value in self.args.items())
        return f"run {self.function}({shown})"


_DURATION = re.compile(r"^(\d{1,4})(s|m|h|d|w)$")
_DURATION_UNIT = {
    "s": timedelta(seconds=1),
    "m": timedelta(minutes=1),
    "h": timedelta(hours=1),
    "d": timedelta(days=1),
    "w": timedelta(weeks=1),
}
MAX_WAIT = timedelta(days=90)


def parse_duration(text: str, *, allow_seconds: bool = False) -> timedelta:
    match = _DURATION.match(text.strip().lower())
    if not match or int(match.group(1)) == 0 or (match.group(2) == "s" and not allow_seconds):
        raise ValueError(f"duration {text!r} is not like '30m', '2h', '2d' or '1w'")
    duration = int(match.group(1)) * _DURATION_UNIT[match.group(2)]
    if duration > MAX_WAIT:
        raise ValueError(f"duration {text!r} is longer than {MAX_WAIT.days} days")
    return duration


class WaitStep(_Definition):
    type: Literal["wait"] = "wait"
    duration: str = Field(description="How long to wait before the next step: 30m, 2h, 2d, 1w.")

    @field_validator("duration")
    @classmethod
    def _check_duration(cls, value: str) -> str:
        parse_duration(value)
        return value.strip().lower()

    def describe(self) -> str:
        return f"wait {self.duration}"


_CONDITION_FIELD = re.compile(r"^event\.[A-Za-z_][A-Za-z0-9_.]{0,99}$")
_METRICS: tuple[str, ...] = get_args(Metric)


class Condition(_Definition):
    """`field op value`: a metric (like engagement_rate) or a field of the triggering event (event.amount)."""

    field: str
    op: Literal["==", "!=", "<", "<=", ">", ">="]
    value: FilterValue

    @field_validator("field")
    @classmethod
    def _check_field(cls, value: str) -> str:
        if value not in _METRICS and not _CONDITION_FIELD.match(value):
            raise ValueError(
                f"condition field {value!r} is neither a metric ({', '.join(_METRICS)}) nor "
                f"an event field like 'event.amount'"
            )
        return value

    @model_validator(mode="after")
    def _comparable(self) -> Condition:
        ordering = self.op in ("<", "<=", ">", ">=")
        if ordering and (isinstance(self.value, bool) or not isinstance(self.value, int | float)):
            raise ValueError(f"'{self.op}' compares numbers; {self.value!r} is not a number")
        if self.field in _METRICS and not isinstance(self.value, int | float):
            raise ValueError(f"{self.field} is a number; compare it with a number, not {self.value!r}")
        return self


class ConditionStep(_Definition):
    """Continue with the following steps only if the condition holds; otherwise the run ends, skipped."""

    type: Literal["condition"] = "condition"
    if_: Condition = Field(alias="if")

    def describe(self) -> str:
        return f"continue only if {self.if_.field} {self.if_.op} {self.if_.value!r}"


class BranchStep(_Definition):
    """If the condition holds, run `then`, else run `else`; either way continue with the following steps."""

    type: Literal["branch"] = "branch"
    if_: Condition = Field(alias="if")
    then: list[Step] = Field(min_length=1)
    else_: list[Step] = Field(default_factory=list, alias="else")

    def describe(self) -> str:
        other = f", else {len(self.else_)} step(s)" if self.else_ else ""
        return f"if {self.if_.field} {self.if_.op} {self.if_.value!r}: {len(self.then)} step(s){other}"


Step = Annotated[ToolStep | GoalStep | CodeStep | WaitStep | ConditionStep | BranchStep, Field(discriminator="type")]
BranchStep.model_rebuild()
MAX_STEPS = 50


def flat_steps(steps: list[Any]) -> list[Any]:
    """Every step, branches opened (for counting and checks)."""
    found: list[Any] = []
    for step in steps:
        found.append(step)
        if isinstance(step, BranchStep):
            found += flat_steps(step.then) + flat_steps(step.else_)
    return found


def check_steps(steps: list[Any]) -> list[Any]:
    """Shared by the definition and the tool arguments: non-empty, bounded, and at least one real action."""
    if not steps:
        raise ValueError('a workflow needs at least one step, e.g. {"type": "goal", "goal": "..."}')
    if len(flat_steps(steps)) > MAX_STEPS:
        raise ValueError(f"a workflow has at most {MAX_STEPS} steps (got {len(flat_steps(steps))})")
    if not any(isinstance(step, ToolStep | GoalStep | CodeStep) for step in flat_steps(steps)):
        raise ValueError("a workflow needs at least one tool or goal step (or a code step); waits and conditions "
                         "alone do nothing")
    return steps


class WorkflowDefinition(_Definition):
    """What is stored for a workflow: its trigger and its steps (name, status and version live beside it)."""

    trigger: Trigger
    # The bounds are checked by check_steps (with a clearer message); the schema states them too.
    steps: list[Step] = Field(json_schema_extra={"minItems": 1, "maxItems": MAX_STEPS})
    # The workflow (by name) that runs when a run fails after its retries, with the failure as its event.
    on_error: str | None = Field(default=None, max_length=120)

    @field_validator("steps")
    @classmethod
    def _check_steps(cls, value: list[Any]) -> list[Any]:
        return check_steps(value)


class WorkflowFile(WorkflowDefinition):
    """A workflow as written in a YAML or JSON file (`studio workflows create FILE`, the templates)."""

    name: str = Field(min_length=1, max_length=120)
    description: str | None = Field(default=None, max_length=2000)

    def definition(self) -> WorkflowDefinition:
        return WorkflowDefinition.model_validate(self.model_dump(exclude={"name", "description"}, by_alias=True))
