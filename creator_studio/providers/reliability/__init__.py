"""The reliability layer every real provider (social, email, payments) goes through.

Use:

    from creator_studio.providers.reliability import ReliableClient, WriteGuard, Priority

    client = ReliableClient(platform="kit", account="me@example.com", http=httpx.Client(base_url=...),
                            auth_headers=lambda: {"X-Kit-Api-Key": key})
    data = client.read("GET", "/v4/subscribers").json()          # retried with backoff + Retry-After
    sub = client.write("POST", "/v4/subscribers", WriteGuard(key=idempotency_key, what="the new subscriber",
                       find_existing=lambda: lookup_by_email(...)), parse=lambda r: r.json(), json=body)

- `read`: retries 408/429/5xx/transport errors (tenacity, exponential backoff with full jitter, honouring
  Retry-After as seconds or an HTTP date), then raises a typed error.
- `write`: exactly-once. Never blind-retried: an unknown outcome (timeout, reset, 5xx) is repeated only after
  `find_existing` says it did not happen, or when `platform_idempotency=True` (the key is then sent as the
  `Idempotency-Key` header and the platform de-duplicates). Otherwise `OutcomeUnknown` is raised.
- Errors (all `StudioError`s): `ReauthorizeRequired`, `BadRequest` (`.field`), `RetryLater` (`.retry_after`),
  `Disconnected`, `OutcomeUnknown`; `classify(platform, response)` maps any response to one of them.
- `BudgetBook`: per (account, platform, bucket) budgets fed by `X-RateLimit-*`, `x-rate-limit-*` and
  `RateLimit-*` headers; `set_quota` for Bluesky points and Threads' publishing quota. `Priority` (CREATOR >
  SCHEDULED > BACKGROUND) orders calls in `PriorityGate` and keeps a reserve of the budget for higher ones.
"""

from creator_studio.providers.reliability.budgets import (
    BLUESKY_POINTS,
    BudgetBook,
    BudgetKey,
    Priority,
    RateBudget,
    parse_reset,
    parse_retry_after,
)
from creator_studio.providers.reliability.client import ReliableClient, RetryPolicy, WriteGuard
from creator_studio.providers.reliability.errors import (
    BadRequest,
    Disconnected,
    OutcomeUnknown,
    ProviderError,
    ReauthorizeRequired,
    RetryLater,
    classify,
)
from creator_studio.providers.reliability.queue import PriorityGate

__all__ = [
    "BLUESKY_POINTS",
    "BadRequest",
    "BudgetBook",
    "BudgetKey",
    "Disconnected",
    "OutcomeUnknown",
    "Priority",
    "PriorityGate",
    "ProviderError",
    "RateBudget",
    "ReauthorizeRequired",
    "ReliableClient",
    "RetryLater",
    "RetryPolicy",
    "WriteGuard",
    "classify",
    "parse_reset",
    "parse_retry_after",
]
