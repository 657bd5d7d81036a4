"""The reliability layer: retries for reads, exactly-once writes, typed errors, budgets and priorities."""

from __future__ import annotations

import random
import threading
import time
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from typing import Any

import httpx
import pytest

from creator_studio.errors import StudioError
from creator_studio.providers.reliability import (
    BadRequest,
    BudgetBook,
    BudgetKey,
    Disconnected,
    OutcomeUnknown,
    Priority,
    PriorityGate,
    ReauthorizeRequired,
    ReliableClient,
    RetryLater,
    RetryPolicy,
    WriteGuard,
    classify,
    parse_retry_after,
)

pytestmark = pytest.mark.unit


def make_client(handler: Any, **kwargs: Any) -> tuple[ReliableClient, list[float]]:
    sleeps: list[float] = []
    client = ReliableClient(platform="mastodon", account="maya", sleep=sleeps.append,
                            http=httpx.Client(transport=httpx.MockTransport(handler), base_url="https://m.test"),
                            policy=RetryPolicy(attempts=4, base_delay=0.01, max_delay=0.05), **kwargs)
    return client, sleeps


def test_read_retries_server_errors_and_waits_retry_after_seconds() -> None:
    answers = iter([httpx.Response(503, headers={"Retry-After": "7"}), httpx.Response(502),
                    httpx.Response(200, json={"ok": True})])
    client, sleeps = make_client(lambda request: next(answers))
    assert client.read("GET", "/api/v1/x").json() == {"ok": True}
    assert len(sleeps) == 2
    assert sleeps[0] == pytest.approx(7.0)
    assert sleeps[1] <= 0.05


def test_retry_after_as_http_date() -> None:
    now = datetime(2026, 11, 25, 14, 0, tzinfo=UTC)
    assert parse_retry_after(format_datetime(now + timedelta(seconds=30), usegmt=True), now) == pytest.approx(30)
    assert parse_retry_after("12", now) == 12
    assert parse_retry_after("soon", now) is None


def test_read_gives_up_with_retry_later_after_the_attempts() -> None:
    calls = []

    def handler(request: httpx.Request) -> httpx.Response:
        calls.append(request)
        return httpx.Response(500, json={"error": "boom"})

    client, _ = make_client(handler)
    with pytest.raises(RetryLater) as info:
        client.read("GET", "/x")
    assert len(calls) == 4
    assert "nothing was done" in info.value.message and isinstance(info.value, StudioError)


def test_long_retry_after_is_not_waited_for_inside_the_call() -> None:
    client, sleeps = make_client(lambda r: httpx.Response(429, headers={"Retry-After": "900"}))
    with pytest.raises(RetryLater) as info:
        client.read("GET", "/x")
    assert info.value.retry_after == 900
    assert "15 minutes" in info.value.message
    assert sleeps == []


def test_bad_request_names_the_field() -> None:
    x_error = {"errors": [{"parameters": {"text": ["too long"]}, "message": "Text is too long"}],
               "title": "Invalid Request", "detail": "One or more parameters to your request was invalid.",
               "type": "https://api.twitter.com/2/problems/invalid-request"}
    error = classify("x", httpx.Response(400, json=x_error))
    assert isinstance(error, BadRequest) and error.field == "text"
    mastodon = classify("mastodon", httpx.Response(422, json={"error": "Validation failed: Text can't be blank"}))
    assert isinstance(mastodon, BadRequest) and mastodon.field == "text"
    assert "Text can't be blank" in mastodon.message
    linkedin = {"message": "Invalid", "status": 422, "errorDetails": {"inputErrors": [
        {"input": {"inputPath": {"fieldPath": "commentary"}}, "code": "FIELD_LENGTH_TOO_LONG"}]}}
    assert classify("linkedin", httpx.Response(422, json=linkedin)).field == "commentary"  # type: ignore[attr-defined]


def test_error_kinds() -> None:
    assert isinstance(classify("bluesky", httpx.Response(400, json={"error": "ExpiredToken", "message": "x"})),
                      ReauthorizeRequired)
    assert isinstance(classify("mastodon", httpx.Response(401, json={"error": "The access token is invalid"})),
                      ReauthorizeRequired)
    assert isinstance(classify("mastodon", httpx.Response(403, json={"error": "Your login is suspended"})),
                      Disconnected)
    graph = {"error": {"message": "Error validating access token", "type": "OAuthException", "code": 190}}
    assert isinstance(classify("threads", httpx.Response(400, json=graph)), ReauthorizeRequired)
    assert "studio connect threads" in classify("threads", httpx.Response(400, json=graph)).message


def test_unauthorized_refreshes_once_then_repeats() -> None:
    tokens = ["old"]

    def handler(request: httpx.Request) -> httpx.Response:
        if request.headers["Authorization"] == "Bearer old":
            return httpx.Response(401, json={"error": "expired"})
        return httpx.Response(200, json={"ok": 1})

    def refresh() -> bool:
        tokens[0] = "new"
        return True

    client, _ = make_client(handler, on_unauthorized=refresh,
                            auth_headers=lambda: {"Authorization": f"Bearer {tokens[0]}"})
    assert client.read("GET", "/x").json() == {"ok": 1}
    failing, _ = make_client(lambda r: httpx.Response(401, json={"error": "revoked"}), on_unauthorized=lambda: False)
    with pytest.raises(ReauthorizeRequired):
        failing.read("GET", "/x")


class FakePlatform:
    """Holds posts; can apply a write and then lose the answer (the worst case for exactly-once)."""

    def __init__(self, faults: list[str]) -> None:
        self.posts: list[dict[str, Any]] = []
        self.faults = faults
        self.calls = 0
        self.seen_keys: dict[str, dict[str, Any]] = {}

    def handler(self, request: httpx.Request) -> httpx.Response:
        if request.method == "GET":
            return httpx.Response(200, json=self.posts)
        self.calls += 1
        fault = self.faults.pop(0) if self.faults else "ok"
        key = request.headers.get("Idempotency-Key")
        if fault == "refused":
            raise httpx.ConnectError("refused", request=request)
        if fault == "429":
            return httpx.Response(429, headers={"Retry-After": "1"}, json={"error": "Too many requests"})
        if fault == "503-before":
            return httpx.Response(503)
        if key and key in self.seen_keys:
            return httpx.Response(200, json=self.seen_keys[key])
        post = {"id": str(len(self.posts) + 1), "text": request.read().decode()}
        self.posts.append(post)
        if key:
            self.seen_keys[key] = post
        if fault == "timeout-after":
            raise httpx.ReadTimeout("lost the answer", request=request)
        if fault == "500-after":
            return httpx.Response(500)
        return httpx.Response(200, json=post)


def _post(client: ReliableClient, platform: FakePlatform, text: str, *, read_back: bool = True,
          platform_idempotency: bool = False) -> dict[str, Any]:
    def find() -> dict[str, Any] | None:
        return next((p for p in platform.posts if p["text"] == text), None)

    guard = WriteGuard[dict[str, Any]](key=f"key-{text}", what="your post",
                                       find_existing=find if read_back else None,
                                       platform_idempotency=platform_idempotency)
    return client.write("POST", "/statuses", guard, lambda r: dict(r.json()), content=text.encode())


@pytest.mark.parametrize("fault", ["timeout-after", "500-after", "503-before", "refused", "429"])
def test_write_with_unknown_outcome_is_checked_before_it_is_repeated(fault: str) -> None:
    platform = FakePlatform([fault])
    client, _ = make_client(platform.handler)
    post = _post(client, platform, "hello")
    assert [p["text"] for p in platform.posts] == ["hello"]
    assert post["text"] == "hello"


def test_idempotent_write_that_may_have_landed_is_not_reported_as_not_done() -> None:
    platform = FakePlatform(["timeout-after", "429", "429", "429"])
    client, _ = make_client(platform.handler)
    with pytest.raises(OutcomeUnknown):
        _post(client, platform, "hello", read_back=False, platform_idempotency=True)
    assert len(platform.posts) == 1


def test_failing_read_back_leaves_the_outcome_unknown() -> None:
    platform = FakePlatform(["timeout-after"])
    client, _ = make_client(platform.handler)

    def broken_check() -> dict[str, Any] | None:
        raise RetryLater("mastodon", "HTTP 503")

    guard = WriteGuard[dict[str, Any]](key="k", what="your post", find_existing=broken_check)
    with pytest.raises(OutcomeUnknown):
        client.write("POST", "/statuses", guard, lambda r: dict(r.json()), content=b"hello")
    assert platform.calls == 1


def test_write_is_never_blind_retried() -> None:
    platform = FakePlatform(["timeout-after"])
    client, _ = make_client(platform.handler)
    with pytest.raises(OutcomeUnknown) as info:
        _post(client, platform, "hello", read_back=False)
    assert platform.calls == 1
    assert "not sent again" in info.value.message


def test_platform_idempotency_key_makes_the_repeat_safe() -> None:
    platform = FakePlatform(["timeout-after", "503-before", "timeout-after"])
    client, _ = make_client(platform.handler)
    post = _post(client, platform, "hello", read_back=False, platform_idempotency=True)
    assert platform.calls == 3  # the repeat carried the same key, so the platform answered with the first post
    assert len(platform.posts) == 1 and post == platform.posts[0]


def test_bad_request_on_write_is_not_retried() -> None:
    calls = []

    def handler(request: httpx.Request) -> httpx.Response:
        calls.append(1)
        return httpx.Response(422, json={"error": "Validation failed: Text can't be blank"})

    client, _ = make_client(handler)
    with pytest.raises(BadRequest):
        client.write("POST", "/s", WriteGuard[dict[str, Any]](key="k", what="your post",
                                                              find_existing=lambda: None), lambda r: {})
    assert calls == [1]


def test_fault_injection_every_write_lands_once_or_fails_with_a_reason() -> None:
    rng = random.Random(6)
    kinds = ["timeout-after", "500-after", "503-before", "refused", "429"]
    faults = [rng.choice(kinds) if rng.random() < 0.3 else "ok" for _ in range(2000)]
    platform = FakePlatform(faults)
    client, _ = make_client(platform.handler)
    outcomes: dict[str, str] = {}
    for n in range(200):
        text = f"post {n}"
        try:
            _post(client, platform, text, read_back=n % 2 == 0, platform_idempotency=n % 2 == 1)
            outcomes[text] = "ok"
        except RetryLater as exc:  # says "nothing was done": that must be true
            assert "nothing was done" in exc.message
            outcomes[text] = "not done"
        except OutcomeUnknown as exc:
            assert "not sent again" in exc.message
            outcomes[text] = "unknown"
    texts = [p["text"] for p in platform.posts]
    assert len(texts) == len(set(texts)), "a post was published twice"
    for text, outcome in outcomes.items():
        assert texts.count(text) == {"ok": 1, "not done": 0, "unknown": texts.count(text)}[outcome], (text, outcome)
    assert sum(1 for o in outcomes.values() if o == "ok") >= 190


def test_budgets_read_all_three_header_spellings() -> None:
    now = datetime(2026, 11, 25, 14, 0, tzinfo=UTC)
    book = BudgetBook(clock=lambda: now)
    key = BudgetKey("maya", "x")
    book.observe(key, {"x-rate-limit-limit": "100", "x-rate-limit-remaining": "0",
                       "x-rate-limit-reset": str(int((now + timedelta(seconds=120)).timestamp()))})
    assert book.check(key) == pytest.approx(120)
    masto = BudgetKey("maya", "mastodon")
    book.observe(masto, {"X-RateLimit-Limit": "300", "X-RateLimit-Remaining": "299",
                         "X-RateLimit-Reset": (now + timedelta(minutes=5)).isoformat()})
    assert book.budget(masto).remaining == 299 and book.budget(masto).reset_at == now + timedelta(minutes=5)
    bsky = BudgetKey("maya", "bluesky")
    book.observe(bsky, {"RateLimit-Limit": "3000", "RateLimit-Remaining": "10", "RateLimit-Reset": "300"})
    assert book.budget(bsky).reset_at == now + timedelta(seconds=300)


def test_background_sync_leaves_a_reserve_for_the_creator() -> None:
    now = datetime(2026, 11, 25, 14, 0, tzinfo=UTC)
    book = BudgetBook(clock=lambda: now)
    key = BudgetKey("maya", "mastodon")
    book.observe(key, {"X-RateLimit-Limit": "100", "X-RateLimit-Remaining": "15",
                       "X-RateLimit-Reset": (now + timedelta(minutes=5)).isoformat()})
    assert book.check(key, priority=Priority.BACKGROUND) > 0
    assert book.check(key, priority=Priority.SCHEDULED) == 0
    assert book.check(key, priority=Priority.CREATOR) == 0
    book.set_quota(BudgetKey("maya", "threads", "publish"), limit=250, used=250, window=timedelta(hours=24),
                   unit="posts")
    assert book.check(BudgetKey("maya", "threads", "publish")) == pytest.approx(86400)


def test_priority_gate_serves_the_creator_first() -> None:
    gate = PriorityGate(concurrency=1)
    order: list[str] = []
    release = threading.Event()

    def hold() -> None:
        with gate.turn("k", Priority.CREATOR):
            release.wait(5)

    def call(name: str, priority: Priority) -> None:
        with gate.turn("k", priority):
            order.append(name)

    holder = threading.Thread(target=hold)
    holder.start()
    time.sleep(0.05)
    threads = [threading.Thread(target=call, args=(n, p)) for n, p in
               [("sync", Priority.BACKGROUND), ("scheduled", Priority.SCHEDULED), ("creator", Priority.CREATOR)]]
    for thread in threads:
        thread.start()
        time.sleep(0.05)
    assert gate.waiting("k") == [Priority.CREATOR, Priority.SCHEDULED, Priority.BACKGROUND]
    release.set()
    for thread in [holder, *threads]:
        thread.join(5)
    assert order == ["creator", "scheduled", "sync"]
