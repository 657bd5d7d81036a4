"""Calling a tool: validate, then run it (side effects through the idempotency ledger).

Approval is not decided here: the Command Center graph asks before it calls `invoke_tool` for a side-effect
tool. Workflows and tests call this directly.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel

from creator_studio.errors import StudioError
from creator_studio.logs import get_logger
from creator_studio.tools.base import TOOLS, ToolArgs, ToolContext, ToolResult, ToolSpec, load_all_tools

log = get_logger("tools")


class ToolOutcome(BaseModel):
    tool: str
    ok: bool
    arguments: dict[str, Any]
    result: dict[str, Any] | None = None
    error: str | None = None
    replayed: bool = False

    @property
    def summary(self) -> str:
        if self.ok and self.result is not None:
            return str(self.result.get("summary", ""))
        return f"Error: {self.error}"


def get_tool(name: str) -> ToolSpec[Any, Any]:
    load_all_tools()
    spec = TOOLS.get(name)
    if spec is None:
        raise StudioError(f"There is no tool {name!r}.")
    return spec


def execute(spec: ToolSpec[Any, Any], ctx: ToolContext, args: ToolArgs) -> ToolOutcome:
    """Run validated arguments. Typed studio errors become an error outcome; anything else is a bug."""
    arguments = args.model_dump(mode="json", exclude_none=True)
    try:
        if spec.side_effect or (ctx.journal and ctx.idempotency_key):
            key = ctx.require_idempotency_key()

            def perform() -> dict[str, Any]:
                result: ToolResult = spec(ctx, args)
                return result.model_dump(mode="json")

            outcome = ctx.studio.ledger.execute(key=key, workspace_id=ctx.workspace.id, run_id=ctx.run_id,
                                                tool=spec.name, arguments=arguments, perform=perform,
                                                side_effect=spec.side_effect)
            return ToolOutcome(tool=spec.name, ok=True, arguments=arguments, result=outcome.result,
                               replayed=outcome.replayed)
        return ToolOutcome(tool=spec.name, ok=True, arguments=arguments,
                           result=spec(ctx, args).model_dump(mode="json"))
    except StudioError as exc:
        return ToolOutcome(tool=spec.name, ok=False, arguments=arguments, error=exc.message)
    except Exception:
        log.exception("tool failed", extra={"tool": spec.name, "run_id": ctx.run_id})
        return ToolOutcome(tool=spec.name, ok=False, arguments=arguments,
                           error=f"{spec.name} failed unexpectedly; the error was logged and nothing was retried.")


def invoke_tool(ctx: ToolContext, name: str, raw_arguments: dict[str, Any]) -> ToolOutcome:
    spec = get_tool(name)
    try:
        args = spec.validate(raw_arguments, ctx)
    except StudioError as exc:
        return ToolOutcome(tool=name, ok=False, arguments=raw_arguments, error=exc.message)
    return execute(spec, ctx, args)
