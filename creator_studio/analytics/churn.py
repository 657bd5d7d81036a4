"""Churn risk: points per warning signal a subscription shows, each with the reason in plain words.

Signals (the score is their sum, capped at 100): the last payment failed (past due) 45; set to cancel at the
period end 40; opened none of 2+ emails in 90 days 20, or under a quarter of them 10; a member for under 60
days 15 (the first two months see the most cancellations).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

NEW_MEMBER_DAYS = 60
MAX_SCORE = 100


@dataclass(frozen=True)
class ChurnFacts:
    status: str
    cancel_at_period_end: bool
    started_at: datetime
    emails_received: int | None  # None: not on the mailing list
    emails_opened: int | None


def risk_signals(facts: ChurnFacts, now: datetime) -> list[tuple[int, str]]:
    signals: list[tuple[int, str]] = []
    if facts.status == "past_due":
        signals.append((45, "the last payment failed (past due)"))
    if facts.cancel_at_period_end:
        signals.append((40, "set to cancel at the end of the billing period"))
    if facts.emails_received is not None and facts.emails_opened is not None:
        received, opened = facts.emails_received, facts.emails_opened
        if received >= 2 and opened == 0:
            signals.append((20, f"opened none of the {received} emails sent in the last 90 days"))
        elif received >= 2 and opened / received < 0.25:
            signals.append((10, f"opened only {opened} of {received} emails in the last 90 days"))
    tenure = (now - facts.started_at).days
    if tenure < NEW_MEMBER_DAYS:
        signals.append((15, f"new member ({tenure} days): the first two months have the most cancellations"))
    return signals


def risk_score(signals: list[tuple[int, str]]) -> int:
    return min(sum(points for points, _ in signals), MAX_SCORE)
