"""`ReliableClient`: the one way adapters talk HTTP to a platform.

- `read(...)`: safe to repeat. Retries 429, 408, 5xx and transport errors with exponential backoff and full
  jitter (tenacity), waiting at least what `Retry-After` asks (seconds or an HTTP date), then raises a typed
  error from `errors.classify`.
- `write(...)`: a side effect. It is sent once; when the outcome is unknown (timeout, connection reset, 5xx)
  it is only repeated after `WriteGuard.find_existing` (a read-back by content hash or marker) says it did not
  happen, or when the platform itself de-duplicates by `Idempotency-Key` (Mastodon). A connection that was
  never established, a 429 and a 503 with Retry-After are known not to have happened and are simply retried.
  When neither is possible, `OutcomeUnknown` is raised: nothing is ever blind-retried. A `RetryLater` out of
  `write` is a promise that nothing landed; if an attempt may have landed and no read-back ruled it out (or the
  read-back itself failed), the error is `OutcomeUnknown` instead.
- Both spend from the rate budget of (account, platform, bucket) and wait their turn in the priority gate.
- `on_unauthorized`: called once on a 401 (an adapter refreshes its token there); the request is then repeated.

Adapters build one client per connected account; `sleep` and the budget clock are injectable for tests.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Generic, TypeVar

import httpx
from tenacity import RetryCallState, Retrying, retry_if_exception_type, stop_after_attempt

from creator_studio.logs import get_logger
from creator_studio.providers.reliability.budgets import (
    BudgetBook,
    BudgetKey,
    Priority,
    parse_retry_after,
)
from creator_studio.providers.reliability.errors import OutcomeUnknown, ProviderError, RetryLater, classify
from creator_studio.providers.reliability.queue import PriorityGate

log = get_logger("providers.reliability")

T = TypeVar("T")

RETRYABLE_STATUS = frozenset({408, 429, 500, 502, 503, 504})
# Transport errors after which the request certainly never reached the platform.
NOT_SENT = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout)


class _Retryable(Exception):
    """Internal: this attempt failed in a way worth repeating; carries the server's Retry-After."""

    def __init__(self, reason: str, retry_after: float | None = None, response: httpx.Response | None = None,
                 outcome_unknown: bool = False) -> None:
        super().__init__(reason)
        self.reason = reason
        self.retry_after = retry_after
        self.response = response
        self.outcome_unknown = outcome_unknown


@dataclass
class RetryPolicy:
    attempts: int = 4
    base_delay: float = 0.5
    max_delay: float = 30.0
    # A Retry-After longer than this is not waited for inside a call: the caller gets RetryLater instead.
    max_retry_after: float = 60.0

    def backoff(self, attempt: int) -> float:
        """Exponential backoff with full jitter (AWS architecture blog): uniform(0, min(cap, base * 2^n))."""
        return random.uniform(0, min(self.max_delay, self.base_delay * 2 ** (attempt - 1)))


@dataclass
class WriteGuard(Generic[T]):
    """How to make one write exactly-once.

    `key`: the ledger's idempotency key (sent as `Idempotency-Key` when `platform_idempotency` is True).
    `find_existing`: read-back returning the earlier result if the write already landed, else None.
    `what`: words for the creator ("your post").
    """

    key: str
    what: str
    find_existing: Callable[[], T | None] | None = None
    platform_idempotency: bool = False


@dataclass
class ReliableClient:
    platform: str
    account: str
    http: httpx.Client
    budgets: BudgetBook = field(default_factory=BudgetBook)
    gate: PriorityGate = field(default_factory=PriorityGate)
    policy: RetryPolicy = field(default_factory=RetryPolicy)
    sleep: Callable[[float], None] = time.sleep
    on_unauthorized: Callable[[], bool] | None = None
    # Which responses mean "the access token expired" (atproto answers 400 ExpiredToken, not 401).
    is_unauthorized: Callable[[httpx.Response], bool] = field(default=lambda r: r.status_code == 401)
    # Extra headers for every request (e.g. Authorization); a callable so a refreshed token is picked up.
    auth_headers: Callable[[], dict[str, str]] = field(default=lambda: {})

    # --- reads -------------------------------------------------------------------------------------
    def read(self, method: str, url: str, *, priority: Priority = Priority.CREATOR, bucket: str = "default",
             cost: int = 1, **kwargs: Any) -> httpx.Response:
        def attempt() -> httpx.Response:
            try:
                response = self._send(method, url, priority=priority, bucket=bucket, cost=cost, **kwargs)
            except httpx.TransportError as exc:
                raise _Retryable(f"{type(exc).__name__}: {exc}") from exc
            if response.status_code in RETRYABLE_STATUS:
                raise _Retryable(f"HTTP {response.status_code}", self._retry_after(response), response)
            return response

        response = self._retrying(attempt)
        if response.is_success:
            return response
        raise classify(self.platform, response, retry_after=self._retry_after(response))

    # --- writes ------------------------------------------------------------------------------------
    def write(self, method: str, url: str, guard: WriteGuard[T], parse: Callable[[httpx.Response], T], *,
              priority: Priority = Priority.CREATOR, bucket: str = "default", cost: int = 1,
              **kwargs: Any) -> T:
        if guard.platform_idempotency:
            headers = dict(kwargs.pop("headers", None) or {})
            headers["Idempotency-Key"] = guard.key
            kwargs["headers"] = headers
        # check_next: the last attempt's outcome is open, look before sending again.
        # maybe_done: some attempt may have landed and no read-back has ruled it out since.
        state = {"check_next": False, "maybe_done": False}

        def attempt() -> T:
            if state["check_next"]:
                state["check_next"] = False
                if guard.find_existing is not None:
                    existing = self._read_back(guard)
                    if existing is not None:
                        log.info("write already happened; not repeated", extra={"tool": f"{self.platform}.write"})
                        return existing
                    state["maybe_done"] = False
                elif not guard.platform_idempotency:
                    raise OutcomeUnknown(self.platform, guard.what)
            try:
                response = self._send(method, url, priority=priority, bucket=bucket, cost=cost, **kwargs)
            except NOT_SENT as exc:
                raise _Retryable(f"could not connect: {exc}") from exc
            except httpx.TransportError as exc:  # sent, but no answer: it may have happened
                state["check_next"] = state["maybe_done"] = True
                raise _Retryable(f"{type(exc).__name__}: {exc}", outcome_unknown=True) from exc
            if response.status_code == 429 or (response.status_code == 503 and "retry-after" in response.headers):
                raise _Retryable(f"HTTP {response.status_code}", self._retry_after(response), response)
            if response.status_code in RETRYABLE_STATUS:
                state["check_next"] = state["maybe_done"] = True
                raise _Retryable(f"HTTP {response.status_code}", self._retry_after(response), response,
                                 outcome_unknown=True)
            if not response.is_success:
                raise classify(self.platform, response, retry_after=self._retry_after(response))
            return parse(response)

        try:
            return self._retrying(attempt)
        except RetryLater:
            if not state["maybe_done"]:
                raise  # every attempt is known not to have happened: "nothing was done" is true
            # Out of attempts with an open outcome: one more read-back decides between done and not done.
            if guard.find_existing is not None:
                existing = self._read_back(guard)
                if existing is not None:
                    return existing
                raise
            raise OutcomeUnknown(self.platform, guard.what) from None

    def _read_back(self, guard: WriteGuard[T]) -> T | None:
        """The guard's check; if the check itself fails, the outcome stays unknown (never "nothing was done")."""
        assert guard.find_existing is not None
        try:
            return guard.find_existing()
        except ProviderError as exc:
            log.warning("read-back failed: %s", exc.message, extra={"tool": f"{self.platform}.write"})
            raise OutcomeUnknown(self.platform, guard.what) from exc

    # --- plumbing ----------------------------------------------------------------------------------
    def _retrying(self, attempt: Callable[[], T]) -> T:
        policy = self.policy

        def wait(state: RetryCallState) -> float:
            exc = state.outcome.exception() if state.outcome else None
            delay = policy.backoff(state.attempt_number)
            if isinstance(exc, _Retryable) and exc.retry_after is not None:
                delay = max(delay, exc.retry_after)
            return delay

        def give_up(state: RetryCallState) -> T:
            exc = state.outcome.exception() if state.outcome else None
            assert isinstance(exc, _Retryable)
            if exc.response is not None:
                raise classify(self.platform, exc.response, retry_after=exc.retry_after)
            raise RetryLater(self.platform, exc.reason, retry_after=exc.retry_after)

        def too_long(state: RetryCallState) -> bool:
            exc = state.outcome.exception() if state.outcome else None
            return isinstance(exc, _Retryable) and (exc.retry_after or 0) > policy.max_retry_after

        attempts = stop_after_attempt(policy.attempts)

        def stop(state: RetryCallState) -> bool:
            return bool(attempts(state)) or too_long(state)

        retrying = Retrying(
            retry=retry_if_exception_type(_Retryable),
            stop=stop,
            wait=wait,
            sleep=self.sleep,
            retry_error_callback=give_up,
            reraise=False,
        )
        return retrying(attempt)

    def _send(self, method: str, url: str, *, priority: Priority, bucket: str, cost: int,
              **kwargs: Any) -> httpx.Response:
        key = BudgetKey(self.account, self.platform, bucket)
        wait = self.budgets.check(key, cost, priority)
        if wait > 0:
            if wait > self.policy.max_retry_after:
                raise RetryLater(self.platform, "the rate limit for this account is used up", retry_after=wait)
            self.sleep(wait)  # the window has reset by now; the response headers will say what is left
        refreshed = False
        while True:
            headers = {**self.auth_headers(), **dict(kwargs.get("headers") or {})}
            with self.gate.turn((self.account, self.platform), priority):
                response = self.http.request(method, url, **{**kwargs, "headers": headers})
            self.budgets.observe(key, response.headers)
            if response.status_code == 429:
                self.budgets.exhaust(key, self._retry_after(response))
            if not refreshed and self.on_unauthorized is not None and self.is_unauthorized(response):
                refreshed = True
                if self.on_unauthorized():
                    continue
            return response

    def _retry_after(self, response: httpx.Response) -> float | None:
        now = datetime.now(UTC)
        retry_after = parse_retry_after(response.headers.get("retry-after"), now)
        if retry_after is None and response.status_code == 429:
            budget = self.budgets.budget(BudgetKey(self.account, self.platform))
            seconds = budget.wait_seconds(now)
            return seconds or None
        return retry_after


__all__ = ["ProviderError", "ReliableClient", "RetryPolicy", "WriteGuard"]
