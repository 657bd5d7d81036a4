from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from creator_studio.studio import Studio
from creator_studio.tools.base import ToolContext
from creator_studio.tools.invoke import invoke_tool

pytestmark = pytest.mark.unit


def test_draft_then_schedule_lands_in_calendar(studio: Studio, ctx: ToolContext) -> None:
    drafted = invoke_tool(ctx, "draft_post", {"platform": "bluesky", "topic": "my new course"})
    assert drafted.ok, drafted.error
    draft = drafted.result["draft"]  # type: ignore[index]
    assert draft["platform"] == "bluesky" and len(draft["text"]) <= 300
    friday = datetime(2026, 11, 27, 9, 0, tzinfo=ctx.zone)
    scheduled = invoke_tool(ctx, "schedule_post", {"draft_id": draft["id"], "platform": "bluesky",
                                                   "publish_at": friday.isoformat()})
    assert scheduled.ok, scheduled.error
    calendar = invoke_tool(ctx, "get_content_calendar", {})
    entries = [e for e in calendar.result["entries"] if e["kind"] == "scheduled"]  # type: ignore[index]
    assert len(entries) == 1
    assert datetime.fromisoformat(entries[0]["at"]).astimezone(ctx.zone) == friday


def test_schedule_in_the_past_is_rejected_and_nothing_is_written(ctx: ToolContext) -> None:
    past = (ctx.now - timedelta(hours=1)).isoformat()
    outcome = invoke_tool(ctx, "schedule_post", {"text": "hello", "platform": "bluesky", "publish_at": past})
    assert not outcome.ok
    assert "publish_at" in (outcome.error or "") and "past" in (outcome.error or "")
    calendar = invoke_tool(ctx, "get_content_calendar", {})
    assert not [e for e in calendar.result["entries"] if e["kind"] == "scheduled"]  # type: ignore[index]
