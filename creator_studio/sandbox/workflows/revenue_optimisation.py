"""Workflow 2, revenue optimisation: weakest funnel step → its conversion data → A/B variations → the split test
→ traffic split between them → monitoring → the winner chosen with significance → every channel uses it →
revenue improvement validated → the insight stored in memory."""

from __future__ import annotations

from creator_studio.sandbox.workflows.attribution import attributed_to
from creator_studio.sandbox.workflows.run import StepSpec, WorkflowReport, WorkflowRun
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


def run_revenue_optimisation(studio: Studio, ws: Workspace, world: World, *, correlation_id: str,
                             test_hours: int = 72, validate_days: int = 4) -> WorkflowReport:
    flow = WorkflowRun(studio, ws, world, NAME, STEPS, correlation_id)
    started = world.now
    # 1-2. The weakest transition of the funnel and its numbers.
    funnel = flow.call("analyze_funnel", {"funnel": "default", "period": "30d"}, agent="revenue")["funnel"]
    weakest, rate = funnel["weakest_step"] or "post views → link clicks", funnel["weakest_conversion"] or 0.0
    flow.step(1, {"recommendation": f"Lowest-converting step: {weakest}", "weakest_step": weakest})
    metrics = flow.call("get_revenue_metrics", {"period": "30d"}, agent="revenue")
    flow.step(2, {"metric": f"conversion: {weakest}", "value": float(rate), "threshold": 0.05,
                  "message": f"{weakest} converts at {float(rate):.1%}; {metrics['summary']}"[:500],
                  "steps": [{"label": s["label"], "count": s["count"]} for s in funnel["steps"]]})
    # 3. Variations of the course call to action.
    base = flow.call("draft_post", {"platform": TEST_PLATFORM, "topic": TOPIC,
                                    "call_to_action": ws.brand_voice.call_to_action}, agent="content")["draft"]
    variants = flow.call("create_variants", {"source": base["id"], "count": 2}, agent="content")["drafts"]
    flow.step(3, {"content_id": base["id"], "change": f"{len(variants)} variations of the course post",
                  "variant_ids": [v["id"] for v in variants]})
    # 4. The split test.
    names = [f"variant {chr(65 + i)}" for i in range(len(variants))]
    test = flow.call("start_ab_test", {"name": "Course post call to action", "variants": names,
                                       "metric": "conversion_rate"}, agent="revenue")["test"]
    flow.step(4, {"recommendation": f"Split test {test['id']} started on {len(names)} variants",
                  "test_id": test["id"]})
    # 5. Each variant goes to its share of the audience as its own post.
    posts: dict[str, str] = {}
    qualities = world.rng.uniform(0.9, 1.7, size=len(variants))
    for name, draft, quality in zip(names, variants, qualities, strict=True):
        post = flow.call("publish_post", {"platform": TEST_PLATFORM, "draft_id": draft["id"]}, agent="content")["post"]
        world.track_post(post["id"], topic=TOPIC, quality=float(quality), has_cta=True, correlation_id=correlation_id)
        posts[name] = post["id"]
    flow.step(5, {"recommendation": f"Traffic split {'/'.join(str(100 // len(names)) for _ in names)} between "
                  f"{len(names)} posts", "posts": posts})
    # 6. Monitoring: exposures and click-throughs recorded on the test.
    world.advance(hours=test_hours)
    exposures = 0
    for name, post_id in posts.items():
        metrics_now = world.posts[post_id].totals
        studio.revenue.record_ab_results(ws, test["id"], name, exposures=metrics_now.impressions,
                                         conversions=min(metrics_now.clicks, metrics_now.impressions))
        exposures += metrics_now.impressions
    flow.step(6, {"post_id": next(iter(posts.values())), "metric": "exposures", "value": exposures,
                  "milestone": 1000})
    # 7. The verdict (significance from the analytics module through the results tool).
    results = flow.call("get_ab_test_results", {"test_id": test["id"]}, agent="revenue")["results"]
    rates = {v["name"]: v["conversions"] / max(v["exposures"], 1) for v in results["test"]["variants"]}
    winner = results["winner"] or max(rates, key=lambda n: rates[n])
    flow.step(7, {"recommendation": f"Winner: {winner} ({results['verdict']})"[:500], "winner": winner,
                  "significant": results["significant"], "rates": rates})
    winning_post = posts[winner]
    flow.report.starting_post_id = winning_post
    # 8. Every channel uses the winner: more platforms and the waitlist email.
    text = studio.social.get_post(ws.id, winning_post).text
    rollout = [winning_post]
    for platform in ROLLOUT:
        draft = flow.call("draft_post", {"platform": platform, "topic": TOPIC,
                                         "call_to_action": ws.brand_voice.call_to_action}, agent="content")["draft"]
        post = flow.call("publish_post", {"platform": platform, "draft_id": draft["id"]}, agent="content")["post"]
        world.track_post(post["id"], topic=TOPIC, quality=float(qualities[names.index(winner)]), has_cta=True,
                         correlation_id=correlation_id)
        rollout.append(post["id"])
    flow.call("send_email_campaign", {"subject": "The course, in one paragraph", "body": text,
                                      "segment": "waitlist"}, agent="revenue")
    flow.step(8, {"content_id": winning_post, "change": f"winning copy rolled out to {', '.join(ROLLOUT)} and "
                  "the waitlist email", "experiment_id": test["id"], "rollout": rollout})
    # 9. Did revenue follow?
    world.run(days=validate_days)
    credited = attributed_to(studio, ws, rollout, since=started, until=world.now)
    flow.report.attributed_revenue_cents = credited
    flow.step(9, {"recommendation": f"${credited / 100:,.2f} credited to the winning copy's posts",
                  "attributed_revenue_cents": credited, "post_ids": rollout})
    # 10. The winning copy becomes a brand example that later drafts lean on.
    studio.memory.set_brand_examples(ws, [text])
    flow.step(10, {"recommendation": f"Stored the winning copy ({winner}) as a brand example in memory",
                   "stored_in": "memory"})
    flow.report.facts = {"weakest_step": weakest, "winner": winner, "test_id": test["id"], "rates": rates}
    return flow.finish()
