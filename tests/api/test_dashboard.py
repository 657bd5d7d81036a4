"""The Command Center page over HTTP (the browser test drives it for real): login cookie, fragments,
chat and approvals from the page, the live stream, and what a viewer may not do."""

from __future__ import annotations

import re
import threading
import time

import pytest
from fastapi.testclient import TestClient

from creator_studio.studio import Studio
from tests.api.conftest import Tokens

pytestmark = pytest.mark.integration


def login(client: TestClient, token: str) -> None:
    response = client.post("/login", data={"token": token}, follow_redirects=False)
    assert response.status_code == 303 and response.headers["location"] == "/dashboard"
    cookie = response.headers["set-cookie"]
    assert "HttpOnly" in cookie and "SameSite=strict" in cookie and "Path=/" in cookie


def test_login_sets_a_strict_http_only_session_and_the_page_renders(client: TestClient, tokens: Tokens) -> None:
    assert client.get("/dashboard", follow_redirects=False).headers["location"] == "/login"
    bad = client.post("/login", data={"token": "cs_nope_nope"})
    assert bad.status_code == 401 and 'role="alert"' in bad.text
    login(client, tokens.viewer)
    page = client.get("/dashboard")
    assert page.status_code == 200
    html = page.text
    for marker in ('sse-connect="/dashboard/stream"', 'data-tile="followers"', 'data-tile="revenue"',
                   'data-tile="workflows"', 'data-tile="errors"', 'data-tile="engagement"', '<label for="goal">',
                   'aria-live="polite"', "<svg", "Content calendar", "/static/vendor/htmx-2.0.11.min.js"):
        assert marker in html, marker
    assert "https://" not in re.sub(r'xmlns="[^"]+"', "", html)  # no CDN, nothing loaded from elsewhere
    assert client.get("/static/vendor/htmx-ext-sse-2.2.4.min.js").status_code == 200
    client.post("/logout")
    assert client.get("/dashboard", follow_redirects=False).status_code == 303


def test_chat_and_approve_from_the_page(client: TestClient, tokens: Tokens) -> None:
    login(client, tokens.editor)
    turn = client.post("/dashboard/chat", data={"goal": "Draft a LinkedIn post about my course launch and "
                                                         "schedule it for Friday 9am"})
    assert turn.status_code == 200
    approval_id = re.search(r'id="chat-approval-([^"]+)"', turn.text)
    assert approval_id, turn.text
    assert "schedule_post" in turn.text
    queue = client.get("/dashboard/fragments/approvals").text
    assert approval_id.group(1) in queue
    decided = client.post(f"/dashboard/approvals/{approval_id.group(1)}/approve", data={"prefix": "chat-approval"})
    assert decided.status_code == 200 and "Approved" in decided.text and "completed" in decided.text
    calendar = client.get("/dashboard/fragments/calendar").text
    assert 'class="badge scheduled">scheduled' in calendar
    timeline = client.get("/dashboard/fragments/timeline").text
    assert "content → draft_post" in timeline and " ms" in timeline


def test_viewers_cannot_act_and_cross_site_posts_are_refused(client: TestClient, tokens: Tokens) -> None:
    login(client, tokens.viewer)
    turn = client.post("/dashboard/chat", data={"goal": "Draft a post"})
    assert "can look but not act" in turn.text
    refused = client.post("/dashboard/chat", data={"goal": "x"}, headers={"Origin": "https://evil.example"})
    assert refused.status_code == 403
    cross_site_login = client.post("/login", data={"token": tokens.owner}, headers={"Origin": "https://evil.example"})
    assert cross_site_login.status_code == 403 and "set-cookie" not in cross_site_login.headers


def test_the_live_stream_pushes_fresh_tiles_when_something_changes(client: TestClient, tokens: Tokens,
                                                                   studio: Studio) -> None:
    login(client, tokens.viewer)

    def change_soon() -> None:
        time.sleep(0.5)
        studio.events.publish("audience.follower_gained", "default", {"platform": "x", "count": 42}, source="test")

    threading.Thread(target=change_soon, daemon=True).start()
    lines: list[str] = []
    with client.stream("GET", "/dashboard/stream") as stream:
        for line in stream.iter_lines():
            lines.append(line)
            if line.startswith("event: tiles"):
                continue
            if "+42 in 30 days" in line:
                break
    assert any(line == "event: tiles" for line in lines)
    assert any("+42 in 30 days" in line for line in lines)
