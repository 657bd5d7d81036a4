"""Fault injection over every HTTP adapter: 30% of calls get a 429, a 503 before the platform acted, a lost
answer (timeout or 500) after it acted, or a slow answer. Every intended post must land exactly once, or end
with an error that tells the truth (RetryLater: it did not land; OutcomeUnknown: Studio could not tell)."""

from __future__ import annotations

import json
import random
import time
from collections.abc import Callable
from typing import Any

import httpx
import pytest

from creator_studio.providers.reliability import OutcomeUnknown, RetryLater
from creator_studio.providers.social.adapter import PlatformAdapter
from creator_studio.providers.social.platforms.linkedin import LinkedInAdapter, little_text
from creator_studio.providers.social.platforms.mastodon import MastodonAdapter
from creator_studio.providers.social.platforms.threads import ThreadsAdapter
from creator_studio.providers.social.platforms.x import XAdapter

pytestmark = pytest.mark.unit


class FakePlatform:
    """A stateful stand-in keeping the posts it created; `route` answers one request as the platform would."""

    def __init__(self, seed: int, route: Callable[[FakePlatform, httpx.Request], httpx.Response]) -> None:
        self.rng = random.Random(seed)
        self.route = route
        self.posts: list[dict[str, Any]] = []
        self.containers: dict[str, str] = {}
        self.published: set[str] = set()
        self.keys: dict[str, dict[str, Any]] = {}
        self.faults = 0

    def __call__(self, request: httpx.Request) -> httpx.Response:
        if self.rng.random() >= 0.3:
            return self.route(self, request)
        self.faults += 1
        fault = self.rng.choice(["429", "503-before", "timeout-after", "500-after", "slow"])
        if fault == "429":
            return httpx.Response(429, headers={"Retry-After": "2"}, json={"error": "Too many requests"})
        if fault == "503-before":
            return httpx.Response(503, json={"error": "unavailable"})
        if fault == "slow":
            time.sleep(0.01)
            return self.route(self, request)
        self.route(self, request)
        if fault == "timeout-after":
            raise httpx.ReadTimeout("answer lost", request=request)
        return httpx.Response(500, json={"error": "internal"})

    def add(self, text: str) -> dict[str, Any]:
        post = {"id": str(1000 + len(self.posts)), "text": text}
        self.posts.append(post)
        return post


def mastodon_route(fake: FakePlatform, request: httpx.Request) -> httpx.Response:
    if request.url.path == "/api/v2/instance":
        return httpx.Response(200, json={"configuration": {"statuses": {"max_characters": 500}}})
    key = request.headers["Idempotency-Key"]
    if key not in fake.keys:  # Mastodon answers a repeated Idempotency-Key with the first status
        fake.keys[key] = fake.add(json.loads(request.content)["status"])
    post = fake.keys[key]
    return httpx.Response(200, json={"id": post["id"], "content": f"<p>{post['text']}</p>",
                                     "created_at": "2026-11-25T14:00:00Z", "url": f"https://m.test/@m/{post['id']}"})


def x_route(fake: FakePlatform, request: httpx.Request) -> httpx.Response:
    if request.method == "GET":
        return httpx.Response(200, json={"data": [{"id": p["id"], "text": p["text"],
                                                   "created_at": "2026-11-25T14:00:00.000Z"}
                                                  for p in reversed(fake.posts[-10:])]})
    post = fake.add(json.loads(request.content)["text"])
    return httpx.Response(201, json={"data": post})


def linkedin_route(fake: FakePlatform, request: httpx.Request) -> httpx.Response:
    if request.method == "GET":
        return httpx.Response(200, json={"elements": [{"id": f"urn:li:share:{p['id']}", "commentary": p["text"]}
                                                      for p in reversed(fake.posts[-10:])]})
    post = fake.add(json.loads(request.content)["commentary"])
    return httpx.Response(201, headers={"x-restli-id": f"urn:li:share:{post['id']}"})


def threads_route(fake: FakePlatform, request: httpx.Request) -> httpx.Response:
    path = request.url.path
    if path.endswith("threads_publishing_limit"):
        return httpx.Response(200, json={"data": [{"quota_usage": len(fake.posts),
                                                   "config": {"quota_total": 250, "quota_duration": 86400}}]})
    if path.endswith("/threads") and request.method == "POST":
        container = f"c{len(fake.containers)}"
        fake.containers[container] = request.url.params["text"]
        return httpx.Response(200, json={"id": container})
    if path.endswith("/threads"):
        return httpx.Response(200, json={"data": [{"id": p["id"], "text": p["text"]} for p in fake.posts[-10:]]})
    container = request.url.params["creation_id"]
    if container in fake.published:
        return httpx.Response(400, json={"error": {"message": "The media has already been published",
                                                   "type": "OAuthException", "code": 100}})
    fake.published.add(container)
    return httpx.Response(200, json={"id": fake.add(fake.containers[container])["id"]})


def no_sleep(seconds: float) -> None:
    """Backoff is not waited for in this test."""


def build(platform: str, fake: FakePlatform) -> PlatformAdapter:
    http = httpx.Client(transport=httpx.MockTransport(fake), base_url="https://api.test")
    if platform == "mastodon":
        return MastodonAdapter("https://api.test", "t", handle="m", account_id="1", http=http, sleep=no_sleep)
    if platform == "x":
        return XAdapter(lambda: "t", handle="m", user_id="1", http=http, sleep=no_sleep)
    if platform == "linkedin":
        return LinkedInAdapter(lambda: "t", handle="m", person_urn="urn:li:person:1", http=http, sleep=no_sleep)
    return ThreadsAdapter(lambda: "t", handle="m", user_id="1", http=http, sleep=no_sleep)


ROUTES = {"mastodon": mastodon_route, "x": x_route, "linkedin": linkedin_route, "threads": threads_route}


@pytest.mark.parametrize("platform", sorted(ROUTES))
def test_every_post_lands_once_or_fails_truthfully(platform: str) -> None:
    fake = FakePlatform(seed=len(platform), route=ROUTES[platform])
    adapter = build(platform, fake)
    outcomes: dict[str, str] = {}
    for n in range(60):
        text = f"{platform} post number {n}"
        try:
            adapter.publish(text, idempotency_key=f"{platform}-{n}")
            outcomes[text] = "ok"
        except RetryLater as exc:
            assert "nothing was done" in exc.message
            outcomes[text] = "not done"
        except OutcomeUnknown as exc:
            assert "not sent again" in exc.message
            outcomes[text] = "unknown"
    stored = [p["text"] for p in fake.posts]
    if platform == "linkedin":
        outcomes = {little_text(t): o for t, o in outcomes.items()}
    assert fake.faults >= 15
    assert len(stored) == len(set(stored)), "a post landed twice"
    for text, outcome in outcomes.items():
        assert stored.count(text) == {"ok": 1, "not done": 0, "unknown": stored.count(text)}[outcome], (text, outcome)
    assert sum(o == "ok" for o in outcomes.values()) >= 54
