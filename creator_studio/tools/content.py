"""Content Studio tools (tools.md § content). Thin: validate, call the content service, shape the result."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field, field_validator, model_validator

from creator_studio.content.media import MediaAsset
from creator_studio.content.platforms import DISPLAY_NAMES, check_length
from creator_studio.content.service import (
    BrandIssue,
    CalendarEntry,
    Draft,
    PostPerformance,
    ScheduledPost,
    default_calendar_window,
)
from creator_studio.providers.social.base import PublishedPost
from creator_studio.tools.base import ToolArgs, ToolContext, ToolResult, tool
from creator_studio.tools.types import (
    PLATFORM_ALIASES,
    AwareDatetime,
    FutureDatetime,
    Period,
    PlatformArg,
    SocialPlatformArg,
)


class DraftPostArgs(ToolArgs):
    platform: SocialPlatformArg
    topic: str = Field(min_length=2, max_length=300, description="What the post is about.")
    tone: str | None = Field(default=None, max_length=100)
    call_to_action: str | None = Field(default=None, max_length=200)
    audience: str | None = Field(default=None, max_length=200)

    @field_validator("platform", mode="before")
    @classmethod
    def _not_email(cls, value: Any) -> Any:
        # Runs before the platform check, so asking for an email gets a pointer instead of a list of platforms.
        if isinstance(value, str) and PLATFORM_ALIASES.get(value.strip().lower(), value.strip().lower()) == "email":
            raise ValueError("email is not a social platform; use draft_newsletter to write an email")
        return value


class DraftResult(ToolResult):
    draft: Draft


@tool("content")
def draft_post(ctx: ToolContext, args: DraftPostArgs) -> DraftResult:
    """Write a draft post for one social platform in the creator's brand voice, leaning on their best past
    posts about the topic. Returns the draft with its id (use it with schedule_post or publish_post)."""
    draft = ctx.studio.content.draft_post(ctx.workspace, ctx.write, request_key=ctx.request_key,
                                          platform=args.platform, topic=args.topic,
                                          tone=args.tone, call_to_action=args.call_to_action,
                                          audience=args.audience)
    return DraftResult(summary=f"Drafted a {DISPLAY_NAMES[draft.platform]} post about {args.topic} ({draft.id}).",
                       draft=draft)


class RepurposeArgs(ToolArgs):
    source: str = Field(min_length=1, description="A draft id, a published post id, or the text itself.")
    platforms: list[PlatformArg] = Field(min_length=1, max_length=6)


class DraftsResult(ToolResult):
    drafts: list[Draft]


@tool("content")
def repurpose_content(ctx: ToolContext, args: RepurposeArgs) -> DraftsResult:
    """Rewrite a draft, a published post or given text for other platforms, one draft per platform."""
    drafts = ctx.studio.content.repurpose(ctx.workspace, ctx.write, request_key=ctx.request_key, source=args.source,
                                          platforms=list(dict.fromkeys(args.platforms)))
    names = ", ".join(DISPLAY_NAMES[d.platform] for d in drafts)
    return DraftsResult(summary=f"Repurposed the content for {names}.", drafts=drafts)


class VariantsArgs(ToolArgs):
    source: str = Field(min_length=1, description="A draft id, a published post id, or the text itself.")
    count: int = Field(default=2, ge=1, le=10)


@tool("content")
def create_variants(ctx: ToolContext, args: VariantsArgs) -> DraftsResult:
    """Write alternative versions of a draft or post (for A/B tests), each saved as its own draft."""
    drafts = ctx.studio.content.create_variants(ctx.workspace, ctx.write, source=args.source, count=args.count,
                                                request_key=ctx.request_key)
    return DraftsResult(summary=f"Wrote {len(drafts)} variants ({', '.join(d.id for d in drafts)}).",
                        drafts=drafts)


class NewsletterArgs(ToolArgs):
    topic: str = Field(min_length=2, max_length=300)
    segment: str | None = Field(default=None, max_length=100)


@tool("content")
def draft_newsletter(ctx: ToolContext, args: NewsletterArgs) -> DraftResult:
    """Write a newsletter issue (subject and body) on a topic, optionally for an audience segment."""
    draft = ctx.studio.content.draft_newsletter(ctx.workspace, ctx.write, topic=args.topic, segment=args.segment,
                                                request_key=ctx.request_key)
    return DraftResult(summary=f"Drafted the newsletter “{draft.title}” ({draft.id}).", draft=draft)


class ImageArgs(ToolArgs):
    prompt: str = Field(min_length=2, max_length=1000, description="The card's text, or what to picture.")
    style: str | None = Field(default=None, max_length=100, description="bold, minimal, or the brand's default.")
    platform: SocialPlatformArg | None = Field(default=None, description="Sized for this platform's feed.")
    format: Literal["square", "landscape", "story"] | None = Field(
        default=None, description="square 1080×1080, landscape 1200×675, story 1080×1920.")


class MediaResult(ToolResult):
    asset: MediaAsset


@tool("content")
def generate_image(ctx: ToolContext, args: ImageArgs) -> MediaResult:
    """Create a branded image (PNG) from a prompt, sized for a platform or format, and save it in the workspace."""
    asset = ctx.studio.media.generate_image(ctx.workspace, prompt=args.prompt, style=args.style,
                                            platform=args.platform, image_format_name=args.format,
                                            request_key=ctx.request_key)
    return MediaResult(summary=f"Created a {asset.details['width']}×{asset.details['height']} image "
                               f"({asset.id}) at {asset.path}.", asset=asset)


class VideoArgs(ToolArgs):
    script: str | None = Field(default=None, max_length=5000, description="The narration, if already written.")
    topic: str | None = Field(default=None, max_length=300)
    duration_s: int = Field(default=30, ge=5, le=600, description="Target length; the narration sets the exact one.")
    preset: Literal["vertical_short", "square_feed"] = "vertical_short"

    @model_validator(mode="after")
    def _one_source(self) -> VideoArgs:
        if not (self.script or self.topic):
            raise ValueError("give a script or a topic")
        return self


@tool("content")
def generate_video(ctx: ToolContext, args: VideoArgs) -> MediaResult:
    """Make a narrated short video (MP4, H.264 + AAC) from a script or a topic: branded slides, captions (SRT
    and in the video) and an audio-only export."""
    asset = ctx.studio.media.generate_video(ctx.workspace, ctx.write, script=args.script, topic=args.topic,
                                            duration_s=args.duration_s, preset=args.preset,
                                            request_key=ctx.request_key)
    scenes = len(asset.details.get("scenes", []))  # type: ignore[arg-type]
    return MediaResult(summary=f"Made a {asset.details['duration_s']:.0f}s video in {scenes} scenes with "
                               f"captions ({asset.id}) at {asset.path}.", asset=asset)


class BrandCheckArgs(ToolArgs):
    text: str = Field(min_length=1, max_length=20_000)


class BrandCheckResult(ToolResult):
    compliant: bool
    issues: list[BrandIssue]


@tool("content")
def check_brand_compliance(ctx: ToolContext, args: BrandCheckArgs) -> BrandCheckResult:
    """Check text against the creator's brand rules (banned words, tone)."""
    issues = ctx.studio.content.check_brand(ctx.workspace, args.text)
    summary = "On brand." if not issues else "Off brand: " + "; ".join(i.detail for i in issues) + "."
    return BrandCheckResult(summary=summary, compliant=not issues, issues=issues)


class SuggestTopicsArgs(ToolArgs):
    count: int = Field(default=5, ge=1, le=20)
    platform: SocialPlatformArg | None = None


class TopicsResult(ToolResult):
    topics: list[str]


@tool("content")
def suggest_topics(ctx: ToolContext, args: SuggestTopicsArgs) -> TopicsResult:
    """Suggest post topics from what performed best and what the audience keeps asking."""
    topics = ctx.studio.content.suggest_topics(ctx.workspace, count=args.count, platform=args.platform)
    return TopicsResult(summary="Topic ideas: " + "; ".join(topics) + ".", topics=topics)


class CalendarArgs(ToolArgs):
    start: AwareDatetime | None = None
    end: AwareDatetime | None = None


class CalendarResult(ToolResult):
    entries: list[CalendarEntry]


@tool("content")
def get_content_calendar(ctx: ToolContext, args: CalendarArgs) -> CalendarResult:
    """List scheduled and published posts between start and end (default: last 7 days to next 30)."""
    default_start, default_end = default_calendar_window(ctx.now)
    entries = ctx.studio.content.calendar(ctx.workspace, args.start or default_start, args.end or default_end)
    scheduled = sum(1 for e in entries if e.kind == "scheduled")
    return CalendarResult(summary=f"{scheduled} scheduled and {len(entries) - scheduled} published posts "
                                  f"in the calendar.", entries=entries)


class PerformanceArgs(ToolArgs):
    period: Period | None = None
    post_id: str | None = None


class PerformanceResult(ToolResult):
    posts: list[PostPerformance]


@tool("content")
def get_content_performance(ctx: ToolContext, args: PerformanceArgs) -> PerformanceResult:
    """Engagement of published posts over a period (like 7d, 30d, mtd) or for one post, best first."""
    # Local time, so "mtd" starts at midnight on the 1st where the creator lives, not in UTC.
    since = ctx.period_start(args.period or "30d") if not args.post_id else None
    posts = ctx.studio.content.performance(ctx.workspace, since=since, post_id=args.post_id)
    if not posts:
        return PerformanceResult(summary="No published posts in that period.", posts=[])
    best = posts[0]
    return PerformanceResult(summary=f"{len(posts)} posts; best: {DISPLAY_NAMES[best.platform]} "
                                     f"“{best.topic or best.post_id}” at {best.engagement_rate:.1%} engagement.",
                             posts=posts)


class SchedulePostArgs(ToolArgs):
    draft_id: str | None = None
    text: str | None = Field(default=None, max_length=5000)
    platform: SocialPlatformArg
    publish_at: FutureDatetime = Field(description="ISO 8601 with time zone; must be in the future.")
    account: str | None = None
    media_ids: list[str] = Field(default_factory=list, max_length=10,
                                 description="Images or a video from generate_image / generate_video to attach.")

    @model_validator(mode="after")
    def _one_body(self) -> SchedulePostArgs:
        if bool(self.draft_id) == bool(self.text):
            raise ValueError("give exactly one of draft_id or text")
        return self


class ScheduleResult(ToolResult):
    scheduled: ScheduledPost


def _check_body(ctx: ToolContext, args: SchedulePostArgs | PublishPostArgs) -> None:
    """The draft exists, its text fits the platform and its media meet the platform's limits."""
    body = ctx.studio.content.get_draft(ctx.workspace, args.draft_id).text if args.draft_id else args.text
    check_length(args.platform, body or "")
    ctx.studio.media.check_for_platform(ctx.workspace, args.platform, args.media_ids)


def _preview_schedule(ctx: ToolContext, args: SchedulePostArgs) -> str:
    body = ctx.studio.content.get_draft(ctx.workspace, args.draft_id).text if args.draft_id else args.text
    when = args.publish_at.astimezone(ctx.zone).strftime("%a %d %b %Y %H:%M")
    return (f"Schedule on {DISPLAY_NAMES[args.platform]} for {when} ({ctx.workspace.timezone}):\n{body}"
            f"{_attachments(args.media_ids)}")


@tool("content", side_effect=True, preview=_preview_schedule, check=_check_body)
def schedule_post(ctx: ToolContext, args: SchedulePostArgs) -> ScheduleResult:
    """Put a draft (or text) in the calendar to be published on a platform at a given time."""
    ctx.studio.media.check_for_platform(ctx.workspace, args.platform, args.media_ids)
    scheduled = ctx.studio.content.schedule(ctx.workspace, draft_id=args.draft_id, text=args.text,
                                            platform=args.platform, publish_at=args.publish_at,
                                            account=args.account, idempotency_key=ctx.require_idempotency_key(),
                                            now=ctx.now, media_ids=args.media_ids)
    when = scheduled.publish_at.astimezone(ctx.zone).strftime("%A %d %B %H:%M")
    return ScheduleResult(summary=f"Scheduled for {DISPLAY_NAMES[scheduled.platform]} on {when} "
                                  f"({ctx.workspace.timezone}).", scheduled=scheduled)


class PublishPostArgs(ToolArgs):
    draft_id: str | None = None
    text: str | None = Field(default=None, max_length=5000)
    platform: SocialPlatformArg
    account: str | None = None
    media_ids: list[str] = Field(default_factory=list, max_length=10,
                                 description="Images or a video from generate_image / generate_video to attach.")

    @model_validator(mode="after")
    def _one_body(self) -> PublishPostArgs:
        if bool(self.draft_id) == bool(self.text):
            raise ValueError("give exactly one of draft_id or text")
        return self


class PublishResult(ToolResult):
    post: PublishedPost


def _preview_publish(ctx: ToolContext, args: PublishPostArgs) -> str:
    body = ctx.studio.content.get_draft(ctx.workspace, args.draft_id).text if args.draft_id else args.text
    return f"Publish now on {DISPLAY_NAMES[args.platform]}:\n{body}{_attachments(args.media_ids)}"


def _attachments(media_ids: list[str]) -> str:
    return f"\nAttached: {', '.join(media_ids)}" if media_ids else ""


@tool("content", side_effect=True, preview=_preview_publish, check=_check_body)
def publish_post(ctx: ToolContext, args: PublishPostArgs) -> PublishResult:
    """Publish a draft (or text) on a platform now."""
    ctx.studio.media.check_for_platform(ctx.workspace, args.platform, args.media_ids)
    post = ctx.studio.content.publish(ctx.workspace, draft_id=args.draft_id, text=args.text,
                                      platform=args.platform, account=args.account,
                                      idempotency_key=ctx.require_idempotency_key(),
                                      media=ctx.studio.content.media_paths(ctx.workspace, args.media_ids))
    ctx.studio.events.publish("content.published", ctx.workspace.id, {"post_id": post.id, "platform": post.platform,
                              "url": post.url, "draft_id": args.draft_id}, source="content",
                              correlation_id=ctx.run_id, key=ctx.require_idempotency_key())
    return PublishResult(summary=f"Published on {DISPLAY_NAMES[post.platform]}: {post.url}", post=post)
