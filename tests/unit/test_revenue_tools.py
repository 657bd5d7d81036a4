from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest

from creator_studio.errors import NotFound
from creator_studio.providers.payments.base import PAYMENT_METHOD_DECLINED, PriceData
from creator_studio.providers.social.base import PostMetrics
from creator_studio.sandbox.seed import DEFAULT_BRAND, DEFAULT_TIMEZONE
from creator_studio.studio import Studio
from creator_studio.tools.base import ToolContext
from creator_studio.tools.invoke import get_tool, invoke_tool
from creator_studio.workspaces.service import Workspace
from tests.tool_assertions import failed, keyed, ok

pytestmark = pytest.mark.unit

DAY = timedelta(days=1)






def other_context(studio: Studio, ctx: ToolContext, workspace_id: str = "other") -> ToolContext:
    """A second, empty workspace, so hand-built data is not mixed with the seeded world."""
    ws = studio.workspaces.create(workspace_id, "Other Studio", DEFAULT_TIMEZONE, DEFAULT_BRAND)
    return replace(ctx, workspace=ws, idempotency_key=f"{workspace_id}-key-1")




# The hand-built billing world: every expected number below is computed by hand from it --------------
class Billing:
    def __init__(self, studio: Studio, ws: Workspace, now: datetime) -> None:
        pay, k = studio.payments, "hand"
        self.membership = pay.create_product(
            ws.id,
            "Membership",
            idempotency_key=f"{k}:m",
            default_price=PriceData(unit_amount=900, currency="usd", interval="month"),
        )
        self.monthly = self.membership.default_price_id or ""
        self.yearly = pay.create_price(
            ws.id,
            self.membership.id,
            PriceData(unit_amount=12_000, currency="usd", interval="year"),
            idempotency_key=f"{k}:y",
        ).id
        course = pay.create_product(
            ws.id, "Course", default_price=PriceData(unit_amount=19_900, currency="usd"), idempotency_key=f"{k}:c"
        )
        euro = pay.create_product(
            ws.id,
            "Mitgliedschaft",
            idempotency_key=f"{k}:e",
            default_price=PriceData(unit_amount=500, currency="eur", interval="month"),
        )
        c = {
            name: pay.create_customer(
                ws.id, f"{name.lower()}@example.com", name, idempotency_key=f"{k}:{name}", created=now - 120 * DAY
            )
            for name in "ABCDEFGHI"
        }
        self.customers = c
        # A: $9/month for 100 days, paid 20 days ago.
        a = pay.create_subscription(ws.id, c["A"].id, self.monthly, idempotency_key=f"{k}:sa", created=now - 100 * DAY)
        pay.create_charge(
            ws.id, c["A"].id, 900, "usd", subscription_id=a.id, idempotency_key=f"{k}:pa", created=now - 20 * DAY
        )
        # B: $120/year, which is $10/month.
        b = pay.create_subscription(ws.id, c["B"].id, self.yearly, idempotency_key=f"{k}:sb", created=now - 50 * DAY)
        pay.create_charge(
            ws.id, c["B"].id, 12_000, "usd", subscription_id=b.id, idempotency_key=f"{k}:pb", created=now - 50 * DAY
        )
        # C: churned 10 days ago after 80 days.
        s = pay.create_subscription(ws.id, c["C"].id, self.monthly, idempotency_key=f"{k}:sc", created=now - 90 * DAY)
        pay.cancel_subscription(ws.id, s.id, idempotency_key=f"{k}:xc", canceled_at=now - 10 * DAY)
        # D: payment declined 3 days ago -> past_due (still counted in MRR, as Stripe does).
        d = pay.create_subscription(ws.id, c["D"].id, self.monthly, idempotency_key=f"{k}:sd", created=now - 60 * DAY)
        pay.create_charge(
            ws.id,
            c["D"].id,
            900,
            "usd",
            subscription_id=d.id,
            payment_method=PAYMENT_METHOD_DECLINED,
            idempotency_key=f"{k}:pd",
            created=now - 3 * DAY,
        )
        # E: in a 14-day trial since 5 days: not paying yet.
        pay.create_subscription(
            ws.id, c["E"].id, self.monthly, trial_period_days=14, idempotency_key=f"{k}:se", created=now - 5 * DAY
        )
        # F: bought the $199 course 2 days ago.
        self.course_purchase_at = now - 2 * DAY
        pay.create_charge(
            ws.id,
            c["F"].id,
            19_900,
            "usd",
            price_id=course.default_price_id,
            idempotency_key=f"{k}:pf",
            created=self.course_purchase_at,
        )
        # G: €5/month since 3 days, paid.
        g = pay.create_subscription(
            ws.id, c["G"].id, euro.default_price_id or "", idempotency_key=f"{k}:sg", created=now - 3 * DAY
        )
        pay.create_charge(
            ws.id, c["G"].id, 500, "eur", subscription_id=g.id, idempotency_key=f"{k}:pg", created=now - 3 * DAY
        )
        # H: churned 45 days ago, before the period; I: canceled during its trial, which is not churn.
        h = pay.create_subscription(ws.id, c["H"].id, self.monthly, idempotency_key=f"{k}:sh", created=now - 200 * DAY)
        pay.cancel_subscription(ws.id, h.id, idempotency_key=f"{k}:xh", canceled_at=now - 45 * DAY)
        i = pay.create_subscription(
            ws.id, c["I"].id, self.monthly, trial_period_days=14, idempotency_key=f"{k}:si", created=now - 8 * DAY
        )
        pay.cancel_subscription(ws.id, i.id, idempotency_key=f"{k}:xi", canceled_at=now - 4 * DAY)


def test_mrr_churn_and_arpu_match_hand_computation(studio: Studio, ctx: ToolContext) -> None:
    other = other_context(studio, ctx)
    Billing(studio, other.workspace, other.now)
    metrics = ok(invoke_tool(other, "get_revenue_metrics", {"period": "30d"}))["metrics"]
    # USD MRR: A 900 + B 12000/12 = 1000 + D 900 (past_due) = 2800; C canceled, E trialing.
    assert metrics["currency"] == "usd"
    assert metrics["mrr"] == {"amount": 2800, "currency": "usd", "formatted": "$28.00"}
    assert metrics["arr"]["amount"] == 33_600
    assert metrics["arpu"]["amount"] == 933  # 2800 / 3 paying USD subscriptions
    assert metrics["active_subscribers"] == 4  # A, B, D and the EUR one, G
    assert metrics["trialing_subscribers"] == 1
    assert metrics["new_subscribers"] == 3  # E, G and I started in the last 30 days
    assert metrics["churned_subscribers"] == 1  # C
    assert metrics["churn_rate"] == 0.25  # 1 of the 4 paying 30 days ago (A, B, C, D)
    assert metrics["revenue"]["amount"] == 20_800  # 900 + 19900; the declined 900 is not revenue
    euro = next(b for b in metrics["by_currency"] if b["currency"] == "eur")
    assert (euro["mrr"]["amount"], euro["arr"]["amount"], euro["revenue"]["amount"]) == (500, 6000, 500)
    assert euro["mrr"]["formatted"] == "€5.00"


def test_revenue_metrics_on_the_seeded_world(ctx: ToolContext) -> None:
    metrics = ok(invoke_tool(ctx, "get_revenue_metrics", {}))["metrics"]
    # 28 members, 3 canceled: 23 at $9/month + 2 at $90/year ($7.50/month) = $222.00
    assert metrics["active_subscribers"] == 25
    assert metrics["mrr"]["amount"] == 23 * 900 + 2 * 750
    assert metrics["arr"]["amount"] == metrics["mrr"]["amount"] * 12
    failed(invoke_tool(ctx, "get_revenue_metrics", {"period": "fortnight"}), "period")


@pytest.mark.parametrize(
    ("model", "expected"),
    [
        ("first_touch", {"bluesky": (1.0, 19_900), "direct": (1.0, 500)}),
        ("last_touch", {"email": (1.0, 19_900), "direct": (1.0, 500)}),
        (
            "linear",
            {"bluesky": (0.3333, 6633), "linkedin": (0.3333, 6633), "email": (0.3333, 6633), "direct": (1.0, 500)},
        ),
        # weights 2^(-14/7), 2^(-7/7), 2^0 = 1/4, 1/2, 1 -> 1/7, 2/7, 4/7 of $199
        (
            "time_decay",
            {"bluesky": (0.1429, 2843), "linkedin": (0.2857, 5686), "email": (0.5714, 11_371), "direct": (1.0, 500)},
        ),
    ],
)
def test_each_attribution_model_on_a_hand_built_journey(
    studio: Studio, ctx: ToolContext, model: str, expected: dict[str, tuple[float, int]]
) -> None:
    other = other_context(studio, ctx)
    billing = Billing(studio, other.workspace, other.now)
    bought = billing.course_purchase_at
    f = billing.customers["F"].id
    studio.revenue.record_touchpoints(
        other.workspace,
        [
            (f, bought - 100 * DAY, "threads", None),  # outside the 90-day lookback: ignored
            (f, bought - 14 * DAY, "bluesky", None),
            (f, bought - 7 * DAY, "linkedin", None),
            (f, bought, "email", None),
            (f, bought + DAY, "x", None),  # after the purchase: ignored
        ],
    )
    # In 7 days: F's course ($199) and G's first EUR payment (no touches: direct); D's declined charge is no
    # purchase, and A's renewal is older.
    attribution = ok(invoke_tool(other, "get_attribution", {"period": "7d", "model": model}))["attribution"]
    assert attribution["purchases"] == 2
    got = {c["channel"]: (c["conversions"], c["revenue"][0]["amount"]) for c in attribution["channels"]}
    assert got == expected
    assert sum(c["share"] for c in attribution["channels"]) == pytest.approx(1.0, abs=1e-3)


def test_attribution_rejects_an_unknown_model(ctx: ToolContext) -> None:
    failed(invoke_tool(ctx, "get_attribution", {"model": "position_based"}), "model")


def test_funnel_steps_and_weakest_step_from_hand_built_data(studio: Studio, ctx: ToolContext) -> None:
    other = other_context(studio, ctx)
    ws, now = other.workspace, other.now
    studio.social.add_account(ws.id, "bluesky", "other.bsky.social", 100)
    for index, (impressions, clicks) in enumerate([(600, 150), (400, 50)]):
        studio.social.publish(
            ws.id,
            "bluesky",
            f"post {index}",
            account=None,
            idempotency_key=f"fp{index}",
            published_at=now - (index + 1) * DAY,
            metrics=PostMetrics(impressions=impressions, clicks=clicks),
        )
    for index in range(10):
        studio.email.add_subscriber(
            ws.id, f"s{index}@example.com", "S", tags=["waitlist"], subscribed_at=now - (index + 1) * DAY
        )
    studio.email.add_subscriber(ws.id, "old@example.com", "Old", subscribed_at=now - 40 * DAY)  # before the period
    course = studio.payments.create_product(
        ws.id, "Course", default_price=PriceData(unit_amount=100, currency="usd"), idempotency_key="fc"
    )
    for index, status in enumerate(["complete"] * 4 + ["expired"]):
        studio.payments.create_checkout_session(
            ws.id,
            course.default_price_id or "",
            status=status,  # type: ignore[arg-type]
            created=now - DAY,
            idempotency_key=f"fcs{index}",
        )
    funnel = ok(invoke_tool(other, "analyze_funnel", {"period": "30d"}))["funnel"]
    assert [(s["count"], s["conversion_from_previous"]) for s in funnel["steps"]] == [
        (1000, None),
        (200, 0.2),
        (10, 0.05),
        (5, 0.5),
        (4, 0.8),
    ]
    assert funnel["weakest_step"] == "Link clicks → Waitlist and email signups"
    assert funnel["weakest_conversion"] == 0.05
    assert funnel["overall_conversion"] == 0.004
    failed(invoke_tool(other, "analyze_funnel", {"funnel": "podcast"}), "funnel", "podcast")


def test_email_funnel_counts_the_sent_log(studio: Studio, ctx: ToolContext) -> None:
    funnel = ok(invoke_tool(ctx, "analyze_funnel", {"funnel": "email", "period": "90d"}))["funnel"]
    sent = [m for m in studio.email.messages(ctx.workspace.id, since=ctx.now - 90 * DAY)]
    counts = [s["count"] for s in funnel["steps"]]
    assert counts[:3] == [
        len(sent),
        sum(m.opened_at is not None for m in sent),
        sum(m.clicked_at is not None for m in sent),
    ]
    assert counts[0] > counts[1] > counts[2] > 0


def test_forecast_extends_a_hand_built_linear_trend(studio: Studio, ctx: ToolContext) -> None:
    other = other_context(studio, ctx)
    ws, now, pay = other.workspace, other.now, studio.payments
    product = pay.create_product(
        ws.id, "M", default_price=PriceData(unit_amount=900, currency="usd", interval="month"), idempotency_key="fm"
    )
    # One new $9 member just before each of the six monthly measurements: 900, 1800, ..., 5400.
    for step in range(6):
        customer = pay.create_customer(ws.id, f"m{step}@example.com", "M", idempotency_key=f"fcu{step}")
        pay.create_subscription(
            ws.id,
            customer.id,
            product.default_price_id or "",
            idempotency_key=f"fs{step}",
            created=now - (150 - 30 * step) * DAY - timedelta(hours=1),
        )
    forecast = ok(invoke_tool(other, "forecast_revenue", {"months": 2}))["forecast"]
    assert [p["mrr"]["amount"] for p in forecast["history"]] == [900, 1800, 2700, 3600, 4500, 5400]
    assert forecast["monthly_change"]["amount"] == 900
    # A perfect line has no residual spread: the range collapses onto the trend.
    assert [(p["mrr"]["amount"], p["low"]["amount"], p["high"]["amount"]) for p in forecast["points"]] == [
        (6300, 6300, 6300),
        (7200, 7200, 7200),
    ]
    failed(invoke_tool(other, "forecast_revenue", {"months": 0}), "months")


def test_forecast_on_the_seed_starts_from_todays_mrr(ctx: ToolContext) -> None:
    forecast = ok(invoke_tool(ctx, "forecast_revenue", {}))["forecast"]
    metrics = ok(invoke_tool(ctx, "get_revenue_metrics", {}))["metrics"]
    assert forecast["history"][-1]["mrr"] == metrics["mrr"]
    assert len(forecast["points"]) == 3
    assert all(p["low"]["amount"] <= p["mrr"]["amount"] <= p["high"]["amount"] for p in forecast["points"])


def test_churn_risk_scores_are_transparent(studio: Studio, ctx: ToolContext) -> None:
    at_risk = ok(invoke_tool(ctx, "detect_churn_risk", {"limit": 20}))["at_risk"]
    top = at_risk[0]
    assert top["status"] == "past_due" and "past due" in top["reasons"][0]
    cancelling = [r for r in at_risk if "cancel at the end" in " ".join(r["reasons"])]
    assert len(cancelling) == 1 and cancelling[0]["score"] == 40
    assert any(reason.startswith("opened none") for r in at_risk for reason in r["reasons"])
    assert [r["score"] for r in at_risk] == sorted((r["score"] for r in at_risk), reverse=True)
    assert len(ok(invoke_tool(ctx, "detect_churn_risk", {"limit": 2}))["at_risk"]) == 2
    failed(invoke_tool(ctx, "detect_churn_risk", {"limit": 0}), "limit")

    other = other_context(studio, ctx)
    Billing(studio, other.workspace, other.now)
    hand = ok(invoke_tool(other, "detect_churn_risk", {}))["at_risk"]
    # D past_due (45); B (50 days), E (5 days, trial) and G (3 days) are new members (15); A (100 days) is safe.
    assert [(r["name"], r["score"]) for r in hand] == [("D", 45), ("B", 15), ("E", 15), ("G", 15)]


# A/B tests ---------------------------------------------------------------------------------------
def test_ab_test_lifecycle(studio: Studio, ctx: ToolContext) -> None:
    started = ok(
        invoke_tool(
            ctx,
            "start_ab_test",
            {
                "name": "Welcome subject",
                "variants": ["Plain", "Emoji"],
                "metric": "open rate".replace(" ", "_"),
                "split": [0.7, 0.3],
            },
        )
    )["test"]
    assert started["id"].startswith("ab_")
    assert [(v["name"], v["share"]) for v in started["variants"]] == [("Plain", 0.7), ("Emoji", 0.3)]
    early = ok(invoke_tool(ctx, "get_ab_test_results", {"test_id": started["id"]}))["results"]
    assert not early["significant"] and early["verdict"].startswith("Too early")
    studio.revenue.record_ab_results(ctx.workspace, started["id"], "Plain", exposures=1000, conversions=20)
    studio.revenue.record_ab_results(ctx.workspace, started["id"], "Emoji", exposures=1000, conversions=45)
    results = ok(invoke_tool(ctx, "get_ab_test_results", {"test_id": started["id"]}))["results"]
    assert results["significant"] and results["winner"] == "Emoji"
    emoji = results["test"]["variants"][1]
    assert emoji["rate"] == 0.045 and emoji["lift_vs_control"] == 1.25 and emoji["p_value"] < 0.01
    # Assignment follows the split and is stable per visitor.
    seen = [studio.revenue.assign_variant(ctx.workspace, started["id"], f"v{i}") for i in range(2000)]
    assert 0.65 < seen.count("Plain") / 2000 < 0.75
    assert studio.revenue.assign_variant(ctx.workspace, started["id"], "v7") == seen[7]


def test_seeded_ab_test_has_a_winner(studio: Studio, ctx: ToolContext) -> None:
    seeded = studio.revenue.ab_tests(ctx.workspace)[0]
    results = ok(invoke_tool(ctx, "get_ab_test_results", {"test_id": seeded.id}))["results"]
    assert results["winner"] == "Leave spreadsheets behind"
    failed(invoke_tool(ctx, "get_ab_test_results", {"test_id": "ab_000000000000"}), "ab_000000000000")


@pytest.mark.parametrize(
    ("args", "words"),
    [
        ({"name": "T", "variants": ["A"], "metric": "click_rate"}, ("variants",)),
        ({"name": "T", "variants": ["A", "a"], "metric": "click_rate"}, ("different names",)),
        ({"name": "T", "variants": ["A", "B"], "metric": "happiness"}, ("metric",)),
        ({"name": "T", "variants": ["A", "B"], "metric": "click_rate", "split": [0.5, 0.4]}, ("split", "sum to 1")),
        ({"name": "T", "variants": ["A", "B"], "metric": "click_rate", "split": [1.0]}, ("split",)),
        ({"name": "Course page headline", "variants": ["A", "B"], "metric": "click_rate"}, ("already",)),
    ],
)
def test_start_ab_test_rejects_bad_input_and_writes_nothing(
    studio: Studio, ctx: ToolContext, args: dict[str, Any], words: tuple[str, ...]
) -> None:
    before = studio.revenue.ab_tests(ctx.workspace)
    failed(invoke_tool(ctx, "start_ab_test", args), *words)
    assert studio.revenue.ab_tests(ctx.workspace) == before


def test_start_ab_test_is_idempotent(studio: Studio, ctx: ToolContext) -> None:
    args = {"name": "Price anchor", "variants": ["$199", "$249"], "metric": "conversions"}
    first = invoke_tool(ctx, "start_ab_test", args)
    second = invoke_tool(ctx, "start_ab_test", args)
    assert second.replayed and ok(second)["test"]["id"] == ok(first)["test"]["id"]
    # Below the ledger too: the service returns the first test for the same key.
    again = studio.revenue.start_ab_test(
        ctx.workspace,
        name="Price anchor",
        variants=["$199", "$249"],
        metric="conversion_rate",
        split=None,
        idempotency_key="test-key-1",
        now=ctx.now,
    )
    assert again.id == ok(first)["test"]["id"]
    assert [t.name for t in studio.revenue.ab_tests(ctx.workspace)].count("Price anchor") == 1


# Products, links and discounts ----------------------------------------------------------------------
def test_create_product_creates_product_and_price(studio: Studio, ctx: ToolContext) -> None:
    args = {"name": "Membership", "price": 29, "interval": "month"}
    assert (
        get_tool("create_product").preview(ctx, get_tool("create_product").validate(args, ctx))
        == "Create product “Membership” at $29.00/month (USD)"
    )
    result = ok(invoke_tool(ctx, "create_product", args))
    product = studio.payments.get_product(ctx.workspace.id, result["product"]["id"])
    price = studio.payments.get_price(ctx.workspace.id, result["price"]["id"])
    assert product.name == "Membership" and product.default_price_id == price.id
    assert (price.unit_amount, price.currency, price.interval, price.product_id) == (2900, "usd", "month", product.id)
    assert product.id.startswith("prod_") and price.id.startswith("price_")

    yen = ok(invoke_tool(keyed(ctx, "k-yen"), "create_product", {"name": "Guide", "price": "500", "currency": "JPY"}))
    assert (yen["price"]["unit_amount"], yen["price"]["currency"], yen["price"]["interval"]) == (500, "jpy", None)
    assert "¥500 one-time (JPY)" in yen["summary"]
    yearly = ok(
        invoke_tool(keyed(ctx, "k-year"), "create_product", {"name": "Annual", "price": "120.50", "interval": "yearly"})
    )
    assert (yearly["price"]["unit_amount"], yearly["price"]["interval"]) == (12_050, "year")


@pytest.mark.parametrize(
    ("args", "words"),
    [
        ({"name": "X", "price": 0}, ("price", "greater than 0")),
        ({"name": "X", "price": -5}, ("price", "greater than 0")),
        ({"name": "X", "price": "abc"}, ("price",)),
        ({"name": "X", "price": "29.999"}, ("decimals",)),
        ({"name": "X", "price": "9.5", "currency": "jpy"}, ("decimals", "JPY")),
        ({"name": "X", "price": 29, "currency": "xyz"}, ("currency", "xyz")),
        ({"name": "X", "price": 29, "interval": "weekly"}, ("interval",)),
        ({"name": "", "price": 29}, ("name",)),
    ],
)
def test_create_product_rejects_bad_input_and_writes_nothing(
    studio: Studio, ctx: ToolContext, args: dict[str, Any], words: tuple[str, ...]
) -> None:
    before = (studio.payments.list_products(ctx.workspace.id), studio.payments.list_prices(ctx.workspace.id))
    failed(invoke_tool(ctx, "create_product", args), *words)
    assert (studio.payments.list_products(ctx.workspace.id), studio.payments.list_prices(ctx.workspace.id)) == before


def test_create_product_is_idempotent(studio: Studio, ctx: ToolContext) -> None:
    before = len(studio.payments.list_products(ctx.workspace.id))
    first = ok(invoke_tool(ctx, "create_product", {"name": "Workshop", "price": 49}))
    second = invoke_tool(ctx, "create_product", {"name": "Workshop", "price": 49})
    assert second.replayed and ok(second)["product"]["id"] == first["product"]["id"]
    # A retry that reaches the provider with the same key (ledger outcome unknown) still creates nothing new.
    retried = studio.revenue.create_product(
        ctx.workspace, name="Workshop", price=Decimal(49), currency="usd", interval="none", idempotency_key="test-key-1"
    )
    assert (retried.product.id, retried.price.id) == (first["product"]["id"], first["price"]["id"])
    assert len(studio.payments.list_products(ctx.workspace.id)) == before + 1
    assert len(studio.payments.list_prices(ctx.workspace.id, product_id=first["product"]["id"])) == 1


def test_create_payment_link_for_a_product_or_a_price(studio: Studio, ctx: ToolContext) -> None:
    created = ok(invoke_tool(ctx, "create_product", {"name": "Membership", "price": 29, "interval": "month"}))
    by_product = ok(
        invoke_tool(keyed(ctx, "k-link-1"), "create_payment_link", {"product_id": created["product"]["id"]})
    )
    link = by_product["link"]
    assert link["id"].startswith("plink_") and link["url"] == f"https://buy.stripe.com/test_{link['id']}"
    assert link["price_id"] == created["price"]["id"]
    by_price = ok(invoke_tool(keyed(ctx, "k-link-2"), "create_payment_link", {"price_id": created["price"]["id"]}))
    assert by_price["link"]["id"] != link["id"]
    stored = {pl.id for pl in studio.payments.list_payment_links(ctx.workspace.id)}
    assert {link["id"], by_price["link"]["id"]} <= stored
    spec = get_tool("create_payment_link")
    assert (
        spec.preview(ctx, spec.validate({"price_id": created["price"]["id"]}, ctx))
        == "Create a payment link for “Membership” at $29.00/month (USD)"
    )


def test_create_payment_link_rejects_bad_input_and_is_idempotent(studio: Studio, ctx: ToolContext) -> None:
    before = studio.payments.list_payment_links(ctx.workspace.id)
    failed(invoke_tool(ctx, "create_payment_link", {}), "product_id", "price_id")
    failed(invoke_tool(ctx, "create_payment_link", {"product_id": "prod_x", "price_id": "price_y"}), "exactly one")
    failed(invoke_tool(keyed(ctx, "k-missing"), "create_payment_link", {"product_id": "prod_missing"}), "prod_missing")
    assert studio.payments.list_payment_links(ctx.workspace.id) == before
    course = next(p for p in studio.payments.list_products(ctx.workspace.id) if p.name == "Python for Analysts")
    first = ok(invoke_tool(keyed(ctx, "k-l"), "create_payment_link", {"product_id": course.id}))
    second = ok(invoke_tool(keyed(ctx, "k-l"), "create_payment_link", {"product_id": course.id}))
    assert first["link"]["id"] == second["link"]["id"]
    assert len(studio.payments.list_payment_links(ctx.workspace.id)) == len(before) + 1


def test_create_discount(studio: Studio, ctx: ToolContext) -> None:
    course = next(p for p in studio.payments.list_products(ctx.workspace.id) if p.name == "Python for Analysts")
    args = {"percent_off": 20, "duration": "repeating", "duration_in_months": 3, "product_id": course.id}
    spec = get_tool("create_discount")
    assert (
        spec.preview(ctx, spec.validate(args, ctx))
        == "Create a discount of 20% off for 3 months on “Python for Analysts”"
    )
    result = ok(invoke_tool(ctx, "create_discount", args))
    coupon = next(c for c in studio.payments.list_coupons(ctx.workspace.id) if c.id == result["coupon"]["id"])
    assert coupon.id.startswith("coupon_")
    assert (coupon.percent_off, coupon.duration, coupon.duration_in_months, coupon.applies_to_products) == (
        20.0,
        "repeating",
        3,
        [course.id],
    )
    again = invoke_tool(ctx, "create_discount", args)
    assert again.replayed and len(studio.payments.list_coupons(ctx.workspace.id)) == 1
    everything = ok(invoke_tool(keyed(ctx, "k-all"), "create_discount", {"percent_off": 100}))
    assert everything["coupon"]["applies_to_products"] == [] and everything["coupon"]["duration"] == "once"


@pytest.mark.parametrize(
    ("args", "words"),
    [
        ({"percent_off": 0}, ("percent_off",)),
        ({"percent_off": 150}, ("percent_off",)),
        ({"percent_off": 10, "duration": "repeating"}, ("duration_in_months",)),
        ({"percent_off": 10, "duration": "once", "duration_in_months": 2}, ("duration_in_months",)),
        ({"percent_off": 10, "duration": "weekly"}, ("duration",)),
        ({"percent_off": 10, "product_id": "prod_nothere"}, ("prod_nothere",)),
    ],
)
def test_create_discount_rejects_bad_input_and_writes_nothing(
    studio: Studio, ctx: ToolContext, args: dict[str, Any], words: tuple[str, ...]
) -> None:
    failed(invoke_tool(ctx, "create_discount", args), *words)
    assert studio.payments.list_coupons(ctx.workspace.id) == []


# Email ------------------------------------------------------------------------------------------
def test_start_email_sequence_enrols_each_subscriber_once(studio: Studio, ctx: ToolContext) -> None:
    ws = ctx.workspace
    welcome = studio.email.get_sequence(ws.id, "welcome")
    waitlist = studio.email.segment_members(ws.id, "waitlist")
    already = {e.subscriber_id for e in studio.email.enrolments(ws.id, sequence_id=welcome.id)}
    spec = get_tool("start_email_sequence")
    preview = spec.preview(ctx, spec.validate({"sequence": "welcome", "segment": "waitlist"}, ctx))
    assert f"Enrol the {len(waitlist)} subscribed members of “waitlist”" in preview and "3 emails" in preview

    batch = ok(invoke_tool(ctx, "start_email_sequence", {"sequence": "welcome", "segment": "waitlist"}))["enrolment"]
    fresh = {m.id for m in waitlist} - already
    assert {e["subscriber_id"] for e in batch["enrolled"]} == fresh and fresh
    assert set(batch["already_enrolled"]) == {m.id for m in waitlist} & already
    enrolled_now = {e.subscriber_id for e in studio.email.enrolments(ws.id, sequence_id=welcome.id)}
    assert enrolled_now == already | fresh
    # The day-0 step went out once per new enrolment.
    first_steps = [m for m in studio.email.messages(ws.id) if m.sequence_id == welcome.id and m.step == 0]
    assert len(first_steps) == len(enrolled_now)

    replay = invoke_tool(ctx, "start_email_sequence", {"sequence": "welcome", "segment": "waitlist"})
    assert replay.replayed
    direct = studio.revenue.start_email_sequence(
        ws, sequence="welcome", segment="waitlist", subscriber_ids=None, idempotency_key="test-key-1"
    )
    assert {e.subscriber_id for e in direct.enrolled} == fresh  # the same key reports the first result
    later = ok(
        invoke_tool(
            keyed(ctx, "k-2"), "start_email_sequence", {"sequence": "welcome", "subscriber_ids": sorted(fresh)[:2]}
        )
    )
    assert later["enrolment"]["enrolled"] == [] and len(later["enrolment"]["already_enrolled"]) == 2
    assert len(studio.email.enrolments(ws.id, sequence_id=welcome.id)) == len(enrolled_now)


@pytest.mark.parametrize(
    ("args", "words"),
    [
        ({"sequence": "onboarding", "segment": "waitlist"}, ("onboarding", "welcome")),
        ({"sequence": "welcome", "segment": "vip"}, ("vip", "no subscribed members")),
        ({"sequence": "welcome"}, ("segment", "subscriber_ids")),
        ({"sequence": "welcome", "segment": "waitlist", "subscriber_ids": ["subscriber_x"]}, ("exactly one",)),
        ({"sequence": "welcome", "subscriber_ids": ["subscriber_000000000000"]}, ("subscriber_000000000000",)),
    ],
)
def test_start_email_sequence_rejects_bad_input_and_writes_nothing(
    studio: Studio, ctx: ToolContext, args: dict[str, Any], words: tuple[str, ...]
) -> None:
    before = (studio.email.enrolments(ctx.workspace.id), len(studio.email.messages(ctx.workspace.id)))
    failed(invoke_tool(ctx, "start_email_sequence", args), *words)
    assert (studio.email.enrolments(ctx.workspace.id), len(studio.email.messages(ctx.workspace.id))) == before


def test_sequence_skips_addresses_that_cannot_receive_email(studio: Studio, ctx: ToolContext) -> None:
    gone = [s.id for s in studio.email.list_subscribers(ctx.workspace.id) if s.status != "subscribed"]
    assert gone
    failed(
        invoke_tool(ctx, "start_email_sequence", {"sequence": "welcome", "subscriber_ids": gone}),
        "unsubscribed or bounced",
    )
    fresh = next(
        s.id
        for s in studio.email.segment_members(ctx.workspace.id, "newsletter")
        if s.id not in {e.subscriber_id for e in studio.email.enrolments(ctx.workspace.id)}
    )
    batch = ok(
        invoke_tool(
            keyed(ctx, "k-2"), "start_email_sequence", {"sequence": "welcome", "subscriber_ids": [fresh, gone[0]]}
        )
    )["enrolment"]
    assert [e["subscriber_id"] for e in batch["enrolled"]] == [fresh] and batch["not_subscribed"] == [gone[0]]


def test_send_email_campaign_now_reaches_only_subscribed_members(studio: Studio, ctx: ToolContext) -> None:
    ws = ctx.workspace
    everyone = studio.email.segment_members(ws.id, "newsletter", subscribed_only=False)
    subscribed = [s for s in everyone if s.status == "subscribed"]
    assert len(subscribed) < len(everyone)  # the seed has unsubscribed and bounced newsletter readers
    args = {"subject": "Tiny wins, issue 12", "body": "Three things I shipped this week.", "segment": "newsletter"}
    spec = get_tool("send_email_campaign")
    assert spec.preview(ctx, spec.validate(args, ctx)).startswith(
        f"Email “Tiny wins, issue 12” to {len(subscribed)} subscribed members of “newsletter” now"
    )
    campaign = ok(invoke_tool(ctx, "send_email_campaign", args))["campaign"]
    assert campaign["status"] == "sent" and campaign["recipients"] == len(subscribed)
    sent = studio.email.messages(ws.id, campaign_id=campaign["id"])
    assert sorted(m.subscriber_id for m in sent) == sorted(s.id for s in subscribed)

    assert invoke_tool(ctx, "send_email_campaign", args).replayed
    retried = studio.revenue.send_email_campaign(
        ws,
        draft_id=None,
        subject=args["subject"],
        body=args["body"],
        segment="newsletter",
        send_at=None,
        now=ctx.now,
        idempotency_key="test-key-1",
    )
    assert retried.id == campaign["id"]
    assert len(studio.email.messages(ws.id, campaign_id=campaign["id"])) == len(subscribed)  # never twice
    assert [c.id for c in studio.email.list_campaigns(ws.id)].count(campaign["id"]) == 1


def test_send_email_campaign_from_a_newsletter_draft_later(studio: Studio, ctx: ToolContext) -> None:
    draft = ok(invoke_tool(ctx, "draft_newsletter", {"topic": "cleaning messy CSV files"}))["draft"]
    friday = datetime(2026, 11, 27, 9, 0, tzinfo=ctx.zone)
    result = ok(
        invoke_tool(
            ctx, "send_email_campaign", {"draft_id": draft["id"], "segment": "waitlist", "send_at": friday.isoformat()}
        )
    )
    campaign = studio.email.get_campaign(ctx.workspace.id, result["campaign"]["id"])
    assert campaign.status == "scheduled" and campaign.send_at == friday
    assert (campaign.subject, campaign.body) == (draft["title"], draft["text"])
    assert studio.email.messages(ctx.workspace.id, campaign_id=campaign.id) == []
    assert "Friday 27 November 09:00" in result["summary"]


@pytest.mark.parametrize("case", ["past", "empty segment", "both", "neither", "post draft", "unknown draft"])
def test_send_email_campaign_rejects_bad_input_and_sends_nothing(studio: Studio, ctx: ToolContext, case: str) -> None:
    post = ok(invoke_tool(keyed(ctx, "k-draft"), "draft_post", {"platform": "bluesky", "topic": "pandas"}))["draft"]
    base = {"subject": "Hi", "body": "Hello", "segment": "newsletter"}
    args, words = {
        "past": ({**base, "send_at": (ctx.now - DAY).isoformat()}, ("send_at", "past")),
        "empty segment": ({**base, "segment": "vip"}, ("vip", "no subscribed members")),
        "both": ({**base, "draft_id": post["id"]}, ("not both",)),
        "neither": ({"segment": "newsletter", "subject": "Hi"}, ("subject and body",)),
        "post draft": ({"draft_id": post["id"], "segment": "newsletter"}, ("not a newsletter",)),
        "unknown draft": ({"draft_id": "draft_000000000000", "segment": "newsletter"}, ("draft_000000000000",)),
    }[case]
    campaigns, messages = studio.email.list_campaigns(ctx.workspace.id), len(studio.email.messages(ctx.workspace.id))
    failed(invoke_tool(ctx, "send_email_campaign", args), *words)
    assert studio.email.list_campaigns(ctx.workspace.id) == campaigns
    assert len(studio.email.messages(ctx.workspace.id)) == messages


# Providers and isolation ---------------------------------------------------------------------------
def test_payments_provider_honours_idempotency_keys_and_stripe_semantics(studio: Studio, ctx: ToolContext) -> None:
    other = other_context(studio, ctx)
    ws_id, pay = other.workspace.id, studio.payments
    customer = pay.create_customer(ws_id, "x@example.com", "X", idempotency_key="c1")
    assert pay.create_customer(ws_id, "x@example.com", "X", idempotency_key="c1").id == customer.id
    product = pay.create_product(
        ws_id, "P", default_price=PriceData(unit_amount=900, currency="usd", interval="month"), idempotency_key="p1"
    )
    sub = pay.create_subscription(ws_id, customer.id, product.default_price_id or "", idempotency_key="s1")
    first = pay.create_charge(ws_id, customer.id, 900, "usd", subscription_id=sub.id, idempotency_key="ch1")
    assert pay.create_charge(ws_id, customer.id, 900, "usd", subscription_id=sub.id, idempotency_key="ch1") == first
    renewal = pay.create_charge(
        ws_id,
        customer.id,
        900,
        "usd",
        subscription_id=sub.id,
        idempotency_key="ch2",
        payment_method=PAYMENT_METHOD_DECLINED,
    )
    assert (first.billing_reason, renewal.billing_reason, renewal.status) == (
        "subscription_create",
        "subscription_cycle",
        "failed",
    )
    assert pay.list_subscriptions(ws_id)[0].status == "past_due"
    pay.create_charge(ws_id, customer.id, 900, "usd", subscription_id=sub.id, idempotency_key="ch3")
    assert pay.list_subscriptions(ws_id)[0].status == "active"
    assert len(pay.list_charges(ws_id)) == 3


def test_other_workspaces_see_none_of_this_revenue(studio: Studio, ctx: ToolContext) -> None:
    seeded_product = studio.payments.list_products(ctx.workspace.id)[0]
    seeded_test = studio.revenue.ab_tests(ctx.workspace)[0]
    other = other_context(studio, ctx)
    metrics = ok(invoke_tool(other, "get_revenue_metrics", {"period": "90d"}))["metrics"]
    assert (metrics["mrr"]["amount"], metrics["active_subscribers"], metrics["revenue"]["amount"]) == (0, 0, 0)
    assert ok(invoke_tool(other, "detect_churn_risk", {}))["at_risk"] == []
    assert ok(invoke_tool(other, "get_attribution", {"period": "90d"}))["attribution"]["purchases"] == 0
    assert [s["count"] for s in ok(invoke_tool(other, "analyze_funnel", {}))["funnel"]["steps"]] == [0] * 5
    failed(invoke_tool(other, "get_ab_test_results", {"test_id": seeded_test.id}), seeded_test.id)
    failed(invoke_tool(other, "create_payment_link", {"product_id": seeded_product.id}), seeded_product.id)
    failed(
        invoke_tool(keyed(other, "o-2"), "start_email_sequence", {"sequence": "welcome", "segment": "all"}), "welcome"
    )
    assert studio.payments.list_products(other.workspace.id) == []
    assert studio.email.list_subscribers(other.workspace.id) == []
    with pytest.raises(NotFound):
        studio.payments.get_product(other.workspace.id, seeded_product.id)
    # And the seeded workspace did not gain anything from the other's failed attempts.
    assert len(studio.payments.list_payment_links(ctx.workspace.id)) == 2
