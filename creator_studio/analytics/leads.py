"""Transparent lead scoring: each factor that applies adds its points, and the result lists every factor with
its points and the evidence behind it, so a creator can see (and argue with) why someone is a lead.

Points (capped at 100): purchase intent 40, or interest 15; questions about the offer 25; repeat engagement
10 per comment after the first, up to 20; recency 15 within 7 days, or 8 within 30 days.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

LEAD_POINTS = {
    "purchase_intent": 40,
    "interest": 15,
    "offer_question": 25,
    "repeat_per_comment": 10,
    "repeat_max": 20,
    "recent_7d": 15,
    "recent_30d": 8,
}
MAX_SCORE = 100


@dataclass(frozen=True)
class LeadFacts:
    purchase_intent_comments: int
    shows_interest: bool
    offer_questions: int
    comments: int
    since_last_comment: timedelta


@dataclass(frozen=True)
class Factor:
    factor: str
    points: int
    detail: str


def score_lead(facts: LeadFacts) -> tuple[int, list[Factor]]:
    parts: list[Factor] = []
    if facts.purchase_intent_comments:
        parts.append(Factor("purchase_intent", LEAD_POINTS["purchase_intent"],
                            f"{facts.purchase_intent_comments} comment(s) about buying"))
    elif facts.shows_interest:
        parts.append(Factor("interest", LEAD_POINTS["interest"], "said they want to join or are interested"))
    if facts.offer_questions:
        parts.append(Factor("offer_question", LEAD_POINTS["offer_question"],
                            f"asked {facts.offer_questions} question(s) about your offer"))
    extra = facts.comments - 1
    if extra > 0:
        points = min(LEAD_POINTS["repeat_max"], extra * LEAD_POINTS["repeat_per_comment"])
        parts.append(Factor("repeat_engagement", points, f"{facts.comments} comments"))
    if facts.since_last_comment <= timedelta(days=7):
        parts.append(Factor("recency", LEAD_POINTS["recent_7d"], "commented in the last 7 days"))
    elif facts.since_last_comment <= timedelta(days=30):
        parts.append(Factor("recency", LEAD_POINTS["recent_30d"], "commented in the last 30 days"))
    return min(MAX_SCORE, sum(p.points for p in parts)), parts
