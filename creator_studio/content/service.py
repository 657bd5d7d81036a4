"""Content Studio's rules: drafts, variants, newsletters, the calendar, publishing and brand checks."""

from __future__ import annotations

import hashlib
import logging
import re
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta
from itertools import zip_longest
from pathlib import Path

from pydantic import BaseModel, Field
from rapidfuzz import fuzz
from sqlalchemy import select, update

from creator_studio.content.models import DraftRow, MediaAssetRow, ScheduledPostRow
from creator_studio.content.platforms import LIMITS, check_length, fit
from creator_studio.errors import Conflict, InvalidInput, NotFound
from creator_studio.memory.records import Example
from creator_studio.memory.service import MemoryService
from creator_studio.providers.llm.writer import WritingTask, Written
from creator_studio.providers.social.base import PostMetrics, PublishedPost, SocialProvider
from creator_studio.store.db import Database, new_id, utcnow
from creator_studio.workspaces.service import BrandVoice, Workspace

WriteFn = Callable[[WritingTask], Written]
log = logging.getLogger(__name__)


class Draft(BaseModel):
    id: str
    kind: str
    platform: str
    topic: str | None
    title: str | None
    text: str
    status: str
    generated_by: str
    source_id: str | None
    version: int
    created_at: datetime
    # Not stored: the past posts vector memory retrieved to steer this draft (empty when read back later).
    example_ids: list[str] = Field(default_factory=list)


class StaleDraftVersion(Conflict):
    """An edit based on an older version than the stored one; `current` is the draft as it is now."""

    def __init__(self, current: Draft, expected: int) -> None:
        super().__init__(f"Draft {current.id} changed since you read it (you edited version {expected}, it is now "
                         f"version {current.version}): read it again and redo your change on that version.")
        self.current = current
        self.expected = expected


class ScheduledPost(BaseModel):
    id: str
    draft_id: str | None
    platform: str
    account: str | None
    text: str
    publish_at: datetime
    status: str
    remote_post_id: str | None
    media_ids: list[str] = Field(default_factory=list)


class CalendarEntry(BaseModel):
    kind: str  # "scheduled" | "published"
    id: str
    platform: str
    at: datetime
    text: str
    status: str


class BrandIssue(BaseModel):
    rule: str
    detail: str


class PostPerformance(BaseModel):
    post_id: str
    platform: str
    topic: str | None
    published_at: datetime
    likes: int
    reposts: int
    replies: int
    clicks: int
    impressions: int
    engagement_rate: float
    url: str


class ContentService:
    def __init__(self, db: Database, social: SocialProvider, memory: MemoryService | None = None) -> None:
        self._db = db
        self._social = social
        self._memory = memory

    # Drafts ---------------------------------------------------------------------------------------
    def draft_post(self, ws: Workspace, write: WriteFn, *, platform: str, topic: str, tone: str | None,
                   call_to_action: str | None, audience: str | None, request_key: str | None = None) -> Draft:
        if platform == "email":
            raise InvalidInput("draft_post is for social platforms; use draft_newsletter for email.")
        brand, examples, example_ids = self._steering(ws, topic, platform=platform)
        written = write(WritingTask(kind="post", brand=brand, platform=platform, topic=topic, tone=tone,
                                    call_to_action=call_to_action, audience=audience,
                                    max_chars=LIMITS[platform], examples=examples))
        draft = self._save_draft(ws, kind="post", platform=platform, topic=topic, text=fit(platform, written.text),
                                 tone=tone, generated_by=written.model, request_key=request_key)
        return draft.model_copy(update={"example_ids": example_ids})

    def draft_newsletter(self, ws: Workspace, write: WriteFn, *, topic: str, segment: str | None,
                         request_key: str | None = None) -> Draft:
        brand, examples, example_ids = self._steering(ws, topic, platform=None)
        written = write(WritingTask(kind="newsletter", brand=brand, platform="email", topic=topic,
                                    audience=segment, examples=examples))
        title, _, body = written.text.partition("\n")
        draft = self._save_draft(ws, kind="newsletter", platform="email", topic=topic,
                                 title=title.removeprefix("Subject:").strip(), text=body.strip(),
                                 segment=segment, generated_by=written.model, request_key=request_key)
        return draft.model_copy(update={"example_ids": example_ids})

    def create_variants(self, ws: Workspace, write: WriteFn, *, source: str, count: int,
                        request_key: str | None = None) -> list[Draft]:
        base = self.resolve_source(ws, source)
        platform = base.platform if base.platform != "email" else "email"
        brand, examples, example_ids = self._steering(ws, base.topic or base.text[:300],
                                                      platform=None if platform == "email" else platform)
        examples = [e for e in examples if e.strip() != base.text.strip()]  # not the source itself
        drafts = []
        for index in range(count):
            written = write(WritingTask(kind="variant", brand=brand, platform=platform, topic=base.topic,
                                        source_text=base.text, variant_index=index + 1,
                                        max_chars=LIMITS.get(platform), examples=examples))
            draft = self._save_draft(ws, kind=base.kind, platform=platform, topic=base.topic,
                                     text=fit(platform, written.text), source_id=_source_id(base),
                                     generated_by=written.model, request_key=_nth(request_key, index))
            drafts.append(draft.model_copy(update={"example_ids": example_ids}))
        return drafts

    def _steering(self, ws: Workspace, topic: str, *, platform: str | None) -> tuple[BrandVoice, list[str], list[str]]:
        """What the writer leans on: the brand rules and the best-performing similar past posts from memory
        (same platform first; what worked elsewhere beats no example at all), then the creator's own example
        posts. Returns (brand voice, example texts, ids of the past posts used)."""
        if self._memory is None:  # a bare service (no vector memory): the fuzzy topic match
            similar = self.best_similar_posts(ws, topic, platform=platform, limit=3) or self.best_similar_posts(
                ws, topic, platform=None, limit=3)
            return ws.brand_voice, [p.text for p in similar], [p.id for p in similar]
        found: list[Example] = self._memory.best_examples(ws, topic, platform=platform, limit=3)
        if not found and platform is not None:
            found = self._memory.best_examples(ws, topic, platform=None, limit=3)
        own = [t for t in self._memory.brand_examples(ws, topic) if t not in {e.text for e in found}]
        return self._memory.brand_voice(ws), [e.text for e in found] + own, [e.post_id for e in found]

    def repurpose(self, ws: Workspace, write: WriteFn, *, source: str, platforms: list[str],
                  request_key: str | None = None) -> list[Draft]:
        base = self.resolve_source(ws, source)
        drafts = []
        for index, platform in enumerate(platforms):
            written = write(WritingTask(kind="repurpose", brand=ws.brand_voice, platform=platform,
                                        topic=base.topic, source_text=base.text, max_chars=LIMITS[platform]))
            drafts.append(self._save_draft(ws, kind="newsletter" if platform == "email" else "post",
                                           platform=platform, topic=base.topic, text=fit(platform, written.text),
                                           title=_subject(base) if platform == "email" else None,
                                           source_id=_source_id(base), generated_by=written.model,
                                           request_key=_nth(request_key, index)))
        return drafts

    def get_draft(self, ws: Workspace, draft_id: str) -> Draft:
        with self._db.transaction() as session:
            row = session.get(DraftRow, draft_id)
            if row is None or row.workspace_id != ws.id:
                raise NotFound(f"No draft {draft_id!r} in this workspace.")
            return _draft(row)

    def list_drafts(self, ws: Workspace, *, status: str | None = None, limit: int = 50) -> list[Draft]:
        """Drafts newest first, optionally only those in one status (draft, scheduled, published)."""
        with self._db.transaction() as session:
            query = select(DraftRow).where(DraftRow.workspace_id == ws.id)
            if status:
                query = query.where(DraftRow.status == status)
            rows = session.scalars(query.order_by(DraftRow.created_at.desc(), DraftRow.id).limit(limit)).all()
            return [_draft(row) for row in rows]

    def update_draft(self, ws: Workspace, draft_id: str, *, expected_version: int | None, text: str | None = None,
                     title: str | None = None, topic: str | None = None) -> Draft:
        """Edit a draft's text, title or topic if it is still at `expected_version` (None: whatever is stored).

        A compare-and-swap on the version, so two people editing at once never silently overwrite each other:
        the loser gets StaleDraftVersion with the stored draft. Only drafts not yet scheduled can change."""
        current = self.get_draft(ws, draft_id)
        if current.status != "draft":
            raise InvalidInput(f"status: draft {current.id} is already {current.status}; only drafts can be edited.")
        if text is not None:
            try:
                check_length(current.platform, text)
            except InvalidInput as exc:
                raise InvalidInput(f"text: {exc.message}") from exc
        expected = current.version if expected_version is None else expected_version
        changes: dict[str, object] = {"version": DraftRow.version + 1, "updated_at": utcnow()}
        if text is not None:
            changes["text"] = text
        if title is not None:
            changes["title"] = title
        if topic is not None:
            changes["topic"] = topic
        with self._db.transaction() as session:
            result = session.execute(update(DraftRow).where(DraftRow.id == current.id, DraftRow.workspace_id == ws.id,
                                                            DraftRow.version == expected).values(**changes))
            swapped = getattr(result, "rowcount", 0) == 1
            row = session.get(DraftRow, current.id)
            assert row is not None
            session.refresh(row)
            fresh = _draft(row)
        if not swapped:
            raise StaleDraftVersion(fresh, expected)
        return fresh

    def resolve_source(self, ws: Workspace, source: str) -> Draft:
        """A draft id, a published post id, or literal text."""
        source = source.strip()
        if not source:
            raise InvalidInput("The source is empty: give a draft id, a post id or the text itself.")
        if re.fullmatch(r"draft_[0-9a-f]{12}", source):
            return self.get_draft(ws, source)
        if re.fullmatch(r"post_[0-9a-f]{12}", source):
            post = self._social.get_post(ws.id, source)
            return Draft(id="", kind="post", platform=post.platform, topic=post.topic, title=None, text=post.text,
                         status="published", generated_by="platform", source_id=post.id, version=1,
                         created_at=post.published_at)
        return Draft(id="", kind="post", platform="linkedin", topic=None, title=None, text=source,
                     status="text", generated_by="creator", source_id=None, version=1, created_at=utcnow())

    # Scheduling and publishing --------------------------------------------------------------------
    def schedule(self, ws: Workspace, *, draft_id: str | None, text: str | None, platform: str,
                 publish_at: datetime, account: str | None, idempotency_key: str, now: datetime,
                 media_ids: Sequence[str] = ()) -> ScheduledPost:
        with self._db.transaction() as session:
            # A replay returns the first result even if publish_at has passed since (e.g. a slow approval).
            existing = session.scalar(select(ScheduledPostRow).where(
                ScheduledPostRow.workspace_id == ws.id, ScheduledPostRow.idempotency_key == idempotency_key))
            if existing is not None:
                return _scheduled(existing)
        body, draft = self._body(ws, draft_id, text, platform)
        if publish_at <= now:
            raise InvalidInput(f"{publish_at.isoformat()} is in the past: choose a time after now.")
        account = self._connected_account(ws, platform, account)
        with self._db.transaction() as session:
            row = ScheduledPostRow(id=new_id("sched"), workspace_id=ws.id, draft_id=draft.id if draft else None,
                                   platform=platform, account=account, text=body, publish_at=publish_at,
                                   status="scheduled", idempotency_key=idempotency_key, media_ids=list(media_ids))
            session.add(row)
            if draft is not None:
                draft_row = session.get(DraftRow, draft.id)
                assert draft_row is not None
                draft_row.status = "scheduled"
            session.flush()
            return _scheduled(row)

    def publish(self, ws: Workspace, *, draft_id: str | None, text: str | None, platform: str,
                account: str | None, idempotency_key: str, media: Sequence[Path] = ()) -> PublishedPost:
        body, draft = self._body(ws, draft_id, text, platform)
        post = self._social.publish(ws.id, platform, body, account=account,  # type: ignore[arg-type]
                                    idempotency_key=idempotency_key, topic=draft.topic if draft else None,
                                    media=media)
        if draft is not None:
            with self._db.transaction() as session:
                draft_row = session.get(DraftRow, draft.id)
                assert draft_row is not None
                draft_row.status = "published"
        self._remember(ws, post)
        return post

    def update_metrics(self, ws: Workspace, post_id: str, metrics: PostMetrics) -> PublishedPost:
        """New engagement figures for a published post (sandbox world, imports of platform stats); its memory
        record changes with them, so the next draft ranks it by what it did."""
        set_metrics = getattr(self._social, "set_metrics", None)
        if set_metrics is None:
            raise InvalidInput("This platform connection reports metrics itself; they cannot be set by hand.")
        post: PublishedPost = set_metrics(ws.id, post_id, metrics)
        if self._memory is not None:
            self._memory.record_metrics(ws, post)
        return post

    def _remember(self, ws: Workspace, post: PublishedPost) -> None:
        """Put a just-published post in memory. The post is out already, so a memory failure must not turn
        the publish into an error: it is logged, and memory catches up on its next read (MemoryService.sync)."""
        if self._memory is None:
            return
        try:
            self._memory.remember_published(ws, post)
        except Exception:
            log.exception("could not add a published post to memory", extra={"workspace_id": ws.id})

    def due_scheduled_posts(self, until: datetime, *, limit: int = 500) -> list[tuple[str, ScheduledPost]]:
        """(workspace id, post) of every post still scheduled at or before `until`, soonest first (the worker)."""
        with self._db.transaction() as session:
            rows = session.scalars(select(ScheduledPostRow).where(
                ScheduledPostRow.status == "scheduled", ScheduledPostRow.publish_at <= until)
                .order_by(ScheduledPostRow.publish_at).limit(limit)).all()
            return [(row.workspace_id, _scheduled(row)) for row in rows]

    def publish_scheduled(self, ws: Workspace, scheduled_id: str) -> ScheduledPost:
        """Publish a due scheduled post (the worker calls this once its time has come, through the ledger).
        Keyed by the scheduled post's id: publishing it again returns the same platform post."""
        with self._db.transaction() as session:
            row = session.get(ScheduledPostRow, scheduled_id)
            if row is None or row.workspace_id != ws.id:
                raise NotFound(f"There is no scheduled post {scheduled_id!r} in this workspace.")
            if row.status == "published":
                return _scheduled(row)
            platform, account, text, draft_id = row.platform, row.account, row.text, row.draft_id
            media_ids = list(row.media_ids or [])
        post = self._social.publish(ws.id, platform, text, account=account,  # type: ignore[arg-type]
                                    idempotency_key=f"scheduled:{scheduled_id}",
                                    media=self.media_paths(ws, media_ids))
        with self._db.transaction() as session:
            row = session.get(ScheduledPostRow, scheduled_id)
            assert row is not None
            row.status, row.remote_post_id = "published", post.id
            if draft_id is not None and (draft_row := session.get(DraftRow, draft_id)) is not None:
                draft_row.status = "published"
            scheduled = _scheduled(row)
        self._remember(ws, post)
        return scheduled

    def media_paths(self, ws: Workspace, media_ids: Sequence[str]) -> list[Path]:
        """The files of this workspace's media assets, in the order given."""
        paths: list[Path] = []
        with self._db.transaction() as session:
            for media_id in media_ids:
                row = session.get(MediaAssetRow, media_id)
                if row is None or row.workspace_id != ws.id:
                    raise NotFound(f"No media asset {media_id!r} in this workspace: `studio media list` shows them.")
                paths.append(Path(row.path))
        return paths

    def _connected_account(self, ws: Workspace, platform: str, account: str | None) -> str | None:
        """The connected handle to post from, checked now so a scheduled post cannot fail later for it."""
        handles = [a.handle for a in self._social.accounts(ws.id, platform)]  # type: ignore[arg-type]
        if not handles:
            raise NotFound(f"No {platform} account is connected: run `studio connect {platform}` first.")
        if account is None:
            return None
        for handle in handles:
            if handle.lower() == account.strip().lstrip("@").lower():
                return handle
        raise NotFound(f"No {platform} account {account!r}; connected: {', '.join(handles)}.")

    def _body(self, ws: Workspace, draft_id: str | None, text: str | None, platform: str
              ) -> tuple[str, Draft | None]:
        if bool(draft_id) == bool(text):
            raise InvalidInput("Give exactly one of draft_id or text.")
        draft = self.get_draft(ws, draft_id) if draft_id else None
        body = draft.text if draft else (text or "")
        check_length(platform, body)
        return body, draft

    def calendar(self, ws: Workspace, start: datetime, end: datetime) -> list[CalendarEntry]:
        if end <= start:
            raise InvalidInput("The calendar's end must be after its start.")
        entries: list[CalendarEntry] = []
        with self._db.transaction() as session:
            rows = session.scalars(select(ScheduledPostRow).where(
                ScheduledPostRow.workspace_id == ws.id, ScheduledPostRow.publish_at >= start,
                ScheduledPostRow.publish_at < end)).all()
            entries += [CalendarEntry(kind="scheduled", id=r.id, platform=r.platform, at=r.publish_at,
                                      text=r.text, status=r.status) for r in rows]
        entries += [CalendarEntry(kind="published", id=p.id, platform=p.platform, at=p.published_at, text=p.text,
                                  status="published")
                    for p in self._social.posts(ws.id, since=start) if p.published_at < end]
        return sorted(entries, key=lambda e: e.at)

    # Performance and ideas --------------------------------------------------------------------------
    def performance(self, ws: Workspace, *, since: datetime | None = None, post_id: str | None = None
                    ) -> list[PostPerformance]:
        posts = [self._social.get_post(ws.id, post_id)] if post_id else self._social.posts(ws.id, since=since)
        followers = {(a.platform, a.handle): a.followers for a in self._social.accounts(ws.id)}
        rows = []
        for post in posts:
            audience = max(post.metrics.impressions, followers.get((post.platform, post.account), 0), 1)
            rows.append(PostPerformance(post_id=post.id, platform=post.platform, topic=post.topic,
                                        published_at=post.published_at, likes=post.metrics.likes,
                                        reposts=post.metrics.reposts, replies=post.metrics.replies,
                                        clicks=post.metrics.clicks, impressions=post.metrics.impressions,
                                        engagement_rate=round(post.metrics.engagements / audience, 4), url=post.url))
        return sorted(rows, key=lambda r: r.engagement_rate, reverse=True)

    def best_similar_posts(self, ws: Workspace, topic: str, *, platform: str | None, limit: int
                           ) -> list[PublishedPost]:
        """Past posts on a similar topic, best engagement rate first (vector memory refines this later)."""
        scored = []
        rates = {p.post_id: p.engagement_rate for p in self.performance(ws)}
        for post in self._social.posts(ws.id):
            if platform and post.platform != platform and platform != "email":
                continue
            similarity = fuzz.token_set_ratio(topic.lower(), f"{post.topic or ''} {post.text}".lower()) / 100
            if similarity >= 0.45:
                scored.append((similarity * 0.5 + rates.get(post.id, 0.0) * 5, post))
        scored.sort(key=lambda item: item[0], reverse=True)
        return [post for _, post in scored[:limit]]

    def suggest_topics(self, ws: Workspace, *, count: int, platform: str | None) -> list[str]:
        if self._memory is not None:  # what performed (by engagement rate) and what the audience asks
            best = self._memory.top_topics(ws, platform=platform)
            asked = [f"Answering: {q}" for q in self._memory.audience_questions(ws)]
        else:
            ranked = self.performance(ws)
            if platform:
                ranked = [r for r in ranked if r.platform == platform]
            best = list(dict.fromkeys(row.topic for row in ranked if row.topic))
            # Unanswered questions first (sorted() is stable, so otherwise in the order they were asked).
            questions = sorted((c for c in self._social.comments(ws.id) if c.is_question), key=lambda c: c.replied)
            asked = list(dict.fromkeys(f"Answering: {c.text.strip()}" for c in questions))
        # Alternate the two sources, so even a short list has both what worked and what people ask.
        topics = [idea for pair in zip_longest(best, asked) for idea in pair if idea is not None]
        if not topics:
            topics = [f"What I learned this week about {ws.brand_voice.niche or 'my work'}"]
        return topics[:count]

    def check_brand(self, ws: Workspace, text: str) -> list[BrandIssue]:
        issues = []
        lowered = text.lower()
        banned = self._memory.brand_rules(ws).banned_words if self._memory is not None else ws.brand_voice.banned_words
        for word in banned:
            if re.search(rf"\b{re.escape(word.lower())}\b", lowered):
                issues.append(BrandIssue(rule="banned_word", detail=f"uses the banned word {word!r}"))
        if text.count("!") > 3:
            issues.append(BrandIssue(rule="tone", detail="more than three exclamation marks reads as hype"))
        if text.isupper() and len(text) > 20:
            issues.append(BrandIssue(rule="tone", detail="all capitals reads as shouting"))
        return issues

    # Media ---------------------------------------------------------------------------------------------
    def _save_draft(self, ws: Workspace, *, kind: str, platform: str, topic: str | None, text: str,
                    generated_by: str, tone: str | None = None, title: str | None = None,
                    segment: str | None = None, source_id: str | None = None,
                    request_key: str | None = None) -> Draft:
        with self._db.transaction() as session:
            draft_id = record_id("draft", ws, request_key)
            existing = session.get(DraftRow, draft_id)
            if existing is not None:  # the same request again (a resumed run): no second draft
                return _draft(existing)
            row = DraftRow(id=draft_id, workspace_id=ws.id, kind=kind, platform=platform, topic=topic,
                           title=title, text=text, tone=tone, segment=segment, status="draft",
                           source_id=source_id, generated_by=generated_by)
            session.add(row)
            session.flush()
            return _draft(row)


def record_id(prefix: str, ws: Workspace, request_key: str | None) -> str:
    """A request key gives a stable id, so the same request twice finds the first record."""
    if request_key is None:
        return new_id(prefix)
    return f"{prefix}_{hashlib.sha256(f'{ws.id}|{request_key}'.encode()).hexdigest()[:12]}"


def _nth(request_key: str | None, index: int) -> str | None:
    return None if request_key is None else f"{request_key}:{index}"


def default_calendar_window(now: datetime) -> tuple[datetime, datetime]:
    return now - timedelta(days=7), now + timedelta(days=30)


def _source_id(base: Draft) -> str | None:
    """What a derived draft came from: the source draft, or the published post it was read from."""
    return base.id or base.source_id


def _subject(base: Draft) -> str:
    """A newsletter subject for repurposed content: its title or topic, else its first sentence."""
    subject = base.title or base.topic or re.split(r"(?<=[.!?])\s+", base.text.strip())[0]
    subject = subject.strip()
    subject = subject[:1].upper() + subject[1:]
    return subject if len(subject) <= 120 else subject[:119].rstrip() + "…"


def _draft(row: DraftRow) -> Draft:
    return Draft.model_validate(row, from_attributes=True)


def _scheduled(row: ScheduledPostRow) -> ScheduledPost:
    return ScheduledPost.model_validate(row, from_attributes=True)
