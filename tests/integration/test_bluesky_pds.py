"""The Bluesky adapter against the reference PDS (@atproto/dev-env TestNetworkNoAppView on loopback).

Publishing, replying and an image post must land in the PDS, read back with com.atproto.repo.listRecords.
"""

from __future__ import annotations

import json
import random
import shutil
import subprocess
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from PIL import Image

from creator_studio.providers.reliability import OutcomeUnknown, RetryLater
from creator_studio.providers.social.platforms.bluesky import BlueskyAdapter, BlueskySession, create_session

# The first test may include `npm ci` of the reference PDS (several minutes on a cold cache).
pytestmark = [pytest.mark.integration, pytest.mark.timeout(1200)]

SERVICE_DIR = Path(__file__).resolve().parents[1] / "services" / "atproto"


def _read_first_line(process: subprocess.Popen[str], timeout: float) -> str:
    line: list[str] = []
    reader = threading.Thread(target=lambda: line.append(process.stdout.readline() if process.stdout else ""))
    reader.start()
    reader.join(timeout)
    if not line or not line[0].strip():
        raise RuntimeError("the reference PDS did not report its URL in time")
    return line[0]


@pytest.fixture(scope="session")
def pds_url() -> Iterator[str]:
    if shutil.which("node") is None or shutil.which("npm") is None:
        pytest.skip("node and npm are needed for the reference PDS")
    if not (SERVICE_DIR / "node_modules" / "@atproto" / "dev-env").exists():
        subprocess.run(["npm", "ci", "--no-audit", "--no-fund"], cwd=SERVICE_DIR, check=True, timeout=900,
                       capture_output=True)
    process = subprocess.Popen(["node", "start-network.mjs"], cwd=SERVICE_DIR, stdin=subprocess.PIPE,
                               stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    try:
        urls = json.loads(_read_first_line(process, 120))
        yield str(urls["pds"]).replace("localhost", "127.0.0.1")
    finally:
        if process.stdin:
            process.stdin.close()
        process.terminate()
        try:
            process.wait(20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(5)


@pytest.fixture(scope="session")
def account(pds_url: str) -> dict[str, str]:
    with httpx.Client(base_url=pds_url, timeout=30) as http:
        created = http.post("/xrpc/com.atproto.server.createAccount",
                            json={"email": "maya@example.test", "handle": "maya.test", "password": "hunter2-long"})
        assert created.status_code == 200, created.text
        body = created.json()
        app_password = http.post("/xrpc/com.atproto.server.createAppPassword",
                                 headers={"Authorization": f"Bearer {body['accessJwt']}"},
                                 json={"name": "creator-studio"})
        assert app_password.status_code == 200, app_password.text
        http.post("/xrpc/com.atproto.server.createAccount",
                  json={"email": "sam@example.test", "handle": "sam.test", "password": "hunter2-long"})
    return {"did": body["did"], "handle": "maya.test", "app_password": app_password.json()["password"]}


@pytest.fixture
def adapter(pds_url: str, account: dict[str, str]) -> BlueskyAdapter:
    session = create_session(pds_url, account["handle"], account["app_password"])
    return BlueskyAdapter(pds_url, session, app_password=account["app_password"])


def _records(pds_url: str, did: str) -> list[dict[str, object]]:
    response = httpx.get(f"{pds_url}/xrpc/com.atproto.repo.listRecords",
                         params={"repo": did, "collection": "app.bsky.feed.post", "limit": 100})
    assert response.status_code == 200
    return list(response.json()["records"])


def test_publish_lands_with_facets_over_utf8_bytes(adapter: BlueskyAdapter, pds_url: str,
                                                   account: dict[str, str]) -> None:
    text = "Café notes ☕ for @sam.test: https://example.com/notes #創作 done"
    post = adapter.publish(text, idempotency_key="pub-1")
    records = {r["uri"]: r["value"] for r in _records(pds_url, account["did"])}
    assert post.id in records
    value = records[post.id]
    assert isinstance(value, dict) and value["text"] == text
    encoded = text.encode()
    spans = {f["features"][0]["$type"].split("#")[1]: encoded[f["index"]["byteStart"]:f["index"]["byteEnd"]].decode()
             for f in value["facets"]}
    assert spans == {"mention": "@sam.test", "link": "https://example.com/notes", "tag": "#創作"}


def test_reply_points_at_root_and_parent(adapter: BlueskyAdapter, pds_url: str, account: dict[str, str]) -> None:
    root = adapter.publish("A thread starts here", idempotency_key="thread-1")
    first = adapter.publish("first reply", idempotency_key="thread-2", reply_to=root.id)
    second = adapter.publish("reply to the reply", idempotency_key="thread-3", reply_to=first.id)
    records = {r["uri"]: r for r in _records(pds_url, account["did"])}
    reply = records[second.id]["value"]
    assert isinstance(reply, dict)
    assert reply["reply"]["root"] == {"uri": root.id, "cid": records[root.id]["cid"]}
    assert reply["reply"]["parent"] == {"uri": first.id, "cid": records[first.id]["cid"]}


def test_image_post_uploads_a_blob(adapter: BlueskyAdapter, pds_url: str, account: dict[str, str],
                                   tmp_path: Path) -> None:
    image = tmp_path / "cover.png"
    Image.new("RGB", (64, 32), (200, 80, 40)).save(image)
    post = adapter.publish("With a picture", idempotency_key="img-1", images=[image])
    value = {r["uri"]: r["value"] for r in _records(pds_url, account["did"])}[post.id]
    assert isinstance(value, dict)
    blob = value["embed"]["images"][0]["image"]
    assert value["embed"]["$type"] == "app.bsky.embed.images"
    assert blob["mimeType"] == "image/png" and blob["size"] == image.stat().st_size
    fetched = httpx.get(f"{pds_url}/xrpc/com.atproto.sync.getBlob",
                        params={"did": account["did"], "cid": blob["ref"]["$link"]})
    assert fetched.content == image.read_bytes()


def test_expired_access_token_is_refreshed_not_recreated(pds_url: str, account: dict[str, str]) -> None:
    session = create_session(pds_url, account["handle"], account["app_password"])
    renewed: list[BlueskySession] = []
    stale = BlueskySession(did=session.did, handle=session.handle, access_jwt="not-a-valid-jwt",
                           refresh_jwt=session.refresh_jwt)
    adapter = BlueskyAdapter(pds_url, stale, on_session=renewed.append)
    post = adapter.publish("after a refresh", idempotency_key="refresh-1")
    assert post.id.startswith(f"at://{account['did']}/")
    assert len(renewed) == 1 and renewed[0].access_jwt != "not-a-valid-jwt"


class LoseFirstAnswer(httpx.HTTPTransport):
    """Forwards to the PDS, but the first createRecord's answer is lost after the PDS applied it."""

    def __init__(self) -> None:
        super().__init__()
        self.lost = 0

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        response = super().handle_request(request)
        if request.url.path.endswith("createRecord") and self.lost == 0:
            self.lost += 1
            response.read()
            raise httpx.ReadTimeout("answer lost", request=request)
        return response


def test_lost_answer_is_read_back_not_posted_twice(pds_url: str, account: dict[str, str]) -> None:
    session = create_session(pds_url, account["handle"], account["app_password"])
    transport = LoseFirstAnswer()
    adapter = BlueskyAdapter(pds_url, session, http=httpx.Client(base_url=pds_url, transport=transport),
                             sleep=lambda s: None)
    post = adapter.publish("exactly once, even when the answer is lost", idempotency_key="once-1")
    matching = [r for r in _records(pds_url, account["did"])
                if isinstance(r["value"], dict) and r["value"]["text"].startswith("exactly once")]
    assert transport.lost == 1
    assert [r["uri"] for r in matching] == [post.id]


class FaultyTransport(httpx.HTTPTransport):
    """30% of calls fail: 429 or 503 before reaching the PDS, a timeout or 500 after it applied the call, or slow."""

    def __init__(self, seed: int) -> None:
        super().__init__()
        self.rng = random.Random(seed)
        self.faults = 0

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        if self.rng.random() >= 0.3:
            return super().handle_request(request)
        self.faults += 1
        fault = self.rng.choice(["429", "503-before", "timeout-after", "500-after", "slow"])
        if fault == "429":
            return httpx.Response(429, headers={"Retry-After": "1"}, json={"error": "RateLimitExceeded"})
        if fault == "503-before":
            return httpx.Response(503, json={"error": "ServiceUnavailable"})
        if fault == "slow":
            time.sleep(0.2)
            return super().handle_request(request)
        response = super().handle_request(request)
        response.read()
        if fault == "timeout-after":
            raise httpx.ReadTimeout("answer lost", request=request)
        return httpx.Response(500, json={"error": "InternalServerError"})


def test_fault_injection_every_post_lands_once_or_fails_with_a_reason(pds_url: str, account: dict[str, str]) -> None:
    session = create_session(pds_url, account["handle"], account["app_password"])
    transport = FaultyTransport(seed=6)
    adapter = BlueskyAdapter(pds_url, session, http=httpx.Client(base_url=pds_url, transport=transport),
                             sleep=lambda s: None)
    outcomes: dict[str, str] = {}
    for n in range(30):
        text = f"fault run post {n}"
        try:
            adapter.publish(text, idempotency_key=f"fault-{n}")
            outcomes[text] = "ok"
        except RetryLater as exc:
            assert "nothing was done" in exc.message
            outcomes[text] = "not done"
        except OutcomeUnknown as exc:
            assert "not sent again" in exc.message
            outcomes[text] = "unknown"
    texts = [r["value"]["text"] for r in _records(pds_url, account["did"])  # type: ignore[index]
             if str(r["value"]["text"]).startswith("fault run")]  # type: ignore[index]
    assert transport.faults >= 10
    assert len(texts) == len(set(texts)), "a post landed twice"
    for text, outcome in outcomes.items():
        assert texts.count(text) == {"ok": 1, "not done": 0, "unknown": texts.count(text)}[outcome], (text, outcome)
    assert sum(o == "ok" for o in outcomes.values()) >= 25


def test_connected_account_publishes_through_the_publish_tool(pds_url: str, account: dict[str, str],
                                                              tmp_path: Path) -> None:
    """`studio connect bluesky` + STUDIO_PROVIDERS=real: the publish_post tool lands in the PDS, once."""
    from creator_studio.connections.flows import connect_bluesky
    from creator_studio.sandbox.seed import DEFAULT_BRAND, DEFAULT_TIMEZONE
    from creator_studio.settings import Settings
    from creator_studio.studio import Studio
    from creator_studio.tools.base import ToolContext
    from creator_studio.tools.invoke import invoke_tool

    settings = Settings(home=tmp_path / "home", model="offline", providers="real")
    studio = Studio.open(settings, migrate_schema=True)
    try:
        ws = studio.workspaces.create("default", "Maya", DEFAULT_TIMEZONE, DEFAULT_BRAND)
        connection = connect_bluesky(studio.connections, ws.id, identifier=account["handle"],
                                     app_password=account["app_password"], pds_url=pds_url)
        assert connection.account_id == account["did"] and connection.scopes == ["atproto"]
        ctx = ToolContext(studio=studio, workspace=ws, agent="test", now=studio.now(), run_id=None,
                          idempotency_key="e2e-publish-1")
        text = "Published by the agent through the real provider"
        outcome = invoke_tool(ctx, "publish_post", {"text": text, "platform": "bluesky"})
        assert outcome.ok, outcome.error
        again = invoke_tool(ctx, "publish_post", {"text": text, "platform": "bluesky"})
        assert again.replayed
        landed = [r for r in _records(pds_url, account["did"])
                  if isinstance(r["value"], dict) and r["value"]["text"] == text]
        assert len(landed) == 1
        assert outcome.result is not None and str(landed[0]["uri"]).endswith(outcome.result["post"]["url"][-13:])
    finally:
        studio.close()
