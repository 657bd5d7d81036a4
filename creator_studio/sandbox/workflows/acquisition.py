"""Workflow 1, new follower acquisition: a high-value post → published across platforms → engagement watched →
comments answered → leads qualified → nurture sequence → community invite → attribution and ROI → strategy
adjusted → progress on the Command Center.

The ten steps are step functions (`@step_function`) run in order by the Automation Lab from the template
`automation/templates/follower-acquisition.yaml`; each returns its result for the later steps (see run.py)."""

from __future__ import annotations

from collections import Counter
from typing import Any

from creator_studio.automation.functions import StepContext, step_function
from creator_studio.sandbox.workflows.attribution import attributed_to
from creator_studio.sandbox.workflows.run import StepSpec, WorkflowReport, mark, run_in_world, started_at, world_of
from creator_studio.sandbox.world import World
from creator_studio.sandbox.world.audience import TOPICS
from creator_studio.studio import Studio
from creator_studio.workspaces.service import Workspace

NAME = "follower-acquisition"
NURTURE_SEQUENCE = "lead-nurture"
COMMUNITY = "Tiny Wins Discord"
STEPS = [
    StepSpec("content generates a high-value post", "content", "system.recommendation_generated"),
    StepSpec("distribution publishes across platforms", "content", "content.published", marked=False),
    StepSpec("audience hub monitors engagement", "engagement", "content.milestone_reached"),
    StepSpec("AI engagement replies to comments", "engagement", "system.recommendation_generated"),
    StepSpec("lead qualification finds prospects", "engagement", "audience.lead_qualified"),
    StepSpec("revenue starts the lead nurture sequence", "revenue", "system.recommendation_generated"),
    StepSpec("community onboarding invites to join", "engagement", "system.recommendation_generated"),
    StepSpec("analytics tracks attribution and ROI", "analytics", "system.recommendation_generated"),
    StepSpec("optimisation adjusts the strategy", "command_center", "content.optimized"),
    StepSpec("the Command Center shows progress", "command_center", "system.performance_alert"),
]
PLATFORMS = ("linkedin", "bluesky")


TEMPLATE = "follower-acquisition"


def run_follower_acquisition(studio: Studio, ws: Workspace, world: World, *, correlation_id: str) -> WorkflowReport:
    """The workflow's template, run by the Automation Lab in `world` (see run.py)."""
    return run_in_world(studio, ws, world, template=TEMPLATE, workflow=NAME, correlation_id=correlation_id)


def _mark(ctx: StepContext, number: int, data: dict[str, Any]) -> None:
    mark(ctx, NAME, STEPS, number, data)


@step_function("acquisition.draft_high_value_post")
def draft_high_value_post(ctx: StepContext) -> dict[str, Any]:
    """1. The topic the audience responded to best lately (the content tool suggests; the world's topics bound
    it), drafted for each platform and checked against the brand."""
    world_of(ctx)
    topics = ctx.call("suggest_topics", {"count": 5}, agent="content")["topics"]
    topic = next((t for t in topics if t in TOPICS), TOPICS[1])
    drafts = []
    for platform in PLATFORMS:
        draft = ctx.call("draft_post", {"platform": platform, "topic": topic,
                                        "call_to_action": ctx.workspace.brand_voice.call_to_action},
                         agent="content")["draft"]
        issues = ctx.call("check_brand_compliance", {"text": draft["text"]}, agent="content")["issues"]
        drafts.append({"platform": platform, "draft_id": draft["id"], "quality": max(1.5 - 0.2 * len(issues), 0.6)})
    _mark(ctx, 1, {"recommendation": f"High-value post on “{topic}” drafted for {', '.join(PLATFORMS)}",
                   "topic": topic, "draft_ids": [d["draft_id"] for d in drafts]})
    return {"started_at": ctx.now.isoformat(), "topic": topic, "drafts": drafts}


@step_function("acquisition.publish_across_platforms")
def publish_across_platforms(ctx: StepContext) -> dict[str, Any]:
    """2. Publish (each publish_post emits content.published with this workflow's correlation id)."""
    world = world_of(ctx)
    drafted = ctx.result("acquisition.draft_high_value_post")
    posts = []
    for draft in drafted["drafts"]:
        post = ctx.call("publish_post", {"platform": draft["platform"], "draft_id": draft["draft_id"]},
                        agent="content")["post"]
        world.track_post(post["id"], topic=drafted["topic"], quality=draft["quality"], has_cta=True,
                         correlation_id=ctx.correlation_id)
        posts.append(post["id"])
    return {"posts": posts, "starting_post_id": posts[0]}


@step_function("acquisition.monitor_engagement")
def monitor_engagement(ctx: StepContext) -> dict[str, Any]:
    """3. After the audience had time to respond (the template's wait), read the figures back."""
    posts = ctx.result("acquisition.publish_across_platforms")["posts"]
    engagements = 0
    for post_id in posts:
        perf = ctx.call("get_content_performance", {"post_id": post_id}, agent="content")
        engagements += sum(p["likes"] + p["reposts"] + p["replies"] + p["clicks"] for p in perf["posts"])
    _mark(ctx, 3, {"post_id": posts[0], "metric": "engagements", "value": engagements, "milestone": 100})
    return {"engagements": engagements}


@step_function("acquisition.answer_comments")
def answer_comments(ctx: StepContext) -> dict[str, Any]:
    """4. Hide spam and injection attempts, answer the rest in the creator's voice."""
    posts = ctx.result("acquisition.publish_across_platforms")["posts"]
    since = started_at(ctx, "acquisition.draft_high_value_post")
    comments = ctx.call("list_comments", {"since": since.isoformat(), "unreplied_only": True},
                        agent="engagement")["comments"]
    ours = [c for c in comments if c["post_id"] in posts]
    strangers = tuple(f"{p}-stranger" for p in PLATFORMS)
    hidden = replied = 0
    for comment in ours:
        if comment["classification"] == "spam" or comment["author_handle"].startswith(strangers):
            ctx.call("hide_comment", {"comment_id": comment["id"]}, agent="engagement")
            hidden += 1
        elif comment["classification"] in ("question", "purchase_intent", "praise") and replied < 15:
            text = ctx.studio.engagement.suggest_reply(ctx.workspace, ctx.studio.writer.write, comment["id"])
            ctx.call("reply_to_comment", {"comment_id": comment["id"], "text": text}, agent="engagement")
            replied += 1
    _mark(ctx, 4, {"recommendation": f"Answered {replied} comments and hid {hidden} spam or injection attempts",
                   "replied": replied, "hidden": hidden})
    return {"replied": replied, "hidden": hidden, "commenters": sorted({c["author_handle"] for c in ours})}


@step_function("acquisition.qualify_leads")
def qualify_leads(ctx: StepContext) -> dict[str, Any]:
    """5. Qualified leads among the people who engaged with these posts."""
    world = world_of(ctx)
    commenters = set(ctx.result("acquisition.answer_comments")["commenters"])
    leads = [lead for lead in ctx.call("qualify_leads", {"min_score": 20}, agent="engagement")["leads"]
             if lead["handle"] in commenters and lead["handle"] in world.people]
    if not leads:  # nobody scored yet: the most engaged commenters are the prospects
        leads = [{"handle": h, "score": 20} for h in sorted(commenters) if h in world.people][:5]
    for lead in leads[:10]:
        _mark(ctx, 5, {"lead_id": lead["handle"], "score": min(lead["score"] / 100, 1.0),
                       "reason": "engaged with the acquisition post"})
    return {"handles": [lead["handle"] for lead in leads[:10]]}


@step_function("acquisition.start_nurture")
def start_nurture(ctx: StepContext) -> dict[str, Any]:
    """6. Nurture: leads join the list through the lead magnet, then get the sequence."""
    world = world_of(ctx)
    handles = ctx.result("acquisition.qualify_leads")["handles"]
    _ensure_sequence(ctx.studio, ctx.workspace)
    subscriber_ids = [s for h in handles
                      if (s := world.sign_up(h, tags=["leads"], correlation_id=ctx.correlation_id))]
    enrolled = 0
    if subscriber_ids:
        result = ctx.call("start_email_sequence", {"sequence": NURTURE_SEQUENCE, "subscriber_ids": subscriber_ids},
                          agent="revenue")
        enrolled = len(result["enrolment"]["enrolled"])
    _mark(ctx, 6, {"recommendation": f"{enrolled} leads started the {NURTURE_SEQUENCE} sequence",
                   "enrolled": enrolled})
    return {"enrolled": enrolled}


@step_function("acquisition.invite_to_community")
def invite_to_community(ctx: StepContext) -> dict[str, Any]:
    """7. Community invitation."""
    handles = ctx.result("acquisition.qualify_leads")["handles"]
    invited = 0
    if handles:
        invited = ctx.call("invite_to_community", {"member_ids": handles, "community": COMMUNITY},
                           agent="engagement")["invited_count"]
    _mark(ctx, 7, {"recommendation": f"Invited {invited} leads to {COMMUNITY}", "invited": invited})
    return {"invited": invited}


@step_function("acquisition.attribute_revenue")
def attribute_revenue(ctx: StepContext) -> dict[str, Any]:
    """8. After the nurture and the post had time to convert (the template's wait), credit revenue to the posts."""
    world = world_of(ctx)
    posts = ctx.result("acquisition.publish_across_platforms")["posts"]
    credited = attributed_to(ctx.studio, ctx.workspace, posts,
                             since=started_at(ctx, "acquisition.draft_high_value_post"), until=world.now)
    followers = sum(world.followers.values())
    _mark(ctx, 8, {"recommendation": f"${credited / 100:,.2f} of revenue credited to the acquisition posts",
                   "post_ids": posts, "attributed_revenue_cents": credited, "followers": followers})
    return {"attributed_revenue_cents": credited, "followers": followers}


@step_function("acquisition.adjust_strategy")
def adjust_strategy(ctx: StepContext) -> dict[str, Any]:
    """9. Strategy: the best topic of the month so far becomes the next posts' plan."""
    best_topic = _best_topic(world_of(ctx))
    posts = ctx.result("acquisition.publish_across_platforms")["posts"]
    _mark(ctx, 9, {"content_id": posts[0], "change": f"next posts: more on “{best_topic}”, with a call to action",
                   "topic": best_topic})
    return {"best_topic": best_topic}


@step_function("acquisition.show_progress")
def show_progress(ctx: StepContext) -> dict[str, Any]:
    """10. The Command Center's summary shows where the workflow left things."""
    credited = ctx.result("acquisition.attribute_revenue")["attributed_revenue_cents"]
    summary = ctx.call("get_dashboard_summary", {"period": "30d"}, agent="command_center")["summary"]
    _mark(ctx, 10, {"metric": "attributed_revenue_cents", "value": credited, "message": summary[:500]})
    answered = ctx.result("acquisition.answer_comments")
    return {"facts": {"topic": ctx.result("acquisition.draft_high_value_post")["topic"],
                      "posts": ctx.result("acquisition.publish_across_platforms")["posts"],
                      "replied": answered["replied"], "hidden": answered["hidden"],
                      "leads": len(ctx.result("acquisition.qualify_leads")["handles"]),
                      "enrolled": ctx.result("acquisition.start_nurture")["enrolled"],
                      "invited": ctx.result("acquisition.invite_to_community")["invited"],
                      "engagements": ctx.result("acquisition.monitor_engagement")["engagements"]}}


def _ensure_sequence(studio: Studio, ws: Workspace) -> None:
    from creator_studio.providers.email.base import SequenceStep

    if NURTURE_SEQUENCE not in {s.name for s in studio.email.list_sequences(ws.id)}:
        studio.email.create_sequence(ws.id, NURTURE_SEQUENCE, [
            SequenceStep(delay_days=0, subject="The checklist you asked for",
                         body="Here is the data-cleaning checklist, and how the course builds on it."),
            SequenceStep(delay_days=3, subject="What students built in week one",
                         body="Three tiny wins from the last cohort.")])


def _best_topic(world: World) -> str:
    scores: Counter[str] = Counter()
    for post in world.posts.values():
        scores[post.topic] += post.totals.likes + 3 * post.totals.reposts + 5 * post.totals.clicks
    return scores.most_common(1)[0][0] if scores else TOPICS[0]
