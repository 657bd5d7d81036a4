"""`GET /api/metrics` is cached per workspace, and a change is visible on the very next request: a studio
event, a write through the API, or (for changes nothing announces) the end of a short TTL."""

from __future__ import annotations

import threading
import time

import pytest
from fastapi.testclient import TestClient

from creator_studio.api.summary_cache import SummaryCache
from creator_studio.automation.definitions import WorkflowDefinition
from creator_studio.studio import Studio
from tests.api.conftest import Tokens

pytestmark = pytest.mark.integration

HOURLY = {"trigger": {"type": "cron", "cron": "0 * * * *"},
          "steps": [{"type": "tool", "tool": "suggest_topics", "args": {"count": 1}}]}


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def active_workflows(client: TestClient, tokens: Tokens, role: str = "viewer") -> int:
    response = client.get("/api/metrics", headers=tokens.auth(role))
    assert response.status_code == 200, response.text
    return int(response.json()["automation"]["active_workflows"])


def add_workflow_behind_the_apis_back(studio: Studio, name: str) -> None:
    """A change that no event announces (as another process would make it)."""
    studio.automation.create_workflow(studio.workspaces.get("default"), name=name,
                                      definition=WorkflowDefinition.model_validate(HOURLY),
                                      idempotency_key=f"quiet-{name}", now=studio.now())


def test_an_event_makes_the_next_request_see_the_change(client: TestClient, tokens: Tokens, studio: Studio) -> None:
    cache: SummaryCache = client.app.state.api.summaries  # type: ignore[attr-defined]
    before = active_workflows(client, tokens)
    assert active_workflows(client, tokens) == before and cache.hits >= 1  # the second read was the cache's
    add_workflow_behind_the_apis_back(studio, "Quiet one")
    assert active_workflows(client, tokens) == before  # cached: nothing announced the change yet
    studio.events.publish("audience.follower_gained", "default", {"platform": "x", "count": 1}, source="test")
    assert active_workflows(client, tokens) == before + 1  # the event dropped the cached summary


def test_a_write_through_the_api_is_visible_at_once(client: TestClient, tokens: Tokens) -> None:
    before = active_workflows(client, tokens)
    created = client.post("/api/workflows", json={"name": "Loud one", "definition": HOURLY},
                          headers=tokens.auth("editor"))
    assert created.status_code == 201
    assert active_workflows(client, tokens) == before + 1
    archived = client.delete(f"/api/workflows/{created.json()['id']}", headers=tokens.auth("editor"))
    assert archived.status_code == 200
    assert active_workflows(client, tokens) == before


def test_the_ttl_bounds_staleness_and_workspaces_stay_apart(client: TestClient, tokens: Tokens,
                                                           studio: Studio) -> None:
    clock = FakeClock()
    client.app.state.api.summaries = SummaryCache(ttl_s=5, clock=clock)  # type: ignore[attr-defined]
    before = active_workflows(client, tokens)
    other = active_workflows(client, tokens, "other_owner")
    assert other == 0 and before > 0  # one workspace's cached numbers are never another's
    add_workflow_behind_the_apis_back(studio, "Quiet two")
    clock.now += 4.9
    assert active_workflows(client, tokens) == before
    clock.now += 0.2
    assert active_workflows(client, tokens) == before + 1


def test_a_change_during_computation_is_not_hidden() -> None:
    """A summary computed while an invalidation happened is returned but not stored."""
    cache = SummaryCache(ttl_s=60)
    started, release = threading.Event(), threading.Event()
    calls: list[str] = []

    def slow() -> bytes:
        calls.append("slow")
        started.set()
        assert release.wait(10)
        return b"old numbers"

    worker = threading.Thread(target=lambda: cache.get("ws", "30d", slow))
    worker.start()
    assert started.wait(10)
    cache.invalidate("ws")  # an event arrives mid-computation
    release.set()
    worker.join(10)
    assert cache.get("ws", "30d", lambda: b"new numbers") == b"new numbers"
    assert cache.get("ws", "30d", lambda: b"not called") == b"new numbers"  # now cached
    assert cache.get("ws", "7d", lambda: b"7d numbers") == b"7d numbers"  # each period is its own entry
    assert calls == ["slow"]


def test_concurrent_misses_compute_once() -> None:
    cache = SummaryCache(ttl_s=60)
    gate = threading.Event()
    computed: list[int] = []

    def compute() -> bytes:
        computed.append(1)
        assert gate.wait(10)
        return b"numbers"

    results: list[bytes] = []
    threads = [threading.Thread(target=lambda: results.append(cache.get("ws", "30d", compute))) for _ in range(8)]
    for thread in threads:
        thread.start()
    gate.set()
    for thread in threads:
        thread.join(10)
    assert results == [b"numbers"] * 8 and len(computed) == 1


def test_waiters_share_a_result_computed_after_they_arrived() -> None:
    """Requests queued behind a computation take the next one's result, even if an event kept it from being
    stored, instead of recomputing one after another; the computation they arrived during is never theirs."""
    cache = SummaryCache(ttl_s=60)
    gate = threading.Event()
    calls: list[int] = []

    def compute() -> bytes:
        calls.append(1)
        if len(calls) == 1:
            assert gate.wait(10)
            return b"first"
        cache.invalidate("ws")  # an event lands during the second computation too
        return b"second" if len(calls) == 2 else b"third"

    first: list[bytes] = []
    waiters: list[bytes] = []
    thread_a = threading.Thread(target=lambda: first.append(cache.get("ws", "30d", compute)))
    thread_a.start()
    deadline = time.monotonic() + 10
    while not calls and time.monotonic() < deadline:
        time.sleep(0.01)
    others = [threading.Thread(target=lambda: waiters.append(cache.get("ws", "30d", compute))) for _ in range(2)]
    for thread in others:
        thread.start()
    while cache._tickets < 4 and time.monotonic() < deadline:  # both have arrived (A took two tickets)
        time.sleep(0.01)
    cache.invalidate("ws")  # the change that made them ask: the first computation may not have seen it
    gate.set()
    for thread in [thread_a, *others]:
        thread.join(10)
    assert first == [b"first"] and waiters == [b"second", b"second"] and len(calls) == 2
