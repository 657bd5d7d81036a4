"""Rate-limit budgets per (account, platform, bucket), fed by the platforms' response headers.

Headers understood: `X-RateLimit-Limit/Remaining/Reset` (Mastodon: reset is an ISO date), `x-rate-limit-*` (X:
reset is epoch seconds), `RateLimit-Limit/Remaining/Reset` (Bluesky PDS: epoch seconds; IETF draft: delta
seconds), and `RateLimit-Policy`. Budgets whose unit is not "requests" are hooks the adapters feed themselves:
Bluesky's write points (create 3, update 2, delete 1; 5,000 an hour) and Threads' 24-hour publishing quota.

Priorities keep a reserve: background sync may not spend the last 20% of a window, scheduled work not the last
5%, so a creator's own request is the last thing to be refused.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime
from enum import IntEnum


class Priority(IntEnum):
    """Lower value goes first: a creator waiting at the keyboard, then scheduled posts, then background sync."""

    CREATOR = 0
    SCHEDULED = 1
    BACKGROUND = 2


# The share of a window each priority must leave untouched for the ones above it.
RESERVE = {Priority.CREATOR: 0.0, Priority.SCHEDULED: 0.05, Priority.BACKGROUND: 0.20}

# Bluesky PDS write costs in points (docs.bsky.app "Rate Limits"): 5,000 points per hour, 35,000 per day.
BLUESKY_POINTS = {"create": 3, "update": 2, "delete": 1}
BLUESKY_POINTS_PER_HOUR = 5000

Clock = Callable[[], datetime]


def _utcnow() -> datetime:
    return datetime.now(UTC)


def parse_reset(value: str, now: datetime) -> datetime | None:
    """A reset header as an instant: epoch seconds, delta seconds, an ISO 8601 date or an HTTP date."""
    value = value.strip()
    if not value:
        return None
    try:
        number = float(value)
    except ValueError:
        pass
    else:
        if number > 1_000_000_000:  # epoch seconds (X, Bluesky)
            return datetime.fromtimestamp(number, UTC)
        return now + timedelta(seconds=max(number, 0.0))  # delta seconds (IETF RateLimit draft)
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))  # Mastodon
    except ValueError:
        try:
            parsed = parsedate_to_datetime(value)
        except (TypeError, ValueError):
            return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def parse_retry_after(value: str | None, now: datetime) -> float | None:
    """Retry-After in seconds: either delta seconds or an HTTP date (RFC 9110 §10.2.3)."""
    if not value:
        return None
    value = value.strip()
    try:
        return max(float(value), 0.0)
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max((when - now).total_seconds(), 0.0)


def _header(headers: Mapping[str, str], *names: str) -> str | None:
    lowered = {k.lower(): v for k, v in headers.items()}
    for name in names:
        if name.lower() in lowered:
            return lowered[name.lower()]
    return None


@dataclass
class RateBudget:
    """One window: how much is left and when it refills. Unknown limits never block."""

    limit: int | None = None
    remaining: int | None = None
    reset_at: datetime | None = None
    unit: str = "requests"

    def refresh(self, now: datetime) -> None:
        if self.reset_at is not None and now >= self.reset_at:
            self.remaining, self.reset_at = self.limit, None

    def available(self, cost: int, priority: Priority, now: datetime) -> bool:
        self.refresh(now)
        if self.remaining is None:
            return True
        reserve = int((self.limit or 0) * RESERVE[priority])
        return self.remaining - cost >= reserve

    def wait_seconds(self, now: datetime) -> float:
        if self.reset_at is None:
            return 0.0
        return max((self.reset_at - now).total_seconds(), 0.0)

    def spend(self, cost: int) -> None:
        if self.remaining is not None:
            self.remaining = max(self.remaining - cost, 0)


@dataclass(frozen=True)
class BudgetKey:
    account: str
    platform: str
    bucket: str = "default"


@dataclass
class BudgetBook:
    """All budgets of a process. Thread-safe; the clock is injectable so tests need no sleeping."""

    clock: Clock = _utcnow
    _budgets: dict[BudgetKey, RateBudget] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def budget(self, key: BudgetKey) -> RateBudget:
        with self._lock:
            return self._budgets.setdefault(key, RateBudget())

    def check(self, key: BudgetKey, cost: int = 1, priority: Priority = Priority.CREATOR) -> float:
        """0 when the request may go now, else the seconds until this priority may spend `cost`."""
        with self._lock:
            budget = self._budgets.setdefault(key, RateBudget())
            now = self.clock()
            if budget.available(cost, priority, now):
                budget.spend(cost)
                return 0.0
            return max(budget.wait_seconds(now), 1.0)

    def observe(self, key: BudgetKey, headers: Mapping[str, str]) -> None:
        """Update from a response's rate-limit headers (any of the three spellings)."""
        limit = _header(headers, "x-ratelimit-limit", "x-rate-limit-limit", "ratelimit-limit")
        remaining = _header(headers, "x-ratelimit-remaining", "x-rate-limit-remaining", "ratelimit-remaining")
        reset = _header(headers, "x-ratelimit-reset", "x-rate-limit-reset", "ratelimit-reset")
        if limit is None and remaining is None:
            return
        now = self.clock()
        with self._lock:
            budget = self._budgets.setdefault(key, RateBudget())
            if limit is not None and limit.split(",")[0].strip().isdigit():
                budget.limit = int(limit.split(",")[0].strip())
            if remaining is not None and remaining.strip().isdigit():
                budget.remaining = int(remaining.strip())
            if reset is not None:
                budget.reset_at = parse_reset(reset, now)

    def set_quota(self, key: BudgetKey, *, limit: int, used: int, window: timedelta, unit: str) -> None:
        """Hook for quotas a platform reports in a body (Threads' publishing limit) or documents (Bluesky points)."""
        now = self.clock()
        with self._lock:
            budget = self._budgets.setdefault(key, RateBudget(unit=unit))
            budget.limit, budget.remaining, budget.unit = limit, max(limit - used, 0), unit
            if budget.reset_at is None or budget.reset_at <= now:
                budget.reset_at = now + window

    def exhaust(self, key: BudgetKey, retry_after: float | None) -> None:
        """A 429 arrived: nothing is left until Retry-After (or the reset we already knew)."""
        now = self.clock()
        with self._lock:
            budget = self._budgets.setdefault(key, RateBudget())
            budget.remaining = 0
            if budget.limit is None:
                budget.limit = 0
            if retry_after is not None:
                budget.reset_at = now + timedelta(seconds=retry_after)
            elif budget.reset_at is None:
                budget.reset_at = now + timedelta(seconds=60)
