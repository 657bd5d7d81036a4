"""Tools that change the world emit their event: stored in the audit log, routed to subscribers, once."""

from __future__ import annotations

import pytest

from creator_studio.events import Event
from creator_studio.studio import Studio
from creator_studio.tools.base import ToolContext
from creator_studio.tools.invoke import invoke_tool
from tests.tool_assertions import keyed, ok

pytestmark = pytest.mark.unit


def test_publishing_a_post_emits_content_published_once(studio: Studio, ctx: ToolContext) -> None:
    got: list[Event] = []
    studio.events.subscribe("automation", got.append, types=["content.published"])
    call = keyed(ctx, "publish-1")
    post = ok(invoke_tool(call, "publish_post", {"text": "New chart walkthrough is live", "platform": "bluesky"}))
    ok(invoke_tool(call, "publish_post", {"text": "New chart walkthrough is live", "platform": "bluesky"}))  # retry
    [event] = got
    assert event.workspace_id == "default" and event.source == "content"
    assert event.data["post_id"] == post["post"]["id"] and event.data["url"] == post["post"]["url"]
    assert [e.id for e in studio.events.query("default", types=["content.published"])] == [event.id]


def test_creating_a_product_emits_revenue_product_created(studio: Studio, ctx: ToolContext) -> None:
    result = ok(invoke_tool(keyed(ctx, "product-1"), "create_product",
                            {"name": "Chart Clinic", "price": "29", "currency": "USD"}))
    [event] = studio.events.query("default", types=["revenue.product_created"])
    assert event.data["product_id"] == result["product"]["id"]
    assert event.data["amount_cents"] == 2900 and event.data["currency"].lower() == "usd"
    assert all(report.ok for report in studio.events.verify_audit())
