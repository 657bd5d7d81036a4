"""Declaring tools: a typed function `fn(ctx, args) -> result` plus its docstring is the whole tool.

    @tool("content")
    def draft_post(ctx: ToolContext, args: DraftPostArgs) -> DraftPostResult:
        '''Write a draft post for one platform in the creator's voice.'''

The argument model becomes the JSON schema the model sees; the docstring becomes its description.
`side_effect=True` marks an `A` tool of tools.md: it pauses for approval and runs through the ledger.
"""

from __future__ import annotations

import copy
import functools
import inspect
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, Generic, TypeVar, get_type_hints
from zoneinfo import ZoneInfo

from pydantic import BaseModel, ConfigDict, ValidationError

from creator_studio.errors import InvalidInput
from creator_studio.providers.llm.writer import WritingTask, Written
from creator_studio.tools.types import AgentName

if TYPE_CHECKING:
    from creator_studio.studio import Studio
    from creator_studio.workspaces.service import Workspace


class ToolArgs(BaseModel):
    """Base for argument models: unknown arguments are an error, not silently dropped."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class ToolResult(BaseModel):
    """Base for results. `summary` is one sentence a creator understands."""

    summary: str


@dataclass(frozen=True)
class ToolContext:
    """What a tool may use: the studio's services, the workspace, and who is calling."""

    studio: Studio
    workspace: Workspace
    agent: str
    now: datetime
    run_id: str | None = None
    idempotency_key: str | None = None
    # Called with each `Written` a tool obtains from the writer, so the run counts every model call.
    on_model_call: Callable[[Written], None] | None = None
    # A run's tool calls are journaled under their key (not only side effects), so a resumed run replays them.
    journal: bool = False

    def write(self, task: WritingTask) -> Written:
        written = self.studio.writer.write(task)
        if self.on_model_call is not None:
            self.on_model_call(written)
        return written

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.workspace.timezone)

    @property
    def local_now(self) -> datetime:
        return self.now.astimezone(self.zone)

    @property
    def request_key(self) -> str | None:
        """The key that makes a record-creating call safe to repeat within a run (a resumed run finds the
        record it made before instead of making a second one). Outside runs, every call is a new request."""
        return self.idempotency_key if self.journal else None

    def period_start(self, period: str) -> datetime:
        """Where a period like "7d", "mtd" or "ytd" starts: calendar periods begin at local midnight in the
        workspace's time zone."""
        local = self.local_now
        if period == "mtd":
            return local.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
        if period == "ytd":
            return local.replace(month=1, day=1, hour=0, minute=0, second=0, microsecond=0)
        return self.now - timedelta(days=int(period.removesuffix("d")))

    def require_idempotency_key(self) -> str:
        if not self.idempotency_key:
            raise RuntimeError("side-effect tool called without an idempotency key")
        return self.idempotency_key


A = TypeVar("A", bound=ToolArgs)
R = TypeVar("R", bound=ToolResult)
Preview = Callable[[ToolContext, Any], str]
Check = Callable[[ToolContext, Any], None]


@dataclass(frozen=True)
class ToolSpec(Generic[A, R]):
    name: str
    agent: AgentName
    description: str
    args_model: type[A]
    result_model: type[R]
    side_effect: bool
    fn: Callable[[ToolContext, A], R]
    preview_fn: Preview | None = None
    # Checks that need the studio's state (a draft's length on the platform): run before approval is asked,
    # so nobody approves an action that cannot happen.
    check_fn: Check | None = None

    def openai_schema(self) -> dict[str, Any]:
        parameters = copy.deepcopy(_compact_parameters(self.args_model))
        return {"type": "function",
                "function": {"name": self.name, "description": self.description, "parameters": parameters}}

    def validate(self, raw: dict[str, Any], ctx: ToolContext) -> A:
        """Validate raw arguments; a failure names the tool, the field and what was wrong."""
        try:
            return self.args_model.model_validate(raw, context={"now": ctx.now, "zone": ctx.zone})
        except ValidationError as exc:
            raise InvalidInput(describe_validation_error(self.name, exc)) from exc

    def check(self, ctx: ToolContext, args: A) -> None:
        if self.check_fn is not None:
            self.check_fn(ctx, args)

    def preview(self, ctx: ToolContext, args: A) -> str:
        if self.preview_fn is not None:
            return self.preview_fn(ctx, args)
        shown = ", ".join(f"{k}={v!r}" for k, v in args.model_dump(exclude_none=True, mode="json").items())
        return f"{self.name}({shown})"

    def __call__(self, ctx: ToolContext, args: A) -> R:
        return self.fn(ctx, args)


@functools.cache
def _compact_parameters(args_model: type[BaseModel]) -> dict[str, Any]:
    """The arguments' JSON schema as the model reads it, built once per model (pydantic builds it slowly) and
    without what only repeats the field names or says "may be null": a title per field, `anyOf [X, null]`
    with a null default for an optional field (leaving it out means the same). It is sent with every request."""
    return _compact(args_model.model_json_schema(), top=True)


def _compact(schema: Any, *, top: bool = False) -> Any:
    if isinstance(schema, list):
        return [_compact(item) for item in schema]
    if not isinstance(schema, dict):
        return schema
    out: dict[str, Any] = {}
    for key, value in schema.items():
        if key == "title" and isinstance(value, str):
            continue
        if key in ("properties", "$defs", "definitions") and isinstance(value, dict):
            out[key] = {name: _compact(sub) for name, sub in value.items()}  # keys here are names, kept as is
        else:
            out[key] = _compact(value)
    options = out.get("anyOf")
    if (not top and isinstance(options, list) and len(options) == 2 and {"type": "null"} in options
            and "default" in out and out["default"] is None):
        out.pop("anyOf")
        out.pop("default")
        out = {**next(o for o in options if o != {"type": "null"}), **out}
    return out


def describe_validation_error(tool_name: str, exc: ValidationError) -> str:
    problems = []
    for error in exc.errors(include_url=False):
        where = ".".join(str(p) for p in error["loc"]) or "arguments"
        message = error["msg"].removeprefix("Value error, ")
        if error["type"] == "extra_forbidden":
            message = "is not an argument of this tool"
        got = error.get("input")
        shown = f" (got {got!r})" if error["type"] not in ("missing", "extra_forbidden") and got is not None else ""
        problems.append(f"{where}: {message}{shown}")
    return f"{tool_name}: " + "; ".join(problems)


TOOLS: dict[str, ToolSpec[Any, Any]] = {}


def tool(agent: AgentName, *, side_effect: bool = False, preview: Preview | None = None, check: Check | None = None
         ) -> Callable[[Callable[[ToolContext, A], R]], ToolSpec[A, R]]:
    def register(fn: Callable[[ToolContext, A], R]) -> ToolSpec[A, R]:
        hints = get_type_hints(fn)
        params = list(inspect.signature(fn).parameters)
        if len(params) != 2:
            raise TypeError(f"tool {fn.__name__} must take (ctx, args)")
        args_model, result_model = hints[params[1]], hints["return"]
        description = inspect.cleandoc(fn.__doc__ or "")
        if not description:
            raise TypeError(f"tool {fn.__name__} needs a docstring: it is the description the model reads")
        spec: ToolSpec[A, R] = ToolSpec(name=fn.__name__, agent=agent, description=description,
                                        args_model=args_model, result_model=result_model,
                                        side_effect=side_effect, fn=fn, preview_fn=preview, check_fn=check)
        if spec.name in TOOLS:
            raise ValueError(f"tool {spec.name} is declared twice")
        TOOLS[spec.name] = spec
        return spec

    return register


def load_all_tools() -> dict[str, ToolSpec[Any, Any]]:
    """Import every tool module so that the registry is complete."""
    from creator_studio.tools import automation, command_center, content, engagement, revenue  # noqa: F401

    return TOOLS
