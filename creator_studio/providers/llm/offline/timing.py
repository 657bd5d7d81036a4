"""When a request should happen, and what that does to the tool it needs.

The same words ask for different tools depending on time: "post about X" is a draft, "post about X in
2 hours" or "tomorrow morning" is a scheduled post, "post about X right away" is a publish; "check my MRR"
is a report now, "on Monday at 9am, check my MRR" is a goal scheduled for later, and "every morning ..."
is a recurring goal. Negated clauses ("don't publish it", "I'll post it myself") are constraints on the
rest of the goal, not requests.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime

from creator_studio.providers.llm.offline import slots

POSTING_TOOLS = frozenset({"draft_post", "publish_post", "schedule_post"})
# Read-only tools: run now unless a time is given, then they become a goal scheduled for that time.
REPORT_TOOLS = frozenset({
    "get_revenue_metrics", "analyze_funnel", "get_attribution", "forecast_revenue", "detect_churn_risk",
    "get_ab_test_results", "list_comments", "analyze_sentiment", "get_audience_insights", "find_top_engagers",
    "qualify_leads", "get_content_performance", "get_content_calendar", "suggest_topics",
    "get_dashboard_summary", "list_workflows", "get_workflow_runs", "get_system_health",
})

_NOW = re.compile(r"\b(?:right\s+)?now\b|\bright\s+away\b|\bimmediately\b|\bstraight\s+away\b|\basap\b"
                  r"|\bthis\s+(?:minute|instant)\b|\bgo\s+live\b", re.IGNORECASE)
_FOR_NOW = re.compile(r"\b(?:for|until|till)\s+now\b|\bso\s+far\b", re.IGNORECASE)
_NEGATED = re.compile(
    r"^(?:(?:but|and|just|so|then|please)\s+)*(?:don'?t|do\s+not|never|no\s+need\s+to|without|not)\b"
    r"|^(?:(?:but|and|so)\s+)*(?:i'?ll|i\s+will|i'?m\s+going\s+to|i\s+can)\b.*\b(?:myself|by\s+hand|on\s+my\s+own)\b",
    re.IGNORECASE)
_PAST = re.compile(r"\b(?:yesterday|last|past|previous|ago|earlier|before)\b", re.IGNORECASE)
# "next week", "the weekend", "next month": a window to report on, not a moment to run a report at.
_SPAN = re.compile(r"\bnext\s+(?:week|month|quarter|year)\b|\bweekend\b|\bmonths?\b", re.IGNORECASE)
_TIME_WORDS = re.compile(
    r"\b(?:on|at|for|by|in|every|each|this|next|coming|the|around|from|to|go|out|morning|evening|afternoon|night|"
    r"tonight|tomorrow|today|noon|midnight|am|pm|o'?clock|please|pls|and|then|so|ok|okay)\b", re.IGNORECASE)


def is_negated(clause: str) -> bool:
    """ "don't hide anything yet", "I'll post it myself": a constraint, not a request."""
    return bool(_NEGATED.match(clause.strip(" ,;:.!?-—–")))


def wants_now(clause: str) -> bool:
    without = _FOR_NOW.sub(" ", clause)
    return bool(_NOW.search(without))


def _point_hits(clause: str, *, spans_count: bool) -> bool:
    clean = slots._clean_for_dates(clause)
    now = datetime(2000, 1, 3, 12, tzinfo=UTC)  # the reference instant only decides which words are dates
    for hit in slots._date_hits(clean, now, "UTC"):
        text = clean[hit.span[0]:hit.span[1]]
        if hit.rank == 0 or _PAST.search(text):
            continue
        if not spans_count and _SPAN.search(text):
            continue
        return True
    return any(not _PAST.search(clean[max(0, h.span[0] - 12):h.span[0]]) for h in slots._time_hits(clean))


def names_a_moment(clause: str) -> bool:
    """A future date or time of day is given ("in 2 hours", "Friday 9am", "on Christmas Eve")."""
    return _point_hits(clause, spans_count=True)


def names_a_point_in_time(clause: str) -> bool:
    """A moment to run something at, not a window to report on ("next month" is a window)."""
    return _point_hits(clause, spans_count=False)


# "the weekly content plan" names a workflow; it does not say how often.
_NAMED_BY_FREQUENCY = re.compile(r"\b(?:the|my|our|this|that)\s+(?:weekly|daily|monthly|yearly|nightly)\s+\w+",
                                 re.IGNORECASE)


def is_recurring(clause: str) -> bool:
    return slots.extract_cron(_NAMED_BY_FREQUENCY.sub(" ", clause)) is not None


def only_time(clause: str) -> bool:
    """ "Tomorrow at 10am", "Every morning at 8", "Monday 8am": nothing but when."""
    if not (names_a_moment(clause) or is_recurring(clause)):
        return False
    rest = _TIME_WORDS.sub(" ", slots._clean_for_dates(clause))
    rest = re.sub(r"\d{1,2}(?::\d\d)?\s*(?:[ap]\.?m\.?)?|\b(?:" + "|".join(
        ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday", "day", "week", "month",
         "mondays", "tuesdays", "wednesdays", "thursdays", "fridays", "saturdays", "sundays", "weekday", "weekdays",
         "january", "february", "march", "april", "may", "june", "july", "august", "september", "october",
         "november", "december", "hours?", "minutes?", "days?", "weeks?", "a", "an", "one", "two", "three"))
        + r")\b", " ", rest, flags=re.IGNORECASE)
    return not re.sub(r"[\s,.;:!?-]+", "", rest)


# "When a payment fails, ...", "If my engagement drops below 2%, ...": a trigger, so an automation.
_TRIGGER = re.compile(r"^(?:(?:and|so|also|then)\s+)?(?:when|whenever|if|each\s+time|every\s+time|as\s+soon\s+as|"
                      r"once)\b(?!\s+(?:a|per)\s+(?:day|week|month))", re.IGNORECASE)
_WORKFLOW_NOUN = re.compile(r"\b(?:workflows?|automations?|automate|automatically)\b", re.IGNORECASE)
_MAKE_WORKFLOW = re.compile(r"\b(?:create|set\s*up|make|build|add)\b.*\b(?:workflow|automation)\b", re.IGNORECASE)
# "Set that up", "go for it", "automate it": the creator confirming the request before, not a new one.
_CONFIRMATION = re.compile(r"^(?:(?:and|so|ok|okay|yes|yeah|please|just)\s+)*"
                           r"(?:set\s+(?:that|this|it)\s+up|do\s+(?:it|that|this)|"
                           r"go\s+for\s+it|make\s+it\s+happen|automate\s+(?:it|that|this)|set\s+it|sounds\s+good)"
                           r"(?:\s+(?:please|for\s+me|thanks))?\W*$", re.IGNORECASE)
_EMAIL_DESTINATION = re.compile(r"\b(?:e-?mail|newsletter\s+list|mailing\s+list|email\s+list|"
                                r"my\s+(?:paying\s+)?members|(?:the|my)\s+(?:subscribers|waitlist|list))\b",
                                re.IGNORECASE)


_READ_COUNTERPART = {"reply_to_comment": "list_comments", "hide_comment": "list_comments"}
_ASKS_TO_SEE = re.compile(r"^(?:(?:and|so|also|just|please|can\s+you|could\s+you)\s+)*(?:how\s+many|which|what|who|any|"
                          r"show|list|tell\s+me|give\s+me\s+(?:a\s+)?(?:list|count|number))\b", re.IGNORECASE)


def is_confirmation(clause: str) -> bool:
    return bool(_CONFIRMATION.match(clause.strip()))


def is_trigger(clause: str) -> bool:
    return bool(_TRIGGER.match(clause.strip()))


def adjust(tool: str, clause: str, allowed: set[str] | None = None) -> str:
    """The tool a clause needs once its timing is taken into account."""

    def ok(name: str) -> bool:
        return allowed is None or name in allowed

    if is_trigger(clause) and ok("create_workflow"):
        return "create_workflow"
    if tool in ("schedule_goal", "list_workflows", "get_workflow_runs") and _MAKE_WORKFLOW.search(clause) and ok(
            "create_workflow"):
        return "create_workflow"
    if tool in _READ_COUNTERPART and _ASKS_TO_SEE.match(clause.strip()) and ok(_READ_COUNTERPART[tool]):
        # "tell me how many unanswered questions I have": a question about the comments, not replies to them
        return _READ_COUNTERPART[tool]
    if tool == "create_workflow" and not _WORKFLOW_NOUN.search(clause) and ok("schedule_goal") and (
            is_recurring(clause) or names_a_point_in_time(clause)):
        return "schedule_goal"

    if tool in POSTING_TOOLS and _EMAIL_DESTINATION.search(clause) and not slots.extract_platforms(
            re.sub(r"(?i)\be-?mail\b", " ", clause)) and ok("send_email_campaign"):
        return "send_email_campaign"  # "email my members tomorrow at 8am": a campaign, not a social post
    if tool in POSTING_TOOLS:
        later = names_a_moment(_NOW.sub(" ", clause))
        if wants_now(clause) and not later and tool == "schedule_post" and ok("publish_post"):
            return "publish_post"
        if later and not wants_now(clause) and tool in ("publish_post", "draft_post") and ok("schedule_post"):
            return "schedule_post"
        return tool
    if (tool in REPORT_TOOLS and ok("schedule_goal") and not wants_now(clause)
            and (is_recurring(clause) or names_a_point_in_time(clause))):
        return "schedule_goal"
    return tool


def new_sentence_after(text: str, position: int) -> bool:
    """Does the goal end, or a new sentence start, right after this position?"""
    rest = text[position:].lstrip(" ,;:")
    return not rest or bool(re.match(r"[.!?\n]", text[position:].lstrip(" ")))


def prepare_clauses(text: str, clauses: list[str]) -> tuple[list[tuple[str, bool]], list[str]]:
    """Clauses ready for intent detection, each with whether it starts a new sentence, and the negated
    ones that were set aside. A clause that only says when ("Tomorrow at 10am, check ...") goes with the
    request after it (or before it, at the end of the goal)."""
    kept: list[tuple[str, bool]] = []
    negated: list[str] = []
    cursor = 0
    carry = ""
    new_sentence = True
    for clause in clauses:
        found = text.find(clause, cursor)
        if found >= 0:
            gap = text[cursor:found]
            new_sentence = new_sentence or bool(re.search(r"[.!?\n]", gap)) or not kept
            cursor = found + len(clause)
        if is_negated(clause):
            negated.append(clause)
            continue
        if _CONFIRMATION.match(clause) and kept:
            last, starts = kept[-1]
            kept[-1] = (f"{last}, {clause}", starts)
            continue
        if only_time(clause) or (is_trigger(clause) and not new_sentence_after(text, cursor)):
            carry = f"{carry} {clause}".strip()
            continue
        if carry:
            clause = f"{carry}, {clause}"
            carry = ""
        kept.append((clause, new_sentence))
        new_sentence = False
    if carry:
        if kept:
            last, starts = kept[-1]
            kept[-1] = (f"{last} {carry}", starts)
        else:
            kept.append((carry, True))
    return kept, negated


# "(don't send it)", ", but don't hide anything yet", ", don't publish it now": constraints, not requests.
_NEGATED_ASIDE = re.compile(r"\s*\((?:but\s+|and\s+|just\s+)?(?:don'?t|do\s+not|not|no|never)\b[^)]*\)"
                            r"|,\s*(?:but\s+|and\s+|just\s+)?(?:don'?t|do\s+not|never)\b[^,;.!?()]*", re.IGNORECASE)


def strip_negated_asides(text: str) -> tuple[str, list[str]]:
    """Negated asides are removed before splitting the goal (and kept aside as what not to do)."""
    asides = [m.group(0).strip() for m in _NEGATED_ASIDE.finditer(text)]
    return _NEGATED_ASIDE.sub("", text), asides
