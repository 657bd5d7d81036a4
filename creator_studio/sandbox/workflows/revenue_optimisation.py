"""Workflow 2, revenue optimisation: weakest funnel step → its conversion data → A/B variations → the split test
→ traffic split between them → monitoring → the winner chosen with significance → every channel uses it →
revenue improvement validated → the insight stored in memory.

The ten steps are step functions (`@step_function`) run in order by the Automation Lab from the template
`automation/templates/revenue-optimisation.yaml`; each returns its result for the later steps (see run.py)."""

from __future__ import annotations

from typing import Any

from creator_studio.automation.functions import StepContext, step_function
from creator_studio.sandbox.workflows.attribution import attributed_to
from creator_studio.sandbox.workflows.run import StepSpec, WorkflowReport, mark, run_in_world, started_at, world_of
from creator_studio.sandbox.world import World
from creator_studio.studio import Studio
from creator_studio.workspaces.service import Workspace

NAME = "revenue-optimisation"
TEST_PLATFORM = "linkedin"
ROLLOUT = ("x", "bluesky")
TOPIC = "python course launch"
STEPS = [
    StepSpec("revenue finds the lowest-converting funnel step", "revenue", "system.recommendation_generated"),
    StepSpec("analytics provides the conversion data", "analytics", "system.performance_alert"),
    StepSpec("content creates A/B variations", "content", "content.optimized"),
    StepSpec("automation orchestrates the split test", "automation", "system.recommendation_generated"),
    StepSpec("audience hub segments traffic", "engagement", "system.recommendation_generated"),
    StepSpec("monitoring tracks the test", "analytics", "content.milestone_reached"),
    StepSpec("the winner is chosen with significance", "analytics", "system.recommendation_generated"),
    StepSpec("all modules use the winning content", "content", "content.optimized"),
    StepSpec("revenue improvement validated", "revenue", "system.recommendation_generated"),
    StepSpec("the insight is stored in memory", "command_center", "system.recommendation_generated"),
]


TEMPLATE = "revenue-optimisation"


def run_revenue_optimisation(studio: Studio, ws: Workspace, world: World, *, correlation_id: str) -> WorkflowReport:
    """The workflow's template, run by the Automation Lab in `world` (see run.py)."""
    return run_in_world(studio, ws, world, template=TEMPLATE, workflow=NAME, correlation_id=correlation_id)


def _mark(ctx: StepContext, number: int, data: dict[str, Any]) -> None:
    mark(ctx, NAME, STEPS, number, data)


@step_function("revenue_optimisation.find_weakest_step")
def find_weakest_step(ctx: StepContext) -> dict[str, Any]:
    """1. The weakest transition of the funnel."""
    world_of(ctx)
    funnel = ctx.call("analyze_funnel", {"funnel": "default", "period": "30d"}, agent="revenue")["funnel"]
    weakest = funnel["weakest_step"] or "post views → link clicks"
    _mark(ctx, 1, {"recommendation": f"Lowest-converting step: {weakest}", "weakest_step": weakest})
    return {"started_at": ctx.now.isoformat(), "weakest_step": weakest,
            "rate": float(funnel["weakest_conversion"] or 0.0),
            "steps": [{"label": s["label"], "count": s["count"]} for s in funnel["steps"]]}


@step_function("revenue_optimisation.conversion_data")
def conversion_data(ctx: StepContext) -> dict[str, Any]:
    """2. Its conversion figures beside the revenue metrics."""
    found = ctx.result("revenue_optimisation.find_weakest_step")
    weakest, rate = found["weakest_step"], found["rate"]
    metrics = ctx.call("get_revenue_metrics", {"period": "30d"}, agent="revenue")
    _mark(ctx, 2, {"metric": f"conversion: {weakest}", "value": rate, "threshold": 0.05,
                   "message": f"{weakest} converts at {rate:.1%}; {metrics['summary']}"[:500],
                   "steps": found["steps"]})
    return {"summary": str(metrics["summary"])[:500]}


@step_function("revenue_optimisation.create_variations")
def create_variations(ctx: StepContext) -> dict[str, Any]:
    """3. Variations of the course call to action."""
    base = ctx.call("draft_post", {"platform": TEST_PLATFORM, "topic": TOPIC,
                                   "call_to_action": ctx.workspace.brand_voice.call_to_action},
                    agent="content")["draft"]
    variants = ctx.call("create_variants", {"source": base["id"], "count": 2}, agent="content")["drafts"]
    _mark(ctx, 3, {"content_id": base["id"], "change": f"{len(variants)} variations of the course post",
                   "variant_ids": [v["id"] for v in variants]})
    return {"base_id": base["id"], "variant_ids": [v["id"] for v in variants]}


@step_function("revenue_optimisation.start_split_test")
def start_split_test(ctx: StepContext) -> dict[str, Any]:
    """4. The split test."""
    variant_ids = ctx.result("revenue_optimisation.create_variations")["variant_ids"]
    names = [f"variant {chr(65 + i)}" for i in range(len(variant_ids))]
    test = ctx.call("start_ab_test", {"name": "Course post call to action", "variants": names,
                                      "metric": "conversion_rate"}, agent="revenue")["test"]
    _mark(ctx, 4, {"recommendation": f"Split test {test['id']} started on {len(names)} variants",
                   "test_id": test["id"]})
    return {"test_id": test["id"], "names": names}


@step_function("revenue_optimisation.segment_traffic")
def segment_traffic(ctx: StepContext) -> dict[str, Any]:
    """5. Each variant goes to its share of the audience as its own post."""
    world = world_of(ctx)
    variant_ids = ctx.result("revenue_optimisation.create_variations")["variant_ids"]
    names = ctx.result("revenue_optimisation.start_split_test")["names"]
    posts: dict[str, str] = {}
    qualities = [float(q) for q in world.rng.uniform(0.9, 1.7, size=len(variant_ids))]
    for name, draft_id, quality in zip(names, variant_ids, qualities, strict=True):
        post = ctx.call("publish_post", {"platform": TEST_PLATFORM, "draft_id": draft_id}, agent="content")["post"]
        world.track_post(post["id"], topic=TOPIC, quality=quality, has_cta=True, correlation_id=ctx.correlation_id)
        posts[name] = post["id"]
    _mark(ctx, 5, {"recommendation": f"Traffic split {'/'.join(str(100 // len(names)) for _ in names)} between "
                   f"{len(names)} posts", "posts": posts})
    return {"posts": posts, "qualities": dict(zip(names, qualities, strict=True))}


@step_function("revenue_optimisation.monitor_test")
def monitor_test(ctx: StepContext) -> dict[str, Any]:
    """6. After the test ran (the template's wait): exposures and click-throughs recorded on the test."""
    world = world_of(ctx)
    test_id = ctx.result("revenue_optimisation.start_split_test")["test_id"]
    posts = ctx.result("revenue_optimisation.segment_traffic")["posts"]
    exposures = 0
    for name, post_id in posts.items():
        metrics_now = world.posts[post_id].totals
        ctx.studio.revenue.record_ab_results(ctx.workspace, test_id, name, exposures=metrics_now.impressions,
                                             conversions=min(metrics_now.clicks, metrics_now.impressions))
        exposures += metrics_now.impressions
    _mark(ctx, 6, {"post_id": next(iter(posts.values())), "metric": "exposures", "value": exposures,
                   "milestone": 1000})
    return {"exposures": exposures}


@step_function("revenue_optimisation.choose_winner")
def choose_winner(ctx: StepContext) -> dict[str, Any]:
    """7. The verdict (significance from the analytics module through the results tool)."""
    test_id = ctx.result("revenue_optimisation.start_split_test")["test_id"]
    posts = ctx.result("revenue_optimisation.segment_traffic")["posts"]
    results = ctx.call("get_ab_test_results", {"test_id": test_id}, agent="revenue")["results"]
    rates = {v["name"]: v["conversions"] / max(v["exposures"], 1) for v in results["test"]["variants"]}
    winner = results["winner"] or max(rates, key=lambda n: rates[n])
    _mark(ctx, 7, {"recommendation": f"Winner: {winner} ({results['verdict']})"[:500], "winner": winner,
                   "significant": results["significant"], "rates": rates})
    return {"winner": winner, "rates": rates, "starting_post_id": posts[winner]}


@step_function("revenue_optimisation.roll_out_winner")
def roll_out_winner(ctx: StepContext) -> dict[str, Any]:
    """8. Every channel uses the winner: more platforms and the waitlist email."""
    world = world_of(ctx)
    chosen = ctx.result("revenue_optimisation.choose_winner")
    quality = ctx.result("revenue_optimisation.segment_traffic")["qualities"][chosen["winner"]]
    test_id = ctx.result("revenue_optimisation.start_split_test")["test_id"]
    winning_post = chosen["starting_post_id"]
    text = ctx.studio.social.get_post(ctx.workspace.id, winning_post).text
    rollout = [winning_post]
    for platform in ROLLOUT:
        draft = ctx.call("draft_post", {"platform": platform, "topic": TOPIC,
                                        "call_to_action": ctx.workspace.brand_voice.call_to_action},
                         agent="content")["draft"]
        post = ctx.call("publish_post", {"platform": platform, "draft_id": draft["id"]}, agent="content")["post"]
        world.track_post(post["id"], topic=TOPIC, quality=quality, has_cta=True, correlation_id=ctx.correlation_id)
        rollout.append(post["id"])
    ctx.call("send_email_campaign", {"subject": "The course, in one paragraph", "body": text,
                                     "segment": "waitlist"}, agent="revenue")
    _mark(ctx, 8, {"content_id": winning_post, "change": f"winning copy rolled out to {', '.join(ROLLOUT)} and "
                   "the waitlist email", "experiment_id": test_id, "rollout": rollout})
    return {"rollout": rollout, "text": text}


@step_function("revenue_optimisation.validate_revenue")
def validate_revenue(ctx: StepContext) -> dict[str, Any]:
    """9. Did revenue follow (after the template's wait)?"""
    world = world_of(ctx)
    rollout = ctx.result("revenue_optimisation.roll_out_winner")["rollout"]
    credited = attributed_to(ctx.studio, ctx.workspace, rollout,
                             since=started_at(ctx, "revenue_optimisation.find_weakest_step"), until=world.now)
    _mark(ctx, 9, {"recommendation": f"${credited / 100:,.2f} credited to the winning copy's posts",
                   "attributed_revenue_cents": credited, "post_ids": rollout})
    return {"attributed_revenue_cents": credited}


@step_function("revenue_optimisation.store_insight")
def store_insight(ctx: StepContext) -> dict[str, Any]:
    """10. The winning copy becomes a brand example that later drafts lean on."""
    chosen = ctx.result("revenue_optimisation.choose_winner")
    ctx.studio.memory.set_brand_examples(ctx.workspace, [ctx.result("revenue_optimisation.roll_out_winner")["text"]])
    _mark(ctx, 10, {"recommendation": f"Stored the winning copy ({chosen['winner']}) as a brand example in memory",
                    "stored_in": "memory"})
    return {"facts": {"weakest_step": ctx.result("revenue_optimisation.find_weakest_step")["weakest_step"],
                      "winner": chosen["winner"], "rates": chosen["rates"],
                      "test_id": ctx.result("revenue_optimisation.start_split_test")["test_id"]}}
