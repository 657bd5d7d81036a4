"""Analytics inside the studio: event-fed metrics with rollups, the payment ledger, anomaly alerts, A/B test
conclusions published as events, and the extra figures the revenue, engagement and dashboard tools return."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import pytest

from creator_studio.providers.payments.base import PriceData
from creator_studio.sandbox.seed import DEFAULT_BRAND, DEFAULT_TIMEZONE
from creator_studio.studio import Studio
from creator_studio.tools.base import ToolContext
from creator_studio.tools.invoke import invoke_tool
from tests.conftest import FIXED_NOW
from tests.tool_assertions import failed, keyed, ok

pytestmark = pytest.mark.unit

DAY = timedelta(days=1)


def other_context(studio: Studio, ctx: ToolContext, workspace_id: str = "other") -> ToolContext:
    ws = studio.workspaces.create(workspace_id, "Other Studio", DEFAULT_TIMEZONE, DEFAULT_BRAND)
    return replace(ctx, workspace=ws, idempotency_key=f"{workspace_id}-key-1")


def test_event_fed_metrics_appear_after_the_rollup_with_an_as_of_time(studio: Studio, ctx: ToolContext) -> None:
    analytics, ws = studio.analytics, ctx.workspace
    for hours, likes in ((40, 5), (20, 7), (2, 11)):
        studio.events.publish("content.engagement_received", ws.id,
                              {"post_id": "p1", "platform": "bluesky", "likes": likes, "comments": 1},
                              source="test", occurred_at=FIXED_NOW - timedelta(hours=hours))
    before = analytics.store.series(ws.id, "likes", since=FIXED_NOW - 2 * DAY, until=FIXED_NOW)
    assert before.as_of is None and sum(p.value for p in before.points) == 0  # eventually consistent
    as_of, _ = analytics.rollup(ws.id, now=FIXED_NOW)
    after = analytics.store.series(ws.id, "likes", since=FIXED_NOW - 2 * DAY, until=FIXED_NOW)
    assert after.as_of == as_of == FIXED_NOW
    assert [p.value for p in after.points] == [5, 7, 11]  # Nov 23 (40 h ago), Nov 24, Nov 25 (UTC days)
    by_platform = analytics.store.breakdown(ws.id, "engagements", "platform", since=FIXED_NOW - 2 * DAY,
                                            until=FIXED_NOW)
    assert by_platform == {"bluesky": 5 + 7 + 11 + 3}


def test_a_redelivered_event_is_counted_once(studio: Studio, ctx: ToolContext) -> None:
    analytics = studio.analytics
    event = studio.events.publish("audience.follower_gained", ctx.workspace.id, {"platform": "x", "count": 3},
                                  source="test", occurred_at=FIXED_NOW - timedelta(hours=1))
    analytics.handle_event(event)  # a second delivery of the same event
    analytics.rollup(ctx.workspace.id, now=FIXED_NOW)
    series = analytics.store.series(ctx.workspace.id, "followers_gained", dimension="platform",
                                    dimension_value="x", since=FIXED_NOW - DAY, until=FIXED_NOW)
    assert sum(p.value for p in series.points) == 3


def test_payments_are_in_the_ledger_at_once(studio: Studio, ctx: ToolContext) -> None:
    analytics, ws = studio.analytics, ctx.workspace
    studio.events.publish("revenue.purchase_completed", ws.id,
                          {"order_id": "cs_1", "amount_cents": 4900, "currency": "usd", "product_id": "prod_1"},
                          source="test", occurred_at=FIXED_NOW - timedelta(minutes=5))
    studio.events.publish("revenue.payment_failed", ws.id,
                          {"payment_id": "ch_2", "amount_cents": 900, "currency": "usd"}, source="test",
                          occurred_at=FIXED_NOW - timedelta(minutes=4))
    # Strongly consistent: no rollup needed, the failed payment is recorded but is not revenue.
    assert analytics.store.ledger_totals(ws.id) == {"usd": 4900}
    assert [(e.kind, e.reference) for e in analytics.store.ledger(ws.id)] == [("purchase", "cs_1"), ("failed", "ch_2")]
    # The revenue metric of the same event is eventually consistent (visible after the rollup).
    series = analytics.store.series(ws.id, "revenue_usd", since=FIXED_NOW - DAY, until=FIXED_NOW)
    assert sum(p.value for p in series.points) == 0
    analytics.rollup(ws.id, now=FIXED_NOW)
    series = analytics.store.series(ws.id, "revenue_usd", since=FIXED_NOW - DAY, until=FIXED_NOW)
    assert sum(p.value for p in series.points) == 4900


def test_an_engagement_anomaly_raises_one_performance_alert(studio: Studio, ctx: ToolContext) -> None:
    analytics, ws = studio.analytics, ctx.workspace
    for days in range(20, 0, -1):
        likes = 300 if days == 1 else 20 + (days % 3)
        studio.events.publish("content.engagement_received", ws.id, {"post_id": "p", "platform": "x", "likes": likes},
                              source="test", occurred_at=FIXED_NOW - days * DAY)
    _, raised = analytics.rollup(ws.id, now=FIXED_NOW)
    assert [(a.metric, a.direction, a.value) for a in raised] == [("engagements", "spike", 300)]
    alerts = studio.events.query(ws.id, types=["system.performance_alert"])
    assert len(alerts) == 1 and alerts[0].data["metric"] == "engagements" and alerts[0].data["value"] == 300
    _, again = analytics.rollup(ws.id, now=FIXED_NOW + timedelta(minutes=15))
    assert again == [] and len(studio.events.query(ws.id, types=["system.performance_alert"])) == 1
    dashboard = ok(invoke_tool(ctx, "get_dashboard_summary", {"period": "7d"}))
    insights = dashboard["dashboard"]["insights"]
    assert insights["metrics_as_of"] is not None and insights["alerts"][0]["metric"] == "engagements"
    assert "anomaly alert" in dashboard["summary"]


def test_a_planned_ab_test_waits_for_its_sample_then_announces_the_winner(studio: Studio, ctx: ToolContext) -> None:
    args = {"name": "Checkout button", "variants": ["Buy", "Get access"], "metric": "conversion_rate",
            "baseline_rate": 0.1, "minimum_detectable_effect": 0.2}
    started = ok(invoke_tool(keyed(ctx, "ab-plan"), "start_ab_test", args))
    test_id, needed = started["test"]["id"], started["plan"]["sample_size_per_variant"]
    assert needed == 3841 and "3,841 exposures per variant" in started["summary"]
    revenue = studio.revenue
    revenue.record_ab_results(ctx.workspace, test_id, "Buy", exposures=2000, conversions=200)
    revenue.record_ab_results(ctx.workspace, test_id, "Get access", exposures=2000, conversions=236)
    early = ok(invoke_tool(ctx, "get_ab_test_results", {"test_id": test_id}))["results"]
    # p ≈ 0.07 half-way: the naive reading says "almost"; the rule says keep going and announces nothing.
    assert early["decision"] == "continue" and early["winner"] is None and not early["concluded"]
    assert set(early["probability_to_be_best"]) == {"Buy", "Get access"}
    assert studio.events.query(ctx.workspace.id, types=["content.optimized"]) == []
    revenue.record_ab_results(ctx.workspace, test_id, "Buy", exposures=1900, conversions=190)
    revenue.record_ab_results(ctx.workspace, test_id, "Get access", exposures=1900, conversions=240)
    final = ok(invoke_tool(ctx, "get_ab_test_results", {"test_id": test_id}))["results"]
    assert final["decision"] == "winner" and final["winner"] == "Get access" and final["concluded"]
    assert final["sample_ratio"]["mismatch"] is False
    announced = studio.events.query(ctx.workspace.id, types=["content.optimized"])
    assert len(announced) == 1 and announced[0].data["winner"] == "Get access"
    assert announced[0].data["experiment_id"] == test_id
    assert revenue.get_ab_test(ctx.workspace, test_id).status == "concluded"  # revenue acted on the event
    ok(invoke_tool(ctx, "get_ab_test_results", {"test_id": test_id}))
    assert len(studio.events.query(ctx.workspace.id, types=["content.optimized"])) == 1  # announced once


def test_a_planned_ab_test_with_a_broken_split_is_not_trusted(studio: Studio, ctx: ToolContext) -> None:
    args = {"name": "Hero image", "variants": ["A", "B"], "metric": "click_rate", "baseline_rate": 0.3,
            "minimum_detectable_effect": 0.5}
    test_id = ok(invoke_tool(keyed(ctx, "ab-srm"), "start_ab_test", args))["test"]["id"]
    studio.revenue.record_ab_results(ctx.workspace, test_id, "A", exposures=1000, conversions=300)
    studio.revenue.record_ab_results(ctx.workspace, test_id, "B", exposures=700, conversions=330)
    results = ok(invoke_tool(ctx, "get_ab_test_results", {"test_id": test_id}))["results"]
    assert results["decision"] == "sample_ratio_mismatch" and results["winner"] is None
    assert "sample-ratio mismatch" in results["verdict"]
    failed(invoke_tool(keyed(ctx, "ab-half"), "start_ab_test", {**args, "name": "X", "baseline_rate": None}),
           "baseline_rate", "minimum_detectable_effect")


def test_revenue_metrics_report_movements_ltv_and_a_converted_total(studio: Studio, ctx: ToolContext) -> None:
    other = other_context(studio, ctx)
    ws, pay, now = other.workspace, studio.payments, other.now
    usd = pay.create_product(ws.id, "M", default_price=PriceData(unit_amount=1000, currency="usd", interval="month"),
                             idempotency_key="m")
    eur = pay.create_product(ws.id, "E", default_price=PriceData(unit_amount=1000, currency="eur", interval="month"),
                             idempotency_key="e")
    subs = {}
    for name, product, days_ago in (("a", usd, 100), ("b", usd, 100), ("c", usd, 10), ("d", eur, 100)):
        customer = pay.create_customer(ws.id, f"{name}@example.com", name, idempotency_key=f"c{name}")
        subs[name] = pay.create_subscription(ws.id, customer.id, product.default_price_id or "",
                                             idempotency_key=f"s{name}", created=now - days_ago * DAY)
    pay.cancel_subscription(ws.id, subs["b"].id, idempotency_key="cancel-b", canceled_at=now - 5 * DAY)
    studio.analytics.set_exchange_rates(ws.id, "usd", {"eur": "1.20"}, as_of="2026-11-20")
    metrics = ok(invoke_tool(other, "get_revenue_metrics", {"period": "30d"}))["metrics"]
    moves = metrics["movements"]
    # 30 days ago: a $10, b $10, d €10 = $12 → $32. Now: a $10, c $10, d $12 → $32. New c +$10, churned b −$10.
    assert (moves["start_mrr"]["amount"], moves["end_mrr"]["amount"]) == (3200, 3200)
    assert (moves["new"]["amount"], moves["churned"]["amount"], moves["net_new"]["amount"]) == (1000, 1000, 0)
    assert metrics["total_mrr"] == {"amount": 3200, "currency": "usd", "formatted": "$32.00"}
    assert metrics["customer_churn_rate"] == pytest.approx(1 / 3, abs=1e-4)
    assert metrics["exchange_rates_as_of"] == "2026-11-20"
    # LTV = ARPU ($32 / 3) ÷ monthly churn (1/3 over 30 days → 1 − (2/3)^(30.42/30) a month).
    monthly = 1 - (2 / 3) ** ((365 / 12) / 30)
    assert metrics["ltv"]["amount"] == round(3200 / 3 / monthly)


def test_attribution_compares_every_model_including_position_based(studio: Studio, ctx: ToolContext) -> None:
    result = ok(invoke_tool(ctx, "get_attribution", {"period": "90d"}))["attribution"]
    models = {m["model"]: m["shares"] for m in result["by_model"]}
    assert set(models) == {"first_touch", "last_touch", "linear", "time_decay", "position_based"}
    for shares in models.values():
        assert sum(shares.values()) == pytest.approx(1.0, abs=1e-3)
    assert models["last_touch"] == {c["channel"]: c["share"] for c in result["channels"]}


def test_engagement_tools_add_vader_classifier_and_trends(studio: Studio, ctx: ToolContext) -> None:
    sentiment = ok(invoke_tool(ctx, "analyze_sentiment", {"texts": ["I love it!", "This is awful"]}))
    assert [i["vader_label"] for i in sentiment["items"]] == ["positive", "negative"]
    assert sentiment["vader_average"] is not None
    spam = ok(invoke_tool(ctx, "detect_spam", {"texts": ["You are a pathetic clown", "Great thread, thanks!"]}))
    assert [(i["is_abuse"], i["is_spam"]) for i in spam["items"]] == [(True, False), (False, False)]
    insights = ok(invoke_tool(ctx, "get_audience_insights", {"period": "30d"}))["insights"]
    assert all(t["status"] in ("rising", "new", "steady", "falling") for t in insights["trending_topics"])


def test_follower_forecast_rebuilds_the_history_from_gains(studio: Studio, ctx: ToolContext) -> None:
    analytics, ws = studio.analytics, ctx.workspace
    for days in range(1, 31):
        studio.events.publish("audience.follower_gained", ws.id, {"platform": "bluesky", "count": 5},
                              source="test", occurred_at=FIXED_NOW - days * DAY)
    analytics.rollup(ws.id, now=FIXED_NOW)
    result = analytics.forecast_followers(ws.id, current_total=1000, now=FIXED_NOW, days=10, history_days=29)
    # End-of-day totals grew by 5 a day up to yesterday's 1,000: today ends near 1,005, ten days on near 1,050.
    assert result.trend_per_step == pytest.approx(5, abs=0.5)
    assert result.mean[0] == pytest.approx(1005, abs=1) and result.mean[-1] == pytest.approx(1050, abs=3)
    assert all(lo <= m <= hi for lo, m, hi in zip(result.low, result.mean, result.high, strict=True))


def test_a_revenue_drop_raises_an_alert(studio: Studio, ctx: ToolContext) -> None:
    analytics, ws = studio.analytics, ctx.workspace
    for days in range(20, 0, -1):
        amount = 500 if days == 2 else 10_000 + 100 * (days % 4)
        studio.events.publish("revenue.purchase_completed", ws.id,
                              {"order_id": f"o{days}", "amount_cents": amount, "currency": "eur"}, source="test",
                              occurred_at=FIXED_NOW - days * DAY)
    _, raised = analytics.rollup(ws.id, now=FIXED_NOW)
    assert [(a.metric, a.direction, a.value) for a in raised] == [("revenue_eur", "drop", 500)]
    assert analytics.store.ledger_totals(ws.id)["eur"] == sum(
        500 if d == 2 else 10_000 + 100 * (d % 4) for d in range(1, 21))
