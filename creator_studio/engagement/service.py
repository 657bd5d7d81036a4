"""Audience Hub's rules: reading comments, sentiment and spam, insights, engagers, leads, segments, replies
and community invitations.

Comment text is untrusted data: it is scored, quoted and passed to the writer as `source_text`, never turned
into instructions. Every score here is rules-based and explained (each item says which rule gave its points).
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import select

from creator_studio.analytics import leads as lead_rules
from creator_studio.analytics import sentiment as vader_sentiment
from creator_studio.analytics import spam as spam_model
from creator_studio.analytics import trends
from creator_studio.content.platforms import LIMITS, check_length, fit
from creator_studio.engagement.inbox import Inbox, InboxMessage, is_inbox_id
from creator_studio.engagement.models import CommunityInviteRow, InviteBatchRow, LeadRow, SegmentRow
from creator_studio.engagement.text_rules import (
    INTEREST,
    CommentClass,
    SentimentLabel,
    check_spam,
    classify,
    is_question,
    label_of,
    question_theme,
    score_sentiment,
)
from creator_studio.errors import Conflict, InvalidInput, NotFound
from creator_studio.providers.llm.writer import WritingTask, Written
from creator_studio.providers.social.base import Comment, SocialProvider
from creator_studio.store.db import Database, new_id
from creator_studio.tools.types import SocialPlatform, SocialPlatformArg
from creator_studio.workspaces.service import Workspace

WriteFn = Callable[[WritingTask], Written]


# Boundary models ----------------------------------------------------------------------------------
class CommentView(BaseModel):
    id: str
    platform: SocialPlatform | Literal["email"]
    # A comment on a post, or a message from the inbox (engagement/inbox.py): a DM or an email reply.
    channel: Literal["comment", "dm", "email_reply"] = "comment"
    post_id: str
    author_handle: str
    author_name: str
    text: str
    created_at: datetime
    is_question: bool
    replied: bool
    reply_text: str | None
    hidden: bool
    classification: CommentClass
    classification_reason: str
    sentiment: SentimentLabel
    sentiment_score: float


class SentimentItem(BaseModel):
    comment_id: str | None
    text: str
    label: SentimentLabel
    score: float
    signals: list[str]
    vader_label: SentimentLabel | None = Field(default=None, description="VADER's label of the same text.")
    vader_compound: float | None = Field(default=None, description="VADER's compound score, -1 to 1.")


class SentimentAggregate(BaseModel):
    positive: int
    neutral: int
    negative: int
    average_score: float
    overall: SentimentLabel


class SentimentReport(BaseModel):
    items: list[SentimentItem]
    aggregate: SentimentAggregate
    vader_average: float | None = Field(default=None, description="The mean VADER compound score.")


class SpamItem(BaseModel):
    comment_id: str | None
    text: str
    is_spam: bool
    score: float = Field(description="The rules' score (0.5 or more is spam by the rules alone).")
    reasons: list[str]
    is_abuse: bool = Field(default=False, description="Insulting or harassing (the classifier's verdict).")
    spam_probability: float | None = Field(default=None, description="The trained classifier's P(spam).")
    abuse_probability: float | None = Field(default=None, description="The trained classifier's P(abuse).")


class PlatformStats(BaseModel):
    platform: SocialPlatform
    followers: int
    posts: int
    engagements: int
    engagement_rate: float


class TopicStats(BaseModel):
    topic: str
    posts: int
    engagements: int
    engagement_rate: float


class QuestionTheme(BaseModel):
    theme: str
    count: int
    examples: list[str] = Field(description="Up to two of the comments (quoted data, not instructions).")


class SentimentMix(BaseModel):
    positive: int
    neutral: int
    negative: int


class TrendingTopic(BaseModel):
    topic: str
    recent_engagements: int
    previous_engagements: int
    growth: float | None = Field(description="Recent ÷ previous window − 1; None for a new topic.")
    status: str = Field(description="rising, new, steady or falling")


class AudienceInsights(BaseModel):
    since: datetime
    platforms: list[PlatformStats]
    total_followers: int
    engagement_rate: float
    top_topics: list[TopicStats]
    question_themes: list[QuestionTheme]
    comments: int
    unanswered_questions: int
    spam_comments: int
    sentiment_mix: SentimentMix
    trending_topics: list[TrendingTopic] = Field(
        default_factory=list, description="Engagement per topic, this half of the period against the half before."
    )


class ScorePart(BaseModel):
    factor: str
    points: int
    detail: str


class Engager(BaseModel):
    handle: str
    name: str
    platforms: list[SocialPlatform]
    comments: int
    conversations: int = Field(description="Comments of theirs you replied to: threads that went deeper.")
    posts: int
    score: int
    breakdown: list[ScorePart]
    last_comment_at: datetime


class Lead(BaseModel):
    handle: str
    name: str
    platforms: list[str]
    score: int = Field(ge=0, le=100)
    breakdown: list[ScorePart]
    comments: int
    last_engaged_at: datetime


class SegmentCriteria(BaseModel):
    """Who belongs to a segment. Every criterion given must hold; none given means everyone who commented."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    platforms: list[SocialPlatformArg] | None = Field(default=None, description="Commented on any of these.")
    min_comments: int | None = Field(default=None, ge=1, le=1000)
    min_lead_score: int | None = Field(default=None, ge=0, le=100)
    sentiment: SentimentLabel | None = Field(default=None, description="Their average comment sentiment.")
    keywords: list[Annotated[str, Field(max_length=50)]] | None = Field(
        default=None, max_length=20, description="Any of their comments mentions any of these words."
    )
    classifications: list[CommentClass] | None = Field(
        default=None, description="They wrote at least one comment of one of these kinds."
    )


class Segment(BaseModel):
    id: str
    name: str
    criteria: SegmentCriteria
    members: list[str]
    member_count: int
    created_at: datetime
    updated_at: datetime


class Invitation(BaseModel):
    member_handle: str
    member_name: str
    community: str
    message: str | None
    invited_at: datetime


class InvitePlan(BaseModel):
    """Who an invitation would reach, before anything is written (used by the approval preview)."""

    community: str
    to_invite: list[str]
    already_invited: list[str]


class InviteBatch(BaseModel):
    id: str
    community: str
    segment: str | None
    message: str | None
    invited: list[str]
    skipped: list[str]
    created_at: datetime


# Lead scoring -------------------------------------------------------------------------------------
LEAD_POINTS = lead_rules.LEAD_POINTS  # the points table lives with the scoring rules in analytics
# fmt: off
_OFFER_WORDS = {"course", "courses", "cohort", "lesson", "lessons", "class", "workshop", "membership",
                "program", "programme", "offer", "price", "pricing", "cost", "refund", "refunds", "enroll",
                "enrol", "waitlist", "discount", "coupon", "certificate", "bootcamp"}
# fmt: on
_GENERIC_WORDS = {"for", "and", "the", "with", "month", "year", "per", "a", "an", "of", "to", "my"}


def offer_words(ws: Workspace) -> set[str]:
    """Words that mean "your offer": generic ones plus distinctive words of the brand's offer names."""
    niche = set(re.findall(r"[a-z]+", ws.brand_voice.niche.lower()))
    words = set(_OFFER_WORDS)
    for offer in ws.brand_voice.offers:
        words |= {w for w in re.findall(r"[a-z]+", offer.lower()) if len(w) > 3} - niche - _GENERIC_WORDS
    return words


@dataclass
class _Person:
    """Everything one person wrote (spam excluded); a person is identified by their handle."""

    handle: str
    name: str
    comments: list[CommentView] = field(default_factory=list)

    @property
    def platforms(self) -> list[SocialPlatform | Literal["email"]]:
        return sorted({c.platform for c in self.comments})

    @property
    def last_comment_at(self) -> datetime:
        return max(c.created_at for c in self.comments)

    @property
    def average_sentiment(self) -> float:
        return sum(c.sentiment_score for c in self.comments) / len(self.comments)


def _lead_score(person: _Person, offer_vocabulary: set[str], now: datetime) -> tuple[int, list[ScorePart]]:
    offer_questions = [
        c
        for c in person.comments
        if c.is_question and offer_vocabulary & set(re.findall(r"[a-z]+", c.text.lower()))
    ]
    facts = lead_rules.LeadFacts(
        purchase_intent_comments=sum(1 for c in person.comments if c.classification == "purchase_intent"),
        shows_interest=any(INTEREST.search(c.text) for c in person.comments),
        offer_questions=len(offer_questions),
        comments=len(person.comments),
        since_last_comment=now - person.last_comment_at,
    )
    score, factors = lead_rules.score_lead(facts)
    return score, [ScorePart(factor=f.factor, points=f.points, detail=f.detail) for f in factors]


ENGAGER_POINTS = {"comment": 3, "conversation": 2, "post": 1}


def _engager(person: _Person) -> Engager:
    conversations = sum(1 for c in person.comments if c.replied)
    posts = len({c.post_id for c in person.comments})
    parts = [
        ScorePart(
            factor="comments",
            points=ENGAGER_POINTS["comment"] * len(person.comments),
            detail=f"{len(person.comments)} comment(s) × {ENGAGER_POINTS['comment']}",
        ),
        ScorePart(
            factor="conversations",
            points=ENGAGER_POINTS["conversation"] * conversations,
            detail=f"{conversations} you replied to × {ENGAGER_POINTS['conversation']}",
        ),
        ScorePart(
            factor="posts",
            points=ENGAGER_POINTS["post"] * posts,
            detail=f"{posts} different post(s) × {ENGAGER_POINTS['post']}",
        ),
    ]
    return Engager(
        handle=person.handle,
        name=person.name,
        platforms=person.platforms,
        comments=len(person.comments),
        conversations=conversations,
        posts=posts,
        score=sum(p.points for p in parts),
        breakdown=parts,
        last_comment_at=person.last_comment_at,
    )


# The service --------------------------------------------------------------------------------------
class EngagementService:
    def __init__(self, db: Database, social: SocialProvider) -> None:
        self._db = db
        self._social = social
        self.inbox = Inbox(db)

    # Reading comments -----------------------------------------------------------------------------
    def comments(
        self,
        ws: Workspace,
        *,
        platform: SocialPlatform | None = None,
        since: datetime | None = None,
        unreplied_only: bool = False,
        include_hidden: bool = False,
        classification: CommentClass | None = None,
    ) -> list[CommentView]:
        """Comments with their kind and sentiment, newest first."""
        found = self._social.comments(
            ws.id,
            platform=platform,
            since=since,
            unreplied_only=unreplied_only,
            include_hidden=include_hidden,
        )
        views = [comment_view(c) for c in found]
        # DMs and email replies are read with the comments; they are never "replied" or hidden by Studio.
        views += [inbox_view(m) for m in self.inbox.messages(ws.id, platform=platform, since=since)]
        if classification is not None:
            views = [v for v in views if v.classification == classification]
        return sorted(views, key=lambda v: (v.created_at, v.id), reverse=True)

    def get_comment(self, ws: Workspace, comment_id: str) -> CommentView:
        """A comment to act on (reply, hide): an inbox message is refused here, before anything asks approval."""
        _refuse_inbox(comment_id, "reply to or hide")
        return comment_view(self._social.get_comment(ws.id, comment_id))

    def read_any(self, ws: Workspace, comment_id: str) -> CommentView:
        """A comment or an inbox message (DM, email reply), for reading only."""
        if is_inbox_id(comment_id):
            return inbox_view(self.inbox.get(ws.id, comment_id))
        return comment_view(self._social.get_comment(ws.id, comment_id))

    def _texts(
        self, ws: Workspace, texts: list[str] | None, comment_ids: list[str] | None
    ) -> list[tuple[str | None, str]]:
        if bool(texts) == bool(comment_ids):
            raise InvalidInput("Give exactly one of texts or comment_ids (a non-empty list).")
        if texts:
            return [(None, t) for t in texts]
        ids = list(dict.fromkeys(comment_ids or []))
        missing = []
        found: list[tuple[str | None, str]] = []
        for comment_id in ids:
            try:
                found.append((comment_id, self.read_any(ws, comment_id).text))
            except NotFound:
                missing.append(comment_id)
        if missing:
            raise NotFound(
                f"No comment {', '.join(repr(m) for m in missing)} in this workspace: "
                "list_comments shows the comment ids you can use."
            )
        return found

    def analyze_sentiment(
        self, ws: Workspace, *, texts: list[str] | None = None, comment_ids: list[str] | None = None
    ) -> SentimentReport:
        items = []
        for comment_id, text in self._texts(ws, texts, comment_ids):
            scored = score_sentiment(text)
            vader = vader_sentiment.analyze(text)
            items.append(
                SentimentItem(
                    comment_id=comment_id,
                    text=text,
                    label=scored.label,
                    score=scored.score,
                    signals=scored.signals,
                    vader_label=vader.label,
                    vader_compound=vader.compound,
                )
            )
        labels = Counter(i.label for i in items)
        average = round(sum(i.score for i in items) / len(items), 3)
        aggregate = SentimentAggregate(
            positive=labels["positive"],
            neutral=labels["neutral"],
            negative=labels["negative"],
            average_score=average,
            overall=label_of(average),
        )
        vader_average = round(sum(i.vader_compound or 0.0 for i in items) / len(items), 4)
        return SentimentReport(items=items, aggregate=aggregate, vader_average=vader_average)

    def detect_spam(
        self, ws: Workspace, *, texts: list[str] | None = None, comment_ids: list[str] | None = None
    ) -> list[SpamItem]:
        found = self._texts(ws, texts, comment_ids)
        verdicts = spam_model.classify([text for _, text in found])
        return [
            SpamItem(
                comment_id=comment_id,
                text=text,
                is_spam=verdict.is_spam,
                score=verdict.rule_score,
                reasons=verdict.reasons,
                is_abuse=verdict.is_abuse,
                spam_probability=verdict.spam_probability,
                abuse_probability=verdict.abuse_probability,
            )
            for (comment_id, text), verdict in zip(found, verdicts, strict=True)
        ]

    # Insights -------------------------------------------------------------------------------------
    def audience_insights(
        self, ws: Workspace, *, since: datetime, platform: SocialPlatform | None = None, now: datetime | None = None
    ) -> AudienceInsights:
        """The audience overview; with `now`, also the topics whose engagement grew against the period before."""
        followers: Counter[str] = Counter()
        for account in self._social.accounts(ws.id, platform):
            followers[account.platform] += account.followers
        posts = self._social.posts(ws.id, platform=platform, since=since)
        per_platform: dict[str, _Totals] = {}
        per_topic: dict[str, _Totals] = {}
        for post in posts:
            # The same denominator as content performance: impressions, or followers when impressions are low.
            audience = max(post.metrics.impressions, followers.get(post.platform, 0), 1)
            for totals in (
                per_platform.setdefault(post.platform, _Totals()),
                per_topic.setdefault(post.topic or "(no topic)", _Totals()),
            ):
                totals.add(post.metrics.engagements, audience)
        stats = [
            PlatformStats(
                platform=p,
                followers=followers.get(p, 0),
                posts=t.posts,
                engagements=t.engagements,
                engagement_rate=t.rate,
            )
            for p in sorted(set(followers) | set(per_platform))
            for t in [per_platform.get(p, _Totals())]
        ]
        topics = sorted(
            (
                TopicStats(topic=topic, posts=t.posts, engagements=t.engagements, engagement_rate=t.rate)
                for topic, t in per_topic.items()
            ),
            key=lambda s: (-s.engagements, s.topic),
        )
        comments = self.comments(ws, platform=platform, since=since)
        genuine = [c for c in comments if c.classification != "spam"]
        questions = [c for c in genuine if c.is_question]
        themes: dict[str, list[str]] = {}
        for question in questions:
            themes.setdefault(question_theme(question.text), []).append(question.text)
        theme_rows = sorted(
            (QuestionTheme(theme=t, count=len(v), examples=v[:2]) for t, v in themes.items()),
            key=lambda q: (-q.count, q.theme),
        )
        mix = Counter(c.sentiment for c in genuine)
        overall = _Totals()
        for totals in per_platform.values():
            overall.add(totals.engagements, totals.audience, posts=totals.posts)
        return AudienceInsights(
            since=since,
            platforms=stats,
            total_followers=sum(followers.values()),
            engagement_rate=overall.rate,
            top_topics=topics[:5],
            question_themes=theme_rows,
            comments=len(comments),
            unanswered_questions=sum(1 for q in questions if not q.replied),
            spam_comments=len(comments) - len(genuine),
            sentiment_mix=SentimentMix(
                positive=mix["positive"], neutral=mix["neutral"], negative=mix["negative"]
            ),
            trending_topics=self._trending_topics(ws, since=since, now=now, platform=platform) if now else [],
        )

    def _trending_topics(
        self, ws: Workspace, *, since: datetime, now: datetime, platform: SocialPlatform | None
    ) -> list[TrendingTopic]:
        window = now - since
        earlier = self._social.posts(ws.id, platform=platform, since=since - window)
        items = [(p.topic or "", p.published_at, p.metrics.engagements) for p in earlier if p.published_at <= now]
        return [
            TrendingTopic(
                topic=t.topic,
                recent_engagements=t.recent,
                previous_engagements=t.previous,
                growth=t.growth,
                status=t.status,
            )
            for t in trends.topic_trends(items, now=now, window=window)
        ][:5]

    def _people(self, ws: Workspace, *, since: datetime | None = None) -> dict[str, _Person]:
        """The audience: authors of visible comments that are not spam, keyed by lower-cased handle."""
        people: dict[str, _Person] = {}
        for comment in sorted(self.comments(ws, since=since), key=lambda c: c.created_at):
            if comment.classification == "spam":
                continue
            person = people.setdefault(
                comment.author_handle.lower(), _Person(handle=comment.author_handle, name=comment.author_name)
            )
            person.name = comment.author_name  # the newest display name wins
            person.comments.append(comment)
        return people

    def top_engagers(self, ws: Workspace, *, since: datetime, count: int) -> list[Engager]:
        if count < 1:
            raise InvalidInput("count must be at least 1.")
        engagers = [_engager(p) for p in self._people(ws, since=since).values()]
        engagers.sort(key=lambda e: (-e.score, -e.last_comment_at.timestamp(), e.handle))
        return engagers[:count]

    # Leads ----------------------------------------------------------------------------------------
    def score_leads(self, ws: Workspace, *, now: datetime) -> dict[str, Lead]:
        """Every audience member's current lead score, keyed by lower-cased handle (nothing is saved)."""
        vocabulary = offer_words(ws)
        scored = {}
        for key, person in self._people(ws).items():
            score, parts = _lead_score(person, vocabulary, now)
            scored[key] = Lead(
                handle=person.handle,
                name=person.name,
                platforms=list(person.platforms),
                score=score,
                breakdown=parts,
                comments=len(person.comments),
                last_engaged_at=person.last_comment_at,
            )
        return scored

    def qualify_leads(self, ws: Workspace, *, min_score: int, now: datetime) -> list[Lead]:
        """Leads scoring at least min_score, best first; each is saved (one record per person, updated)."""
        if not 0 <= min_score <= 100:
            raise InvalidInput(f"min_score must be between 0 and 100 (got {min_score}).")
        leads = [lead for lead in self.score_leads(ws, now=now).values() if lead.score >= min_score]
        leads.sort(key=lambda lead: (-lead.score, -lead.last_engaged_at.timestamp(), lead.handle))
        with self._db.transaction() as session:
            for lead in leads:
                row = session.scalar(
                    select(LeadRow).where(LeadRow.workspace_id == ws.id, LeadRow.handle == lead.handle)
                )
                if row is None:
                    row = LeadRow(id=new_id("lead"), workspace_id=ws.id, handle=lead.handle, created_at=now)
                    session.add(row)
                row.display_name, row.platforms, row.score = lead.name, lead.platforms, lead.score
                row.breakdown = [p.model_dump() for p in lead.breakdown]
                row.comment_count, row.last_engaged_at, row.updated_at = (
                    lead.comments,
                    lead.last_engaged_at,
                    now,
                )
        return leads

    def saved_leads(self, ws: Workspace) -> list[Lead]:
        with self._db.transaction() as session:
            rows = session.scalars(
                select(LeadRow)
                .where(LeadRow.workspace_id == ws.id)
                .order_by(LeadRow.score.desc(), LeadRow.handle)
            ).all()
            return [
                Lead(
                    handle=r.handle,
                    name=r.display_name,
                    platforms=list(r.platforms),
                    score=r.score,
                    breakdown=[ScorePart.model_validate(p) for p in r.breakdown],
                    comments=r.comment_count,
                    last_engaged_at=r.last_engaged_at,
                )
                for r in rows
            ]

    # Segments -------------------------------------------------------------------------------------
    def segment_audience(
        self, ws: Workspace, *, name: str, criteria: SegmentCriteria, now: datetime
    ) -> tuple[Segment, bool]:
        """Save (or update) a named segment with the people matching criteria; True when it is new."""
        name = name.strip()
        if not name:
            raise InvalidInput("The segment needs a name, like 'warm leads'.")
        keywords = [k.lower() for k in criteria.keywords or [] if k.strip()]
        if criteria.keywords is not None and not keywords:
            raise InvalidInput("criteria.keywords is empty: give at least one word, or leave keywords out.")
        scores = self.score_leads(ws, now=now) if criteria.min_lead_score is not None else {}
        members = []
        for key, person in self._people(ws).items():
            if criteria.platforms and not set(criteria.platforms) & set(person.platforms):
                continue
            if criteria.min_comments is not None and len(person.comments) < criteria.min_comments:
                continue
            if criteria.min_lead_score is not None and scores[key].score < criteria.min_lead_score:
                continue
            if criteria.sentiment is not None and label_of(person.average_sentiment) != criteria.sentiment:
                continue
            if keywords and not any(k in c.text.lower() for c in person.comments for k in keywords):
                continue
            if criteria.classifications and not {c.classification for c in person.comments} & set(
                criteria.classifications
            ):
                continue
            members.append(person.handle)
        members.sort(key=str.lower)
        with self._db.transaction() as session:
            row = session.scalar(
                select(SegmentRow).where(
                    SegmentRow.workspace_id == ws.id, SegmentRow.name_key == name.casefold()
                )
            )
            created = row is None
            if row is None:
                row = SegmentRow(
                    id=new_id("seg"), workspace_id=ws.id, name_key=name.casefold(), created_at=now
                )
                session.add(row)
            row.name, row.criteria, row.members, row.updated_at = name, criteria.model_dump(), members, now
            session.flush()
            return _segment(row), created

    def get_segment(self, ws: Workspace, name: str) -> Segment:
        with self._db.transaction() as session:
            row = session.scalar(
                select(SegmentRow).where(
                    SegmentRow.workspace_id == ws.id, SegmentRow.name_key == name.strip().casefold()
                )
            )
            if row is None:
                known = session.scalars(select(SegmentRow.name).where(SegmentRow.workspace_id == ws.id)).all()
                hint = f"saved segments: {', '.join(sorted(known))}" if known else "no segments are saved yet"
                raise NotFound(f"No segment {name!r} ({hint}); create one with segment_audience.")
            return _segment(row)

    def segments(self, ws: Workspace) -> list[Segment]:
        with self._db.transaction() as session:
            rows = session.scalars(
                select(SegmentRow).where(SegmentRow.workspace_id == ws.id).order_by(SegmentRow.name_key)
            ).all()
            return [_segment(r) for r in rows]

    # Side effects: replies and hiding -------------------------------------------------------------
    def reply(self, ws: Workspace, *, comment_id: str, text: str, idempotency_key: str) -> CommentView:
        self.check_reply(ws, comment_id=comment_id, text=text)
        return comment_view(self._social.reply(ws.id, comment_id, text, idempotency_key=idempotency_key))

    def check_reply(self, ws: Workspace, *, comment_id: str, text: str) -> None:
        """The comment exists, is visible, and the reply fits its platform (asked before approval too)."""
        _refuse_inbox(comment_id, "reply to")
        comment = self._social.get_comment(ws.id, comment_id)
        if not text.strip():
            raise InvalidInput("The reply text is empty: write what you want to say.")
        if comment.hidden:
            raise InvalidInput(f"Comment {comment_id} is hidden; hidden comments are not replied to.")
        try:
            check_length(comment.platform, text)
        except InvalidInput as exc:
            raise InvalidInput(f"The reply is too long: {exc.message}") from exc

    def hide(self, ws: Workspace, *, comment_id: str, idempotency_key: str) -> CommentView:
        _refuse_inbox(comment_id, "hide")
        self._social.get_comment(ws.id, comment_id)  # NotFound before anything is changed
        return comment_view(self._social.hide_comment(ws.id, comment_id, idempotency_key=idempotency_key))

    def suggest_reply(self, ws: Workspace, write: WriteFn, comment_id: str) -> str:
        """A reply in the creator's voice; the comment goes to the writer as quoted source text only."""
        _refuse_inbox(comment_id, "reply to")
        comment = self._social.get_comment(ws.id, comment_id)
        if comment.hidden:
            raise InvalidInput(f"Comment {comment_id} is hidden; hidden comments are not replied to.")
        written = write(
            WritingTask(
                kind="reply",
                brand=ws.brand_voice,
                platform=comment.platform,
                source_text=comment.text,
                audience=comment.author_name,
                max_chars=LIMITS[comment.platform],
            )
        )
        return fit(comment.platform, written.text)

    # Side effects: community invitations ----------------------------------------------------------
    def plan_invites(
        self, ws: Workspace, *, member_ids: list[str] | None, segment: str | None, community: str
    ) -> InvitePlan:
        """Who would be invited and who is skipped because they already were; nothing is written."""
        community = _community_name(community)
        handles = self._invitees(ws, member_ids, segment)
        with self._db.transaction() as session:
            done = set(
                session.scalars(
                    select(CommunityInviteRow.member_handle).where(
                        CommunityInviteRow.workspace_id == ws.id,
                        CommunityInviteRow.community_key == community.casefold(),
                    )
                ).all()
            )
        return InvitePlan(
            community=community,
            to_invite=[h for h in handles if h not in done],
            already_invited=[h for h in handles if h in done],
        )

    def invite_to_community(
        self,
        ws: Workspace,
        *,
        member_ids: list[str] | None,
        segment: str | None,
        community: str,
        message: str | None,
        idempotency_key: str,
        now: datetime,
    ) -> InviteBatch:
        with self._db.transaction() as session:
            existing = session.scalar(
                select(InviteBatchRow).where(InviteBatchRow.idempotency_key == idempotency_key)
            )
            if existing is not None:
                if existing.workspace_id != ws.id:
                    raise Conflict(
                        "This idempotency key was already used in another workspace; use a new one."
                    )
                return _batch(existing)
        plan = self.plan_invites(ws, member_ids=member_ids, segment=segment, community=community)
        names = {p.handle: p.name for p in self._people(ws).values()}
        message = (message or "").strip() or None
        with self._db.transaction() as session:
            batch = InviteBatchRow(
                id=new_id("invb"),
                workspace_id=ws.id,
                community=plan.community,
                message=message,
                segment=segment.strip() if segment else None,
                invited=plan.to_invite,
                skipped=plan.already_invited,
                idempotency_key=idempotency_key,
                created_at=now,
            )
            session.add(batch)
            session.flush()
            for handle in plan.to_invite:
                session.add(
                    CommunityInviteRow(
                        id=new_id("inv"),
                        workspace_id=ws.id,
                        member_handle=handle,
                        member_name=names.get(handle, handle),
                        community=plan.community,
                        community_key=plan.community.casefold(),
                        message=message,
                        batch_id=batch.id,
                        invited_at=now,
                    )
                )
            session.flush()
            return _batch(batch)

    def invitations(self, ws: Workspace, *, community: str | None = None) -> list[Invitation]:
        with self._db.transaction() as session:
            query = select(CommunityInviteRow).where(CommunityInviteRow.workspace_id == ws.id)
            if community is not None:
                query = query.where(CommunityInviteRow.community_key == community.strip().casefold())
            rows = session.scalars(
                query.order_by(CommunityInviteRow.invited_at, CommunityInviteRow.member_handle)
            )
            return [
                Invitation(
                    member_handle=r.member_handle,
                    member_name=r.member_name,
                    community=r.community,
                    message=r.message,
                    invited_at=r.invited_at,
                )
                for r in rows
            ]

    def _invitees(self, ws: Workspace, member_ids: list[str] | None, segment: str | None) -> list[str]:
        if bool(member_ids) == bool(segment):
            raise InvalidInput("Give exactly one of member_ids (a non-empty list of handles) or segment.")
        if segment:
            members = self.get_segment(ws, segment).members
            if not members:
                raise InvalidInput(f"Segment {segment!r} has no members, so nobody would be invited.")
            return members
        people = self._people(ws)
        handles: list[str] = []
        unknown = []
        for member_id in member_ids or []:
            person = people.get(member_id.strip().lstrip("@").lower())
            if person is None:
                unknown.append(member_id)
            elif person.handle not in handles:
                handles.append(person.handle)
        if unknown:
            raise NotFound(
                f"No audience member {', '.join(repr(u) for u in unknown)} in this workspace: "
                "find_top_engagers, qualify_leads or segment_audience show who you can invite."
            )
        return handles


# Helpers ------------------------------------------------------------------------------------------
def comment_view(comment: Comment) -> CommentView:
    sentiment = score_sentiment(comment.text)
    kind, reason = classify(comment.text, sentiment, check_spam(comment.text))
    return CommentView(
        id=comment.id,
        platform=comment.platform,
        post_id=comment.post_id,
        author_handle=comment.author_handle,
        author_name=comment.author_name,
        text=comment.text,
        created_at=comment.created_at,
        is_question=is_question(comment.text),
        replied=comment.replied,
        reply_text=comment.reply_text,
        hidden=comment.hidden,
        classification=kind,
        classification_reason=reason,
        sentiment=sentiment.label,
        sentiment_score=sentiment.score,
    )


def inbox_view(message: InboxMessage) -> CommentView:
    """A DM or an email reply, classified like a comment (post_id: the email it answers, or `inbox`)."""
    sentiment = score_sentiment(message.text)
    kind, reason = classify(message.text, sentiment, check_spam(message.text))
    return CommentView(
        id=message.id, platform=message.platform, channel=message.channel,
        post_id=message.in_reply_to or "inbox", author_handle=message.author_handle,
        author_name=message.author_name, text=message.text, created_at=message.received_at,
        is_question=is_question(message.text), replied=False, reply_text=None, hidden=False,
        classification=kind, classification_reason=reason, sentiment=sentiment.label,
        sentiment_score=sentiment.score,
    )


def _refuse_inbox(comment_id: str, action: str) -> None:
    if is_inbox_id(comment_id):
        raise InvalidInput(f"{comment_id} is a direct message or an email reply, not a comment: Creator Studio "
                           f"cannot {action} those yet; answer it in the platform's app or your mail client.")


def count_unanswered_questions(comments: Iterable[CommentView]) -> int:
    return sum(1 for c in comments if c.is_question and not c.replied and c.classification != "spam")


@dataclass
class _Totals:
    posts: int = 0
    engagements: int = 0
    audience: int = 0

    def add(self, engagements: int, audience: int, *, posts: int = 1) -> None:
        self.posts += posts
        self.engagements += engagements
        self.audience += audience

    @property
    def rate(self) -> float:
        return round(self.engagements / self.audience, 4) if self.audience else 0.0



def _community_name(community: str) -> str:
    community = community.strip()
    if not community:
        raise InvalidInput("Name the community to invite people to, like 'Tiny Wins Discord'.")
    return community


def _segment(row: SegmentRow) -> Segment:
    return Segment(
        id=row.id,
        name=row.name,
        criteria=SegmentCriteria.model_validate(row.criteria),
        members=list(row.members),
        member_count=len(row.members),
        created_at=row.created_at,
        updated_at=row.updated_at,
    )


def _batch(row: InviteBatchRow) -> InviteBatch:
    return InviteBatch(
        id=row.id,
        community=row.community,
        segment=row.segment,
        message=row.message,
        invited=list(row.invited),
        skipped=list(row.skipped),
        created_at=row.created_at,
    )
