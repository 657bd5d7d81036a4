"""Workflow 3, community monetisation: engaged members found → their behaviour analysed → upsell timing →
personalised offer content → campaign (product and link) → exclusive invitation → the upgrade is paid →
premium onboarding → community-to-revenue attribution → strategy refined."""

from __future__ import annotations

from collections import Counter

from creator_studio.providers.email.base import SequenceStep
from creator_studio.sandbox.workflows.attribution import attributed_to
from creator_studio.sandbox.workflows.run import StepSpec, WorkflowReport, WorkflowRun, WorkflowStepFailed
from creator_studio.sandbox.world import World
from creator_studio.studio import Studio
from creator_studio.workspaces.service import Workspace

NAME = "community-monetisation"
PREMIUM = "Tiny Wins Premium"
CIRCLE = "Tiny Wins Premium circle"
ONBOARDING = "premium-onboarding"
STEPS = [
    StepSpec("audience hub finds highly engaged members", "engagement", "audience.engagement_threshold_crossed"),
    StepSpec("analytics analyses their behaviour", "analytics", "system.recommendation_generated"),
    StepSpec("revenue chooses the upsell timing", "revenue", "system.recommendation_generated"),
    StepSpec("content creates the personalised offer", "content", "content.published", marked=False),
    StepSpec("automation triggers the personalised campaign", "automation", "revenue.product_created",
             marked=False),
    StepSpec("community delivers the exclusive invitation", "engagement", "system.recommendation_generated"),
    StepSpec("payment processes the upgrade", "revenue", "revenue.subscription_upgraded", marked=False),
    StepSpec("customer success starts premium onboarding", "engagement", "audience.member_joined"),
    StepSpec("attribution tracks community-to-revenue", "analytics", "system.recommendation_generated"),
    StepSpec("optimisation refines the monetisation strategy", "command_center", "system.recommendation_generated"),
]


def run_community_monetisation(studio: Studio, ws: Workspace, world: World, *, correlation_id: str,
                               members: int = 12, offer_days: int = 7) -> WorkflowReport:
    flow = WorkflowRun(studio, ws, world, NAME, STEPS, correlation_id)
    started = world.now
    # 1. Top engagers (the engagement tool) who are members of the simulated audience.
    engagers = flow.call("find_top_engagers", {"count": 50, "period": "30d"}, agent="engagement")["engagers"]
    handles = [e["handle"] for e in engagers if e["handle"] in world.people][:members]
    if not handles:
        raise WorkflowStepFailed(f"{NAME}: nobody in the simulated audience has engaged yet; run the world longer "
                                 f"before looking for members to upsell")
    flow.step(1, {"metric": "highly engaged members", "value": len(handles), "threshold": 1, "direction": "up",
                  "members": handles})
    # 2. Behaviour: their platforms, their comments' sentiment.
    people = [world.people[h] for h in handles]
    platforms = Counter(p.platform for p in people)
    their_comments = [c for c in studio.social.comments(ws.id) if c.author_handle in set(handles)]
    sentiment = 0.0
    if their_comments:
        result = flow.call("analyze_sentiment", {"comment_ids": [c.id for c in their_comments[:50]]},
                           agent="engagement")
        sentiment = float(result.get("vader_average") or 0.0)
    platform = platforms.most_common(1)[0][0]
    flow.step(2, {"recommendation": f"Engaged members are mostly on {platform}; {len(their_comments)} comments",
                  "platforms": dict(platforms), "comments": len(their_comments), "sentiment": sentiment})
    # 3. Timing: the local hour most of them are active.
    hours = Counter(int(world.audiences[p.platform].active_hour[p.index]) for p in people)
    best_hour = hours.most_common(1)[0][0]
    flow.step(3, {"recommendation": f"Send the offer at {best_hour:02d}:00 local time", "hour": best_hour})
    while world.local_hour != best_hour:
        world.advance(hours=1)
    # 4. The personalised offer post (the content that starts the revenue).
    draft = flow.call("draft_post", {"platform": platform, "topic": f"{PREMIUM} for the most active members",
                                     "call_to_action": "Reply for your personal invitation"},
                      agent="content")["draft"]
    post = flow.call("publish_post", {"platform": platform, "draft_id": draft["id"]}, agent="content")["post"]
    world.track_post(post["id"], topic="python course launch", quality=1.4, has_cta=True,
                     correlation_id=correlation_id)
    flow.report.starting_post_id = post["id"]
    # 5. The campaign's product and its payment link.
    product = flow.call("create_product", {"name": PREMIUM, "price": "29", "interval": "month"}, agent="revenue")
    flow.call("create_payment_link", {"price_id": product["price"]["id"]}, agent="revenue")
    # 6. The exclusive invitation, with a personal offer the world's members may take.
    invited = flow.call("invite_to_community", {"member_ids": handles, "community": CIRCLE,
                                                "message": "You are one of our most active members."},
                        agent="engagement")["invited_count"]
    offered = world.offer(handles, price_id=product["price"]["id"], post_id=post["id"],
                          correlation_id=correlation_id, days=offer_days)
    flow.step(6, {"recommendation": f"Invited {invited} members to {CIRCLE} with a personal offer",
                  "invited": invited, "offers": offered})
    # 7. Members take the offer and pay (the world, through the payments provider) while it is open.
    upgraded_before = world.stats.upgrades
    for _ in range(offer_days):
        world.run(days=1)
        if world.stats.upgrades > upgraded_before:
            break
    upgraded = [e.data["customer_id"] for e in studio.events.query(
        ws.id, correlation_id=correlation_id, types=["revenue.subscription_upgraded"])]
    # 8. Premium onboarding: the welcome sequence and the circle.
    if ONBOARDING not in {s.name for s in studio.email.list_sequences(ws.id)}:
        studio.email.create_sequence(ws.id, ONBOARDING, [
            SequenceStep(delay_days=0, subject=f"Welcome to {PREMIUM}", body="Here is how the premium circle works.")])
    customers = {c.id: c for c in studio.payments.list_customers(ws.id)}
    joined = [h for h in handles if world.people[h].customer_id in set(upgraded)]
    subscriber_ids = [s for h in joined if (s := world.sign_up(h, tags=["premium"]))]
    if subscriber_ids:
        flow.call("start_email_sequence", {"sequence": ONBOARDING, "subscriber_ids": subscriber_ids},
                  agent="revenue")
    for handle in joined:
        flow.step(8, {"member_id": handle, "community": CIRCLE,
                      "email": customers[world.people[handle].customer_id or ""].email})
    # 9. Revenue credited to the offer post.
    credited = attributed_to(studio, ws, [post["id"]], since=started, until=world.now)
    flow.report.attributed_revenue_cents = credited
    flow.step(9, {"recommendation": f"${credited / 100:,.2f} credited to the community offer post",
                  "post_id": post["id"], "attributed_revenue_cents": credited, "upgrades": len(joined)})
    # 10. Strategy: the take rate decides the next offer.
    rate = len(joined) / max(len(handles), 1)
    advice = "repeat the offer monthly" if rate >= 0.2 else "warm members up longer before offering"
    flow.step(10, {"recommendation": f"{len(joined)}/{len(handles)} took the offer ({rate:.0%}): {advice}",
                   "take_rate": rate})
    flow.report.facts = {"members": len(handles), "upgrades": len(joined), "platform": platform,
                         "hour": best_hour}
    return flow.finish()
