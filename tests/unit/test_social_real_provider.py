"""STUDIO_PROVIDERS=real: the tools publish through the connected account's adapter (exactly once)."""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import parse_qs

import httpx
import pytest
import respx
from pydantic import SecretStr

from creator_studio.connections.service import Credentials
from creator_studio.providers.social.real import RealSocialProvider
from creator_studio.providers.social.sandbox import SandboxSocialProvider
from creator_studio.studio import Studio
from creator_studio.tools.base import ToolContext
from creator_studio.tools.invoke import invoke_tool
from tests.conftest import FIXED_NOW, make_settings

pytestmark = pytest.mark.unit
M = "https://mastodon.test"
INSTANCE = {"configuration": {"statuses": {"max_characters": 500}}}


@pytest.fixture
def real_studio(tmp_path: Path, seeded_database: Path) -> Iterator[Studio]:
    home = tmp_path / "home"
    home.mkdir()
    shutil.copyfile(seeded_database, home / "studio.db")
    studio = Studio.open(make_settings(home, providers="real"), migrate_schema=False)
    studio.clock = lambda: FIXED_NOW
    studio.connections.add("default", "mastodon", handle="maya", account_id="42", base_url=M,
                           credentials=Credentials(access_token=SecretStr("masto-token")), scopes=["read", "write"])
    yield studio
    studio.close()


def test_default_configuration_stays_sandbox(studio: Studio) -> None:
    assert isinstance(studio.platforms, SandboxSocialProvider) and studio.platforms is studio.social


@respx.mock
def test_publish_tool_goes_to_the_connected_account_once(real_studio: Studio) -> None:
    assert isinstance(real_studio.platforms, RealSocialProvider)
    respx.get(f"{M}/api/v2/instance").respond(json=INSTANCE)
    route = respx.post(f"{M}/api/v1/statuses").mock(side_effect=[
        httpx.ReadTimeout("lost"),
        httpx.Response(200, json={"id": "1099", "created_at": "2026-11-25T14:00:00Z", "content": "<p>Hi</p>",
                                  "url": f"{M}/@maya/1099"})])
    ws = real_studio.workspaces.get("default")
    ctx = ToolContext(studio=real_studio, workspace=ws, agent="test", now=FIXED_NOW, run_id=None,
                      idempotency_key="publish-key-1")
    outcome = invoke_tool(ctx, "publish_post", {"text": "Hi from the real adapter", "platform": "mastodon"})
    assert outcome.ok, outcome.error
    assert outcome.result is not None and outcome.result["post"]["url"] == f"{M}/@maya/1099"
    assert {c.request.headers["Idempotency-Key"] for c in route.calls} == {"publish-key-1"}
    assert json.loads(route.calls[0].request.content) == {"status": "Hi from the real adapter"}
    again = invoke_tool(ctx, "publish_post", {"text": "Hi from the real adapter", "platform": "mastodon"})
    assert again.replayed and route.call_count == 2  # the ledger answered; Mastodon was not called again
    posts = real_studio.platforms.posts(ws.id)
    assert [(p.platform, p.account, p.url) for p in posts] == [("mastodon", "maya", f"{M}/@maya/1099")]
    assert [a.handle for a in real_studio.platforms.accounts(ws.id)] == ["maya"]


@respx.mock
def test_comments_are_synced_and_replied_to(real_studio: Studio) -> None:
    respx.get(f"{M}/api/v2/instance").respond(json=INSTANCE)
    respx.get(f"{M}/api/v1/notifications").respond(json=[
        {"id": "n1", "type": "mention", "created_at": "2026-11-25T13:00:00Z",
         "account": {"id": "7", "acct": "sam", "display_name": "Sam"},
         "status": {"id": "555", "in_reply_to_id": "1099", "in_reply_to_account_id": "42",
                    "content": "<p>Does it work offline?</p>", "created_at": "2026-11-25T13:00:00Z"}}])
    reply = respx.post(f"{M}/api/v1/statuses").respond(json={"id": "1100", "created_at": "2026-11-25T14:00:00Z",
                                                             "content": "<p>Yes</p>", "url": f"{M}/@maya/1100"})
    provider = real_studio.platforms
    ws = "default"
    comments = provider.comments(ws, unreplied_only=True)
    assert [(c.author_handle, c.text, c.platform) for c in comments] == [("sam", "Does it work offline?", "mastodon")]
    assert provider.comments(ws) == comments  # synced once, not duplicated
    done = provider.reply(ws, comments[0].id, "Yes!", idempotency_key="reply-1")
    assert done.reply_text == "Yes!"
    assert json.loads(reply.calls[0].request.content) == {"status": "Yes!", "in_reply_to_id": "555"}
    assert provider.reply(ws, comments[0].id, "Yes!", idempotency_key="reply-1").reply_text == "Yes!"
    assert reply.call_count == 1


@respx.mock
def test_token_about_to_expire_is_refreshed_before_the_post(real_studio: Studio) -> None:
    real_studio.connections.add(
        "default", "x", handle="maya", account_id="2244994945",
        credentials=Credentials(access_token=SecretStr("old-token"), refresh_token=SecretStr("refresh-1"),
                                client_id="client-1"),
        expires_at=datetime.now(UTC) + timedelta(minutes=2), scopes=["tweet.write", "offline.access"])
    token = respx.post("https://api.x.com/2/oauth2/token").respond(
        json={"token_type": "bearer", "expires_in": 7200, "access_token": "new-token", "refresh_token": "refresh-2",
              "scope": "tweet.write offline.access"})
    tweet = respx.post("https://api.x.com/2/tweets").respond(201, json={"data": {"id": "42", "text": "hi"}})
    post = real_studio.platforms.publish("default", "x", "hi", account=None, idempotency_key="x-1")
    assert post.url == "https://x.com/maya/status/42"
    assert parse_qs(token.calls[0].request.content.decode())["refresh_token"] == ["refresh-1"]
    assert tweet.calls[0].request.headers["Authorization"] == "Bearer new-token"
    connection = real_studio.connections.get("default", "x")
    stored = real_studio.connections.credentials(connection)
    assert stored.refresh_token is not None and stored.refresh_token.get_secret_value() == "refresh-2"
    assert connection.expires_at is not None and connection.expires_at > datetime.now(UTC) + timedelta(hours=1)
