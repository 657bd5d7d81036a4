"""Assertions shared by the tool tests: a call succeeded with a summary, or failed naming the problem."""

from __future__ import annotations

import dataclasses
from typing import Any

from creator_studio.tools.base import ToolContext
from creator_studio.tools.invoke import ToolOutcome


def keyed(ctx: ToolContext, key: str) -> ToolContext:
    """The same context with its own idempotency key (the ledger replays any earlier use of a key)."""
    return dataclasses.replace(ctx, idempotency_key=key)


def ok(outcome: ToolOutcome) -> dict[str, Any]:
    assert outcome.ok, outcome.error
    assert outcome.result is not None and outcome.result["summary"]
    return outcome.result


def failed(outcome: ToolOutcome, *words: str) -> str:
    assert not outcome.ok, outcome.result
    error = outcome.error or ""
    for word in words:
        assert word.lower() in error.lower(), error
    return error
