"""Workflow 3, community monetisation: engaged members found → their behaviour analysed → upsell timing →
personalised offer content → campaign (product and link) → exclusive invitation → the upgrade is paid →
premium onboarding → community-to-revenue attribution → strategy refined.

The ten steps are step functions (`@step_function`) run in order by the Automation Lab from the template
`automation/templates/community-monetisation.yaml`; each returns its result for the later steps (see run.py)."""

from __future__ import annotations

from collections import Counter
from typing import Any

from creator_studio.automation.functions import StepContext, StepFailed, step_function
from creator_studio.providers.email.base import SequenceStep
from creator_studio.sandbox.workflows.attribution import attributed_to
from creator_studio.sandbox.workflows.run import StepSpec, WorkflowReport, mark, run_in_world, started_at, world_of
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


TEMPLATE = "community-monetisation"
OFFER_DAYS = 7


def run_community_monetisation(studio: Studio, ws: Workspace, world: World, *, correlation_id: str
                               ) -> WorkflowReport:
    """The workflow's template, run by the Automation Lab in `world` (see run.py)."""
    return run_in_world(studio, ws, world, template=TEMPLATE, workflow=NAME, correlation_id=correlation_id)


def _mark(ctx: StepContext, number: int, data: dict[str, Any]) -> None:
    mark(ctx, NAME, STEPS, number, data)


@step_function("community.find_engaged_members")
def find_engaged_members(ctx: StepContext) -> dict[str, Any]:
    """1. Top engagers (the engagement tool) who are members of the simulated audience."""
    world = world_of(ctx)
    members = int(ctx.args.get("members", 12))
    engagers = ctx.call("find_top_engagers", {"count": 50, "period": "30d"}, agent="engagement")["engagers"]
    handles = [e["handle"] for e in engagers if e["handle"] in world.people][:members]
    if not handles:
        raise StepFailed(f"{NAME}: nobody in the simulated audience has engaged yet; run the world longer before "
                         f"looking for members to upsell")
    _mark(ctx, 1, {"metric": "highly engaged members", "value": len(handles), "threshold": 1, "direction": "up",
                   "members": handles})
    return {"started_at": ctx.now.isoformat(), "handles": handles}


@step_function("community.analyse_behaviour")
def analyse_behaviour(ctx: StepContext) -> dict[str, Any]:
    """2. Behaviour: their platforms, their comments' sentiment."""
    world = world_of(ctx)
    handles = ctx.result("community.find_engaged_members")["handles"]
    platforms = Counter(world.people[h].platform for h in handles)
    their_comments = [c for c in ctx.studio.social.comments(ctx.workspace.id) if c.author_handle in set(handles)]
    sentiment = 0.0
    if their_comments:
        result = ctx.call("analyze_sentiment", {"comment_ids": [c.id for c in their_comments[:50]]},
                          agent="engagement")
        sentiment = float(result.get("vader_average") or 0.0)
    platform = platforms.most_common(1)[0][0]
    _mark(ctx, 2, {"recommendation": f"Engaged members are mostly on {platform}; {len(their_comments)} comments",
                   "platforms": dict(platforms), "comments": len(their_comments), "sentiment": sentiment})
    return {"platform": platform}


@step_function("community.choose_upsell_timing")
def choose_upsell_timing(ctx: StepContext) -> dict[str, Any]:
    """3. Timing: the local hour most of them are active; the world's clock moves on to it."""
    world = world_of(ctx)
    people = [world.people[h] for h in ctx.result("community.find_engaged_members")["handles"]]
    hours = Counter(int(world.audiences[p.platform].active_hour[p.index]) for p in people)
    best_hour = int(hours.most_common(1)[0][0])
    _mark(ctx, 3, {"recommendation": f"Send the offer at {best_hour:02d}:00 local time", "hour": best_hour})
    while world.local_hour != best_hour:
        world.advance(hours=1)
    return {"hour": best_hour}


@step_function("community.create_offer_content")
def create_offer_content(ctx: StepContext) -> dict[str, Any]:
    """4. The personalised offer post (the content that starts the revenue)."""
    world = world_of(ctx)
    platform = ctx.result("community.analyse_behaviour")["platform"]
    draft = ctx.call("draft_post", {"platform": platform, "topic": f"{PREMIUM} for the most active members",
                                    "call_to_action": "Reply for your personal invitation"}, agent="content")["draft"]
    post = ctx.call("publish_post", {"platform": platform, "draft_id": draft["id"]}, agent="content")["post"]
    world.track_post(post["id"], topic="python course launch", quality=1.4, has_cta=True,
                     correlation_id=ctx.correlation_id)
    return {"starting_post_id": post["id"]}


@step_function("community.start_campaign")
def start_campaign(ctx: StepContext) -> dict[str, Any]:
    """5. The campaign's product and its payment link."""
    product = ctx.call("create_product", {"name": PREMIUM, "price": "29", "interval": "month"}, agent="revenue")
    link = ctx.call("create_payment_link", {"price_id": product["price"]["id"]}, agent="revenue")
    return {"price_id": product["price"]["id"], "payment_link": link.get("link", {}).get("url")}


@step_function("community.deliver_invitation")
def deliver_invitation(ctx: StepContext) -> dict[str, Any]:
    """6. The exclusive invitation, with a personal offer the world's members may take."""
    world = world_of(ctx)
    handles = ctx.result("community.find_engaged_members")["handles"]
    post_id = ctx.result("community.create_offer_content")["starting_post_id"]
    invited = ctx.call("invite_to_community", {"member_ids": handles, "community": CIRCLE,
                                               "message": "You are one of our most active members."},
                       agent="engagement")["invited_count"]
    offered = world.offer(handles, price_id=ctx.result("community.start_campaign")["price_id"], post_id=post_id,
                          correlation_id=ctx.correlation_id, days=OFFER_DAYS)
    _mark(ctx, 6, {"recommendation": f"Invited {invited} members to {CIRCLE} with a personal offer",
                   "invited": invited, "offers": offered})
    return {"invited": invited, "offers": offered}


@step_function("community.process_upgrades")
def process_upgrades(ctx: StepContext) -> dict[str, Any]:
    """7. Members take the offer and pay (the world, through the payments provider) while it is open: the
    world's clock runs a day at a time until the first upgrade, at most as long as the offer."""
    world = world_of(ctx)
    upgraded_before = world.stats.upgrades
    for _ in range(OFFER_DAYS):
        world.run(days=1)
        if world.stats.upgrades > upgraded_before:
            break
    upgraded = [e.data["customer_id"] for e in ctx.studio.events.query(
        ctx.workspace.id, correlation_id=ctx.correlation_id, types=["revenue.subscription_upgraded"])]
    return {"upgraded_customers": upgraded}


@step_function("community.start_premium_onboarding")
def start_premium_onboarding(ctx: StepContext) -> dict[str, Any]:
    """8. Premium onboarding: the welcome sequence and the circle."""
    world = world_of(ctx)
    studio, ws = ctx.studio, ctx.workspace
    handles = ctx.result("community.find_engaged_members")["handles"]
    upgraded = set(ctx.result("community.process_upgrades")["upgraded_customers"])
    if ONBOARDING not in {s.name for s in studio.email.list_sequences(ws.id)}:
        studio.email.create_sequence(ws.id, ONBOARDING, [
            SequenceStep(delay_days=0, subject=f"Welcome to {PREMIUM}", body="Here is how the premium circle works.")])
    customers = {c.id: c for c in studio.payments.list_customers(ws.id)}
    joined = [h for h in handles if world.people[h].customer_id in upgraded]
    subscriber_ids = [s for h in joined if (s := world.sign_up(h, tags=["premium"]))]
    if subscriber_ids:
        ctx.call("start_email_sequence", {"sequence": ONBOARDING, "subscriber_ids": subscriber_ids}, agent="revenue")
    for handle in joined:
        _mark(ctx, 8, {"member_id": handle, "community": CIRCLE,
                       "email": customers[world.people[handle].customer_id or ""].email})
    return {"joined": joined}


@step_function("community.attribute_revenue")
def attribute_revenue(ctx: StepContext) -> dict[str, Any]:
    """9. Revenue credited to the offer post."""
    world = world_of(ctx)
    post_id = ctx.result("community.create_offer_content")["starting_post_id"]
    joined = ctx.result("community.start_premium_onboarding")["joined"]
    credited = attributed_to(ctx.studio, ctx.workspace, [post_id],
                             since=started_at(ctx, "community.find_engaged_members"), until=world.now)
    _mark(ctx, 9, {"recommendation": f"${credited / 100:,.2f} credited to the community offer post",
                   "post_id": post_id, "attributed_revenue_cents": credited, "upgrades": len(joined)})
    return {"attributed_revenue_cents": credited}


@step_function("community.refine_strategy")
def refine_strategy(ctx: StepContext) -> dict[str, Any]:
    """10. Strategy: the take rate decides the next offer."""
    handles = ctx.result("community.find_engaged_members")["handles"]
    joined = ctx.result("community.start_premium_onboarding")["joined"]
    rate = len(joined) / max(len(handles), 1)
    advice = "repeat the offer monthly" if rate >= 0.2 else "warm members up longer before offering"
    _mark(ctx, 10, {"recommendation": f"{len(joined)}/{len(handles)} took the offer ({rate:.0%}): {advice}",
                    "take_rate": rate})
    return {"take_rate": rate, "facts": {"members": len(handles), "upgrades": len(joined),
                                         "platform": ctx.result("community.analyse_behaviour")["platform"],
                                         "hour": ctx.result("community.choose_upsell_timing")["hour"]}}
