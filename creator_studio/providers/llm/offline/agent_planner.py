"""The offline model's turn inside an agent: which tool calls come next, with which arguments.

The plan is a pure function of the sub-task: its clauses are matched to the agent's tools (intents.py),
missing prerequisites are added (a reply needs the comments first; scheduling needs a draft), and each
step's arguments are extracted from its clause (slots.py) or taken from earlier results (the draft id
that draft_post returned). Each turn re-derives the plan, sees which steps already ran from the tool
calls in the conversation, and emits the next wave: every step whose inputs are ready, in one message.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from rapidfuzz import fuzz

from creator_studio.agents.base import TOOL_INPUTS
from creator_studio.content.platforms import LIMITS, fit
from creator_studio.providers.llm.offline import slots, timing
from creator_studio.providers.llm.offline.intents import intent_index
from creator_studio.providers.llm.offline.normalise import normalise
from creator_studio.providers.llm.offline.quoting import Masked, is_reported, mask, without_reported
from creator_studio.providers.llm.offline.writer import OfflineWriter
from creator_studio.providers.llm.writer import WritingTask
from creator_studio.workspaces.service import BrandVoice

# A clause fragment must be this similar to a tool to count as its own intent inside a sub-task.
FRAGMENT_FLOOR = 0.42
_AND_SPLIT = re.compile(r"\s*(?:;|,?\s+and\s+(?:then\s+)?|,?\s+then\s+|,\s+)\s*", re.IGNORECASE)
_ID = {
    "draft": re.compile(r"\bdraft_[0-9a-f]{12}\b"),
    "post": re.compile(r"\bpost_[0-9a-f]{12}\b"),
    "product": re.compile(r"\bprod_[0-9A-Za-z]{6,}\b"),
    "price": re.compile(r"\bprice_[0-9A-Za-z]{6,}\b"),
    "test": re.compile(r"\b(?:ab|test)_[0-9A-Za-z]{6,}\b"),
    "workflow": re.compile(r"\bwf_[0-9A-Za-z]{6,}\b"),
    "comment": re.compile(r"\bcmt_[0-9a-f]{12}\b"),
}

# Steps that consume another step's output, and the producer they need (the agents' tool graph).
PRODUCERS: dict[str, tuple[str, ...]] = TOOL_INPUTS
# When a consumer has no producer in the plan and no id to work from, this producer is added first.
IMPLIED_PRODUCER = {
    "schedule_post": "draft_post", "publish_post": "draft_post", "reply_to_comment": "list_comments",
    "hide_comment": "list_comments", "analyze_sentiment": "list_comments", "detect_spam": "list_comments",
    "invite_to_community": "find_top_engagers", "pause_workflow": "list_workflows",
    "resume_workflow": "list_workflows", "run_workflow": "list_workflows",
}


@dataclass(frozen=True)
class TaskContext:
    now: datetime
    timezone: str
    platforms: tuple[str, ...]
    brand: BrandVoice
    agent: str

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)


@dataclass
class Step:
    index: int
    tool: str
    clause: str  # quoted and reported words replaced by placeholders ("Q1"): read slots from this
    implied: bool = False
    producer: int | None = None
    quotes: dict[str, str] = field(default_factory=dict)

    @property
    def text(self) -> str:
        """The clause with the quoted words put back: only for reading them as data."""
        return Masked(self.clause, self.quotes).restore(self.clause)


@dataclass
class Observation:
    """What a finished step returned: each call's parsed result, or its error."""

    results: list[dict[str, Any]] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    rejected: bool = False


class Skip(Exception):
    """A step that cannot run (nothing to act on, or a prerequisite failed); the reason goes in the answer."""


Builder = Callable[["PlanState", Step], list[dict[str, Any]]]


@dataclass
class PlanState:
    task: str
    context: TaskContext
    steps: list[Step]
    observed: dict[int, Observation]
    upstream: str  # results handed over from other agents' sub-tasks (ids, summaries)

    @property
    def masked_task(self) -> str:
        return mask(self.task).text

    def producer_results(self, step: Step) -> list[dict[str, Any]]:
        if step.producer is None:
            return []
        observation = self.observed.get(step.producer)
        return observation.results if observation else []


def plan_steps(task: str, allowed: set[str], upstream: str = "") -> list[Step]:
    masked = mask(task)
    fragments = _fragments(masked.text, allowed)
    quotes = masked.spans
    steps: list[Step] = []
    for clause, tool in fragments:
        producer = _implied_producer(tool, clause)
        if producer and producer in allowed and not _has_producer(steps, tool) and not _has_own_input(
                tool, clause, upstream):
            steps.append(Step(index=len(steps), tool=producer, clause=clause, implied=True, quotes=quotes))
        if tool in ("pause_workflow", "resume_workflow") and _RESTART.search(clause):
            # "turn it off and on again" / "restart it": a pause followed by a resume of the same workflow
            steps.append(Step(index=len(steps), tool="pause_workflow", clause=clause, quotes=quotes))
            tool = "resume_workflow"
        steps.append(Step(index=len(steps), tool=tool, clause=clause, quotes=quotes))
    for step in steps:
        wanted = PRODUCERS.get(step.tool, ())
        for earlier in reversed(steps[: step.index]):
            if earlier.tool in wanted:
                step.producer = earlier.index
                break
    return steps


_RESTART = re.compile(r"\b(?:off and (?:back )?on|restart|reboot|re-?start)\b", re.IGNORECASE)


def _implied_producer(tool: str, clause: str) -> str | None:
    """The step a tool needs first when the creator gave nothing to work from. A payment link "for a new
    $15/month membership" needs that product created first; without a price there is nothing to create."""
    if tool == "create_payment_link":
        return "create_product" if slots.extract_price(clause) is not None else None
    return IMPLIED_PRODUCER.get(tool)


def _fragments(masked_task: str, allowed: set[str]) -> list[tuple[str, str]]:
    """Split a (masked) sub-task into (clause, tool) pairs; weak fragments stay with the clause before them,
    and a merged clause keeps the creator's own wording between its parts. Reported speech is no request."""
    kept, _ = without_reported(masked_task)
    text, _ = timing.strip_negated_asides(normalise(kept))
    spans: list[tuple[int, int]] = []
    for clause in [c for c in slots.split_clauses(text) if not is_reported(c)]:
        offset = text.find(clause)
        base = offset if offset >= 0 else 0
        start = 0
        for separator in _AND_SPLIT.finditer(clause):
            if separator.group(0).strip() == "," and not slots._starts_action(clause[separator.end():]):
                continue  # "a product 'X', 29 dollars a month": a comma before a noun phrase is no new step
            if clause[start:separator.start()].strip():
                spans.append((base + start, base + separator.start()))
            start = separator.end()
        if clause[start:].strip():
            spans.append((base + start, base + len(clause)))
    spans = _timed_spans(text, spans)
    if not spans:
        return []
    intents = intent_index().classify([text[a:b] for a, b in spans], allowed_tools=allowed)
    chosen: list[tuple[int, int, str]] = []
    for (start, end), intent in zip(spans, intents, strict=True):
        if not intent.ranked:
            continue
        tool = timing.adjust(intent.best.tool, text[start:end], allowed)
        if intent.best.score < FRAGMENT_FLOOR or (chosen and chosen[-1][2] == tool):
            if chosen:
                chosen[-1] = (chosen[-1][0], end, chosen[-1][2])
                continue
            if intent.best.score < FRAGMENT_FLOOR * 0.6:
                continue
        chosen.append((start, end, tool))
    return [(text[a:b].strip(" ,;"), tool) for a, b, tool in chosen]


def _timed_spans(text: str, spans: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """Negated fragments ("don't hide anything yet") are constraints, not steps; a fragment that only says
    when ("Monday 8am, X post about ...") belongs to the fragment after it."""
    result: list[tuple[int, int]] = []
    carry: int | None = None
    for start, end in spans:
        fragment = text[start:end]
        if timing.is_negated(fragment):
            continue
        if timing.is_confirmation(fragment) and result:
            result[-1] = (result[-1][0], end)
            continue
        if timing.only_time(fragment):
            carry = start if carry is None else carry
            continue
        result.append((carry if carry is not None else start, end))
        carry = None
    if carry is not None and result:
        result[-1] = (result[-1][0], max(result[-1][1], spans[-1][1]))
    return result


def _has_producer(steps: list[Step], tool: str) -> bool:
    return any(s.tool in PRODUCERS.get(tool, ()) for s in steps)


def _has_own_input(tool: str, clause: str, upstream: str) -> bool:
    text = f"{clause} {upstream}"
    if tool in ("schedule_post", "publish_post"):
        return bool(slots.extract_quoted(clause) or _ID["draft"].search(text))
    if tool in ("reply_to_comment", "hide_comment"):
        return bool(_ID["comment"].search(text))
    if tool in ("analyze_sentiment", "detect_spam"):
        return bool(slots.extract_quoted(clause) or _ID["comment"].search(text))
    if tool in ("pause_workflow", "resume_workflow", "run_workflow"):
        return bool(_ID["workflow"].search(text))
    if tool == "invite_to_community":
        return bool(_handles(clause))
    if tool == "create_payment_link":
        return bool(_ID["product"].search(text) or _ID["price"].search(text))
    return False


# ---------------------------------------------------------------------------------------------------
# Argument builders: one per tool. Each returns the calls for its step (several for "reply to each").
# ---------------------------------------------------------------------------------------------------

def _platform(state: PlanState, step: Step, default: str | None = None) -> str:
    for text in (step.clause, state.masked_task):
        found = [p for p in slots.extract_platforms(text) if p != "email"]
        if found:
            return found[0]
    if default:
        return default
    return state.context.platforms[0] if state.context.platforms else "bluesky"


def _maybe_platform(step: Step) -> str | None:
    found = [p for p in slots.extract_platforms(step.clause) if p != "email"]
    return found[0] if found else None


def _topic(state: PlanState, step: Step) -> str:
    for text in (step.text, state.task):
        topic = slots.extract_topic(text)
        if topic:
            return topic
    return state.context.brand.niche or "what I'm working on"


def _tone(text: str) -> str | None:
    for tone in ("funny", "professional", "excited", "casual", "urgent", "friendly", "inspiring", "formal"):
        if re.search(rf"\b{tone}\b", text, re.IGNORECASE):
            return tone
    return None


def _when(state: PlanState, step: Step) -> datetime:
    moment = slots.extract_datetime(step.clause, state.context.now, state.context.timezone)
    if moment is None:
        moment = slots.extract_datetime(state.masked_task, state.context.now, state.context.timezone)
    if moment is None:  # "schedule it" with no time: the next morning at 09:00 local
        local = state.context.now.astimezone(state.context.zone) + timedelta(days=1)
        moment = local.replace(hour=9, minute=0, second=0, microsecond=0)
    return moment


def _ids(kind: str, *texts: str) -> list[str]:
    found: list[str] = []
    for text in texts:
        for match in _ID[kind].findall(text):
            if match not in found:
                found.append(match)
    return found


def _produced_drafts(state: PlanState, step: Step) -> list[dict[str, Any]]:
    drafts: list[dict[str, Any]] = []
    for result in state.producer_results(step):
        if "draft" in result:
            drafts.append(result["draft"])
        drafts.extend(result.get("drafts", []))
    return drafts


def _body_args(state: PlanState, step: Step) -> dict[str, Any]:
    drafts = _produced_drafts(state, step)
    if drafts:
        return {"draft_id": drafts[0]["id"]}
    quoted = slots.extract_quoted(step.text)
    if quoted:
        return {"text": quoted[0]}
    upstream = _ids("draft", state.upstream)
    if upstream:
        return {"draft_id": upstream[0]}
    raise Skip("there was no draft or text to use")


def build_draft_post(state: PlanState, step: Step) -> list[dict[str, Any]]:
    args: dict[str, Any] = {"platform": _platform(state, step), "topic": _topic(state, step)}
    tone = _tone(step.clause)
    if tone:
        args["tone"] = tone
    return [args]


def build_schedule_post(state: PlanState, step: Step) -> list[dict[str, Any]]:
    body = _body_args(state, step)
    drafts = _produced_drafts(state, step)
    default = drafts[0]["platform"] if drafts and drafts[0]["platform"] != "email" else None
    return [{**body, "platform": _maybe_platform(step) or default or _platform(state, step),
             "publish_at": _when(state, step).isoformat()}]


def build_publish_post(state: PlanState, step: Step) -> list[dict[str, Any]]:
    body = _body_args(state, step)
    drafts = _produced_drafts(state, step)
    default = drafts[0]["platform"] if drafts and drafts[0]["platform"] != "email" else None
    return [{**body, "platform": _maybe_platform(step) or default or _platform(state, step)}]


def build_repurpose_content(state: PlanState, step: Step) -> list[dict[str, Any]]:
    drafts = _produced_drafts(state, step)
    quoted = slots.extract_quoted(step.text)
    candidates = [d["id"] for d in drafts] + quoted[:1] + _ids("draft", state.upstream) + _ids("post", step.clause)
    if not candidates:
        raise Skip("I need the post or text to repurpose (paste it in quotes or give its id)")
    platforms = slots.extract_platforms(step.clause) or ["bluesky", "x", "linkedin"]
    return [{"source": candidates[0], "platforms": platforms}]


def build_create_variants(state: PlanState, step: Step) -> list[dict[str, Any]]:
    drafts = _produced_drafts(state, step)
    quoted = slots.extract_quoted(step.text)
    candidates = [d["id"] for d in drafts] + quoted[:1] + _ids("draft", state.upstream, step.clause)
    source = candidates[0] if candidates else _topic(state, step)
    return [{"source": source, "count": slots.extract_count(step.clause) or 2}]


def build_draft_newsletter(state: PlanState, step: Step) -> list[dict[str, Any]]:
    args: dict[str, Any] = {"topic": _topic(state, step)}
    segment = _segment(step)
    if segment:
        args["segment"] = segment
    return [args]


_IMAGE_TEXT = re.compile(r"\b(?:that says|saying|which says|that reads|with the (?:text|words))\s+(.+)$", re.IGNORECASE)


def build_generate_image(state: PlanState, step: Step) -> list[dict[str, Any]]:
    quoted = slots.extract_quoted(step.text)
    said = _IMAGE_TEXT.search(step.clause)
    prompt = quoted[0] if quoted else (said.group(1).strip() if said else _topic(state, step))
    args: dict[str, Any] = {"prompt": prompt}
    for style in ("bold", "minimal"):
        if style in step.clause.lower():
            args["style"] = style
    return [args]


def build_generate_video(state: PlanState, step: Step) -> list[dict[str, Any]]:
    match = re.search(r"(\d+)\s*(?:-\s*)?(s|sec|secs|second|seconds|min|mins|minute|minutes)\b", step.clause,
                      re.IGNORECASE)
    duration = 30
    if match:
        duration = int(match.group(1)) * (60 if match.group(2).lower().startswith("min") else 1)
    quoted = slots.extract_quoted(step.text)
    args: dict[str, Any] = {"duration_s": max(5, min(duration, 600))}
    args["script" if quoted else "topic"] = quoted[0] if quoted else _topic(state, step)
    return [args]


def build_check_brand_compliance(state: PlanState, step: Step) -> list[dict[str, Any]]:
    drafts = _produced_drafts(state, step)
    quoted = slots.extract_quoted(step.text)
    if drafts:
        return [{"text": d["text"]} for d in drafts]
    if quoted:
        return [{"text": quoted[0]}]
    raise Skip("I need the text to check (paste it in quotes)")


def build_suggest_topics(state: PlanState, step: Step) -> list[dict[str, Any]]:
    args: dict[str, Any] = {"count": slots.extract_count(step.clause) or 5}
    platform = _maybe_platform(step)
    if platform:
        args["platform"] = platform
    return [args]


def build_period_only(state: PlanState, step: Step) -> list[dict[str, Any]]:
    period = slots.extract_period(step.clause)
    return [{"period": period}] if period else [{}]


def build_list_comments(state: PlanState, step: Step) -> list[dict[str, Any]]:
    args: dict[str, Any] = {}
    platform = _maybe_platform(step)
    if platform:
        args["platform"] = platform
    if re.search(r"\b(unanswered|unreplied|un-answered|no reply|not replied|haven'?t (?:replied|answered)|"
                 r"new|reply|respond|answer)\b", step.clause, re.IGNORECASE):
        args["unreplied_only"] = True
    return [args]


def _comments(state: PlanState, step: Step) -> list[dict[str, Any]]:
    comments: list[dict[str, Any]] = []
    for result in state.producer_results(step):
        comments.extend(result.get("comments", []))
        comments.extend(result.get("items", []))
    return comments


def _comment_kind(comment: dict[str, Any]) -> str:
    return str(comment.get("classification") or comment.get("kind") or "")


def build_reply_to_comment(state: PlanState, step: Step) -> list[dict[str, Any]]:
    comments = [c for c in _comments(state, step) if not c.get("reply_text") and not c.get("hidden")]
    wants_questions = re.search(r"\bquestions?\b|\basked\b", step.clause, re.IGNORECASE)
    if wants_questions:
        comments = [c for c in comments if _comment_kind(c) in ("question", "purchase_intent")
                    or ("?" in str(c.get("text", "")) and _comment_kind(c) not in ("spam",))]
    else:
        comments = [c for c in comments if _comment_kind(c) != "spam"]
    if not comments:
        raise Skip("there were no comments to reply to")
    writer = OfflineWriter()
    calls = []
    for comment in comments:
        written = writer.write(WritingTask(kind="reply", brand=state.context.brand,
                                           source_text=str(comment.get("text", "")),
                                           audience=str(comment.get("author_name", "")), platform=comment.get(
                                               "platform")))
        platform = str(comment.get("platform") or "mastodon")
        calls.append({"comment_id": comment["id"], "text": fit(platform, written.text) if platform in LIMITS
                      else written.text})
    return calls


def build_hide_comment(state: PlanState, step: Step) -> list[dict[str, Any]]:
    spam = []
    for result in state.producer_results(step):
        for item in result.get("comments", []) + result.get("items", []):
            if _comment_kind(item) == "spam" or item.get("is_spam"):
                spam.append(item.get("id") or item.get("comment_id"))
    spam = [s for s in dict.fromkeys(spam) if s]
    if not spam:
        spam = _ids("comment", step.clause, state.upstream)
    if not spam:
        raise Skip("no spam or abusive comments were found to hide")
    return [{"comment_id": comment_id} for comment_id in spam]


def build_texts_or_comments(state: PlanState, step: Step) -> list[dict[str, Any]]:
    quoted = slots.extract_quoted(step.text)
    if quoted:
        return [{"texts": quoted}]
    ids = [c["id"] for c in _comments(state, step)] or _ids("comment", step.clause, state.upstream)
    if not ids:
        raise Skip("there were no comments to analyse")
    return [{"comment_ids": ids}]


def build_audience_insights(state: PlanState, step: Step) -> list[dict[str, Any]]:
    args = build_period_only(state, step)[0]
    platform = _maybe_platform(step)
    if platform:
        args["platform"] = platform
    return [args]


def build_find_top_engagers(state: PlanState, step: Step) -> list[dict[str, Any]]:
    args = build_period_only(state, step)[0]
    count = slots.extract_count(step.clause)
    if count:
        args["count"] = count
    return [args]


def build_qualify_leads(state: PlanState, step: Step) -> list[dict[str, Any]]:
    match = re.search(r"\b(?:scor(?:e|es|ing)|above|over|at least|min(?:imum)?)\D{0,12}(\d{1,3})\b", step.clause,
                      re.IGNORECASE)
    return [{"min_score": int(match.group(1))}] if match else [{}]


_KNOWN_SEGMENTS = {"waitlist": "waitlist", "wait list": "waitlist", "members": "members", "member": "members",
                   "paying members": "members", "customers": "members", "buyers": "members",
                   "newsletter": "newsletter", "newsletter list": "newsletter", "subscribers": "newsletter",
                   "mailing list": "newsletter", "email list": "newsletter", "list": "newsletter",
                   "leads": "leads", "beginners": "beginners", "vip": "vip"}
_SEGMENT_NOUN = re.compile(r"\b(?:the|my|to|for|all|everyone\s+on|everyone\s+in|people\s+on)\s+(?:whole\s+|entire\s+|"
                           r"paying\s+|current\s+|all\s+)?(?:my\s+|the\s+)?(wait\s?list|members?|newsletter(?:\s+list)?|"
                           r"subscribers|mailing list|email list|leads|customers|buyers|beginners|vip|list)\b",
                           re.IGNORECASE)


def _segment(step: Step, text: str | None = None) -> str | None:
    """The audience segment a clause names: a known list ("the waitlist", "my paying members"), a quoted or
    "called ..." name, in that order."""
    clause = step.clause if text is None else text
    match = _SEGMENT_NOUN.search(clause)
    if match:
        word = re.sub(r"\s+", " ", match.group(1).lower())
        return _KNOWN_SEGMENTS.get(word, _KNOWN_SEGMENTS.get(word.replace(" list", ""), word))
    match = re.search(r"\b(?:segment|group|audience)\s+\"(Q\d+)\"|\b(?:called|named)\s+\"(Q\d+)\"", clause,
                      re.IGNORECASE)
    if match:
        return step.quotes.get(match.group(1) or match.group(2))
    match = re.search(r"\b(?:called|named)\s+([\w-]+(?:\s[\w-]+)?)", clause, re.IGNORECASE)
    if match:
        return match.group(1)
    quoted = [step.quotes.get(q, q) for q in re.findall(r"\"(Q\d+)\"", clause)]
    return quoted[0] if quoted and len(quoted[0]) <= 40 else None


def build_segment_audience(state: PlanState, step: Step) -> list[dict[str, Any]]:
    name = _segment(step) or "engaged followers"
    criteria: dict[str, Any] = {}
    platforms = [p for p in slots.extract_platforms(step.clause) if p != "email"]
    if platforms:
        criteria["platforms"] = platforms
    keywords = re.search(r"\b(?:asked about|mention(?:ed)?|interested in|talk(?:ed)? about)\s+([\w\s-]+)",
                         step.clause, re.IGNORECASE)
    if keywords:
        criteria["keywords"] = [keywords.group(1).strip().split(" and ")[0]]
    if re.search(r"\b(often|active|engaged|frequent)\b", step.clause, re.IGNORECASE):
        criteria["min_comments"] = 2
    return [{"name": name, "criteria": criteria}]


_PROPER_NAME = re.compile(r"\b(?:to|into|join)\s+(?:my|the|our)\s+((?:[A-Z][\w-]*\s+){0,4}[A-Z][\w-]*)")
_GENERIC_COMMUNITY = re.compile(
    r"\b(?:to|into|join)\s+(?:my|the|our)\s+([\w\s-]+?)\s*(?:community|group|discord|circle|server)", re.IGNORECASE)
# Handles and addresses the creator names: "tom@hachyderm.io", "@ana.bsky.social", "ana.bsky.social".
_HANDLE = re.compile(r"(?<![\w@.])@?([a-z0-9][\w-]*(?:@[\w-]+(?:\.[\w-]+)+|(?:\.[\w-]+){2,}))\b", re.IGNORECASE)


def _community(clause: str) -> str:
    """The community's name as the creator wrote it when it is a proper name ("the Tiny Wins Discord");
    else the words before a generic noun ("the tiny wins community" -> "Tiny Wins")."""
    proper = _PROPER_NAME.search(clause)
    if proper:
        words = proper.group(1).split()
        while words and words[-1].lower() in ("community", "group"):
            words.pop()
        if words:
            return " ".join(words)
    match = _GENERIC_COMMUNITY.search(clause)
    return match.group(1).strip().title() if match and match.group(1).strip() else "Tiny Wins"


def _handles(clause: str) -> list[str]:
    return list(dict.fromkeys(m.group(1) for m in _HANDLE.finditer(clause)))


def build_invite_to_community(state: PlanState, step: Step) -> list[dict[str, Any]]:
    community = _community(step.clause)
    members: list[str] = []
    segment: str | None = None
    for result in state.producer_results(step):
        for person in result.get("engagers", []) + result.get("leads", []):
            handle = person.get("handle") or person.get("member_id") or person.get("author_handle")
            if handle:
                members.append(str(handle))
        if "segment" in result and isinstance(result["segment"], dict):
            segment = str(result["segment"].get("name"))
    args: dict[str, Any] = {"community": community}
    named = _handles(step.clause)
    if named:
        return [{**args, "member_ids": named}]
    if segment and not members:
        args["segment"] = segment
    elif members:
        args["member_ids"] = list(dict.fromkeys(members))
    else:
        raise Skip("I found nobody to invite")
    return [args]


def build_get_attribution(state: PlanState, step: Step) -> list[dict[str, Any]]:
    args = build_period_only(state, step)[0]
    lowered = step.clause.lower()
    for model, pattern in (("first_touch", r"first[\s-]touch"), ("last_touch", r"last[\s-]touch"),
                           ("linear", r"\blinear\b"), ("time_decay", r"time[\s-]decay")):
        if re.search(pattern, lowered):
            args["model"] = model
    return [args]


def build_forecast_revenue(state: PlanState, step: Step) -> list[dict[str, Any]]:
    match = re.search(r"(\d+|next)\s*(months?|quarter)", step.clause, re.IGNORECASE)
    months = 3
    years = re.search(r"\b(?:in|next|over|for)\s+(?:a|one|the\s+next)\s+year\b|\b12\s+months\b|\bnext\s+year\b",
                      step.clause, re.IGNORECASE)
    if years and not match:
        return [{"months": 12}]
    if match:
        if match.group(2).lower().startswith("quarter"):
            months = 3
        elif match.group(1).isdigit():
            months = int(match.group(1))
        else:
            months = 1
    return [{"months": max(1, min(months, 24))}]


def build_detect_churn_risk(state: PlanState, step: Step) -> list[dict[str, Any]]:
    count = slots.extract_count(step.clause)
    return [{"limit": count}] if count else [{}]


def build_get_ab_test_results(state: PlanState, step: Step) -> list[dict[str, Any]]:
    ids = _ids("test", step.clause, state.upstream)
    if not ids:
        raise Skip("I need the test id (for example ab_1234abcd)")
    return [{"test_id": ids[0]}]


def build_start_ab_test(state: PlanState, step: Step) -> list[dict[str, Any]]:
    quoted = slots.extract_quoted(step.text)
    variants = quoted if len(quoted) >= 2 else _ids("draft", state.upstream)
    if len(variants) < 2:
        variants = ["A", "B"]
    metric = "conversion_rate"
    for name, pattern in (("click_rate", r"click"), ("open_rate", r"\bopens?\b|open rate"),
                          ("signup_rate", r"sign ?ups?")):
        if re.search(pattern, step.clause, re.IGNORECASE):
            metric = name
    name_match = re.search(r"\b(?:called|named)\s+([\w\s-]+)", step.clause, re.IGNORECASE)
    name = name_match.group(1).strip() if name_match else (_topic(state, step) + " test")
    return [{"name": name[:100], "variants": variants, "metric": metric}]


def build_create_product(state: PlanState, step: Step) -> list[dict[str, Any]]:
    price = slots.extract_price(step.clause) or slots.extract_price(state.masked_task)
    if price is None:
        raise Skip("I need a price for the product (for example $29/month)")
    name = slots.extract_product_name(step.text) or "New product"
    args: dict[str, Any] = {"name": name, "price": float(price.amount), "currency": price.currency.lower()}
    interval = price.interval if price.interval in ("month", "year") else "none"
    args["interval"] = interval
    return [args]


def build_create_payment_link(state: PlanState, step: Step) -> list[dict[str, Any]]:
    for result in state.producer_results(step):
        if result.get("price", {}).get("id") if isinstance(result.get("price"), dict) else False:
            return [{"price_id": result["price"]["id"]}]
        product = result.get("product")
        if isinstance(product, dict) and product.get("id"):
            return [{"product_id": product["id"]}]
    ids = _ids("price", step.clause, state.upstream)
    if ids:
        return [{"price_id": ids[0]}]
    ids = _ids("product", step.clause, state.upstream)
    if ids:
        return [{"product_id": ids[0]}]
    raise Skip("I need to know which product the payment link is for (its id, like prod_...)")


def build_create_discount(state: PlanState, step: Step) -> list[dict[str, Any]]:
    percent = slots.extract_percent(step.clause) or slots.extract_percent(state.masked_task)
    if percent is None:
        raise Skip("I need the size of the discount (for example 20% off)")
    args: dict[str, Any] = {"percent_off": percent}
    lowered = step.clause.lower()
    months = re.search(r"\b(?:for|lasts?(?:\s+for)?)\s+(?:the\s+(?:first|next)\s+)?(\d+)\s+months?\b", lowered)
    if "forever" in lowered:
        args["duration"] = "forever"
    elif months:
        args["duration"] = "repeating"
        args["duration_in_months"] = int(months.group(1))
    elif re.search(r"\brepeating\b", lowered):
        args["duration"] = "repeating"
    elif re.search(r"\b(?:first|one)\s+(?:payment|month|invoice)\s+only\b|\bonce\b", lowered):
        args["duration"] = "once"
    for result in state.producer_results(step):
        product = result.get("product")
        if isinstance(product, dict) and product.get("id"):
            args["product_id"] = product["id"]
    return [args]


def build_start_email_sequence(state: PlanState, step: Step) -> list[dict[str, Any]]:
    quoted = slots.extract_quoted(step.text)
    match = re.search(r"\b(\w+)\s+(?:sequence|drip|series)\b", step.clause, re.IGNORECASE)
    sequence = quoted[0] if quoted else (match.group(1).lower() if match and match.group(1).lower() not in
                                         ("the", "a", "email", "my") else "welcome")
    segment = _segment(step, step.clause.replace(sequence, "")) or "newsletter"
    return [{"sequence": sequence, "segment": segment}]


def build_send_email_campaign(state: PlanState, step: Step) -> list[dict[str, Any]]:
    drafts = [d for d in _produced_drafts(state, step) if d.get("kind") == "newsletter" or
              d.get("platform") == "email"]
    draft_ids = [d["id"] for d in drafts] or _ids("draft", state.upstream, step.clause)
    fields = _email_fields(step)
    if draft_ids:
        args: dict[str, Any] = {"draft_id": draft_ids[0]}
    elif fields:
        args = dict(fields)
    else:
        raise Skip("I need a newsletter draft to send (ask the Content Studio to draft one first)")
    args["segment"] = _segment(step) or "newsletter"
    moment = slots.extract_datetime(step.clause, state.context.now, state.context.timezone)
    if moment is not None:
        args["send_at"] = moment.isoformat()
    return [args]


_EMAIL_FIELD = re.compile(r"\b(subject(?:\s+line)?|body|text|message)\s*:?\s*\"(Q\d+)\"", re.IGNORECASE)


def _email_fields(step: Step) -> dict[str, str]:
    """Subject: "..." and Body: "..." written out by the creator."""
    fields: dict[str, str] = {}
    for match in _EMAIL_FIELD.finditer(step.clause):
        name = "subject" if match.group(1).lower().startswith("subject") else "body"
        fields.setdefault(name, step.quotes.get(match.group(2), match.group(2)))
    return fields if "subject" in fields and "body" in fields else {}


def build_list_workflows(state: PlanState, step: Step) -> list[dict[str, Any]]:
    if step.implied:
        return [{}]
    for status in ("active", "paused"):
        if re.search(rf"\b{status}\b", step.clause, re.IGNORECASE):
            return [{"status": status}]
    return [{}]


def build_get_workflow_runs(state: PlanState, step: Step) -> list[dict[str, Any]]:
    if re.search(r"\b(fail|failed|errors?|broke)\b", step.clause, re.IGNORECASE):
        return [{"status": "failed"}]
    return [{}]


def build_workflow_action(state: PlanState, step: Step) -> list[dict[str, Any]]:
    ids = _ids("workflow", step.clause, state.upstream)
    if ids:
        return [{"workflow_id": ids[0]}]
    workflows: list[dict[str, Any]] = []
    for result in state.producer_results(step):
        workflows.extend(result.get("workflows", []))
    if not workflows:
        raise Skip("there are no workflows to act on")
    for text in (step.clause, state.task):  # "turn it off": the workflow was named earlier in the goal
        best = max(workflows, key=lambda w: fuzz.token_set_ratio(str(w.get("name", "")).lower(), text.lower()))
        if fuzz.token_set_ratio(str(best.get("name", "")).lower(), text.lower()) >= 50:
            return [{"workflow_id": best["id"]}]
    raise Skip("I could not tell which workflow you meant; name it as shown by list_workflows")


_EVENT_HINTS = {
    "revenue.payment_failed": r"payment (?:fails|failed|failure)|failed payment",
    "revenue.purchase_completed": r"\b(?:buys|bought|purchases?|purchased)\b",
    "audience.follower_gained": r"new followers?|follows? me",
    "audience.member_joined": r"joins?|new members?",
    "content.published": r"\bpublish(?:ed|es)?\b",
    "revenue.churn_risk_detected": r"churn",
    "audience.lead_qualified": r"\blead\b",
}


def build_create_workflow(state: PlanState, step: Step) -> list[dict[str, Any]]:
    trigger: dict[str, Any] | None = None
    cron = slots.extract_cron(step.clause)
    threshold = re.search(r"(engagement(?: rate)?|mrr|churn|followers)(?:\s+[\w-]+){0,4}?\s+"
                          r"(?:drops?|falls?|goes|dips?)\s+"
                          r"(?:below|under)\s+(\d+(?:\.\d+)?)\s*(%?)", step.clause, re.IGNORECASE)
    if threshold:
        metric = {"engagement": "engagement_rate", "engagement rate": "engagement_rate"}.get(
            threshold.group(1).lower(), threshold.group(1).lower())
        value = float(threshold.group(2)) / (100 if threshold.group(3) else 1)
        trigger = {"type": "threshold", "metric": metric, "op": "<", "value": value, "window": "7d"}
    elif cron:
        trigger = {"type": "cron", "cron": cron}
    else:
        for event, pattern in _EVENT_HINTS.items():
            if re.search(pattern, step.clause, re.IGNORECASE):
                trigger = {"type": "event", "event": event}
                break
    if trigger is None:
        raise Skip("I could not tell what should trigger the workflow (a time, an event or a threshold)")
    action = re.split(r"[,;]\s*|\bthen\b", step.clause, maxsplit=1)[-1].strip() or step.clause
    name = (slots.extract_quoted(step.text) or [action[:60].strip().capitalize()])[0]
    return [{"name": name, "trigger": trigger, "steps": [{"type": "goal", "goal": action}]}]


def build_schedule_goal(state: PlanState, step: Step) -> list[dict[str, Any]]:
    cron = slots.extract_cron(step.clause)
    goal = re.sub(r"^(?:every|each)\s+[\w\s:]+?(?:at\s+\d{1,2}(?::\d{2})?\s*(?:am|pm)?|\d{1,2}\s*(?:am|pm))\s*,?\s*",
                  "", step.clause, flags=re.IGNORECASE).strip() or step.clause
    if cron:
        return [{"goal": goal, "cron": cron}]
    moment = slots.extract_datetime(step.clause, state.context.now, state.context.timezone)
    if moment is None:
        raise Skip("I need to know when to run it (for example 'every Monday 9am' or 'tomorrow at 8')")
    return [{"goal": goal, "at": moment.isoformat()}]


_TARGET_METRICS = (("newsletter_subscribers", r"newsletter|subscribers?"), ("engagement_rate", r"engagement"),
                   ("mrr", r"\bmrr\b|monthly recurring"), ("followers", r"followers?"),
                   ("posts_per_week", r"posts? (?:a|per) week"), ("revenue", r"revenue|sales|\$|dollars|euros"))


def build_set_target(state: PlanState, step: Step) -> list[dict[str, Any]]:
    metric = next((name for name, pattern in _TARGET_METRICS if re.search(pattern, step.clause, re.IGNORECASE)),
                  None)
    if metric is None:
        raise Skip("I need to know which metric the target is for")
    value: float | None = None
    if metric == "engagement_rate":
        percent = slots.extract_percent(step.clause)
        value = percent / 100 if percent is not None else None
    elif metric in ("mrr", "revenue"):
        price = slots.extract_price(step.clause)
        value = float(price.amount) if price else None
    if value is None:
        number = re.search(r"(\d+(?:[.,]\d+)?)\s*(k|m)?\b", step.clause, re.IGNORECASE)
        if number:
            value = float(number.group(1).replace(",", "")) * {"k": 1e3, "m": 1e6}.get(
                (number.group(2) or "").lower(), 1)
    if value is None or value <= 0:
        raise Skip("I need the target number")
    args: dict[str, Any] = {"metric": metric, "target": value}
    deadline = _deadline(step.clause, state.context)
    if deadline is not None:
        args["by"] = deadline
    return [args]


_MONTHS = ("january", "february", "march", "april", "may", "june", "july", "august", "september", "october",
           "november", "december")
_BY_MONTH = re.compile(r"\b(?:by|before|until|in)\s+(?:the\s+end\s+of\s+)?(" + "|".join(_MONTHS) + r")\b",
                       re.IGNORECASE)


def _deadline(clause: str, context: TaskContext) -> str | None:
    """ "by March" is the first of the next March; other dates go through the date parser."""
    local = context.now.astimezone(context.zone)
    month = _BY_MONTH.search(clause)
    if month and not re.match(r"\s*\d", clause[month.end():]):
        number = _MONTHS.index(month.group(1).lower()) + 1
        year = local.year + (1 if number <= local.month else 0)
        if "end" in month.group(0).lower():  # "by the end of January": its last day
            last = (date(year + number // 12, number % 12 + 1, 1) - timedelta(days=1)).day
            return f"{year:04d}-{number:02d}-{last:02d}"
        return f"{year:04d}-{number:02d}-01"
    if re.search(r"\bend of (?:the|this) year\b", clause, re.IGNORECASE):
        return f"{local.year:04d}-12-31"
    without_amount = re.sub(r"\d+(?:[.,]\d+)?\s*(?:k|m)?\s*\w*", " ", clause, count=1)
    moment = slots.extract_datetime(without_amount, context.now, context.timezone)
    return moment.date().isoformat() if moment is not None and moment > context.now else None


def build_analyze_funnel(state: PlanState, step: Step) -> list[dict[str, Any]]:
    if re.search(r"\b(?:e-?mail|newsletter)\b", step.clause, re.IGNORECASE):
        return [{"funnel": "email"}]
    return [{}]


BUILDERS: dict[str, Builder] = {
    "draft_post": build_draft_post, "schedule_post": build_schedule_post, "publish_post": build_publish_post,
    "repurpose_content": build_repurpose_content, "create_variants": build_create_variants,
    "draft_newsletter": build_draft_newsletter, "generate_image": build_generate_image,
    "generate_video": build_generate_video, "check_brand_compliance": build_check_brand_compliance,
    "suggest_topics": build_suggest_topics, "get_content_calendar": lambda s, st: [{}],
    "get_content_performance": build_period_only, "list_comments": build_list_comments,
    "analyze_sentiment": build_texts_or_comments, "detect_spam": build_texts_or_comments,
    "get_audience_insights": build_audience_insights, "find_top_engagers": build_find_top_engagers,
    "qualify_leads": build_qualify_leads, "segment_audience": build_segment_audience,
    "reply_to_comment": build_reply_to_comment, "hide_comment": build_hide_comment,
    "invite_to_community": build_invite_to_community, "get_revenue_metrics": build_period_only,
    "analyze_funnel": build_analyze_funnel, "get_attribution": build_get_attribution,
    "forecast_revenue": build_forecast_revenue, "detect_churn_risk": build_detect_churn_risk,
    "get_ab_test_results": build_get_ab_test_results, "start_ab_test": build_start_ab_test,
    "create_product": build_create_product, "create_payment_link": build_create_payment_link,
    "create_discount": build_create_discount, "start_email_sequence": build_start_email_sequence,
    "send_email_campaign": build_send_email_campaign, "list_workflows": build_list_workflows,
    "get_workflow_runs": build_get_workflow_runs, "get_system_health": lambda s, st: [{}],
    "create_workflow": build_create_workflow, "schedule_goal": build_schedule_goal,
    "pause_workflow": build_workflow_action, "resume_workflow": build_workflow_action,
    "run_workflow": build_workflow_action, "get_dashboard_summary": build_period_only,
    "set_target": build_set_target,
}


@dataclass(frozen=True)
class NextCalls:
    calls: list[tuple[int, str, dict[str, Any]]]  # (step index, tool, arguments)
    skipped: list[tuple[str, str]]  # (tool, reason)


def next_calls(state: PlanState) -> NextCalls:
    """The next wave: pending steps in order, up to the first one that waits on a step of this same wave.
    A step whose producer was skipped, rejected or failed is skipped with the reason."""
    calls: list[tuple[int, str, dict[str, Any]]] = []
    skipped: list[tuple[str, str]] = []
    emitted: set[int] = set()
    not_run: set[int] = set()
    for step in state.steps:
        if step.index in state.observed:
            continue
        if step.producer is not None:
            producer_tool = state.steps[step.producer].tool
            if step.producer in emitted:
                break
            if step.producer in not_run:
                skipped.append((step.tool, f"it needed {producer_tool}, which could not run"))
                not_run.add(step.index)
                continue
            producer = state.observed.get(step.producer)
            if producer is not None and (producer.rejected or (producer.errors and not producer.results)):
                why = "you rejected it" if producer.rejected else "it failed"
                skipped.append((step.tool, f"it needed {producer_tool}, and {why}"))
                not_run.add(step.index)
                continue
        try:
            built = BUILDERS[step.tool](state, step)
        except Skip as reason:
            skipped.append((step.tool, str(reason)))
            not_run.add(step.index)
            continue
        calls.extend((step.index, step.tool, arguments) for arguments in built)
        emitted.add(step.index)
    return NextCalls(calls=calls, skipped=skipped)


def parse_observation(content: str) -> tuple[dict[str, Any] | None, str | None, bool]:
    """A ToolMessage's content: the JSON result, or an error / a rejection."""
    if content.startswith("Rejected by the creator"):
        return None, content, True
    if content.startswith("Error:"):
        return None, content.removeprefix("Error:").strip(), False
    try:
        parsed = json.loads(content)
    except json.JSONDecodeError:
        return None, content, False
    return (parsed, None, False) if isinstance(parsed, dict) else (None, content, False)
