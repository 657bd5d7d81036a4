"""Contract tests for the Mastodon, X, LinkedIn, Threads and Bluesky (AppView reads) adapters: request and
response shapes from the published API references, including their error bodies."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest
import respx
from PIL import Image

from creator_studio.errors import InvalidInput
from creator_studio.providers.reliability import (
    BadRequest,
    BudgetBook,
    BudgetKey,
    Disconnected,
    ReauthorizeRequired,
    RetryLater,
)
from creator_studio.providers.social.platforms.bluesky import BlueskyAdapter, BlueskySession, tid
from creator_studio.providers.social.platforms.linkedin import LinkedInAdapter, little_text
from creator_studio.providers.social.platforms.mastodon import MastodonAdapter
from creator_studio.providers.social.platforms.threads import ThreadsAdapter
from creator_studio.providers.social.platforms.x import XAdapter

pytestmark = pytest.mark.unit


def no_sleep(seconds: float) -> None:
    """Retries in these tests don't wait."""

M = "https://mastodon.test"

STATUS = {"id": "103270115826048975", "created_at": "2026-11-25T14:00:00.000Z", "in_reply_to_id": None,
          "content": "<p>Hello world</p>", "url": f"{M}/@maya/103270115826048975", "uri": f"{M}/users/maya/1"}
INSTANCE = {"domain": "mastodon.test", "configuration": {"statuses": {"max_characters": 1000,
                                                                     "max_media_attachments": 4}}}


def mastodon(budgets: BudgetBook | None = None) -> MastodonAdapter:
    return MastodonAdapter(M, "tok", handle="maya", account_id="42", budgets=budgets, sleep=no_sleep)


@respx.mock
def test_mastodon_posts_with_idempotency_key_and_instance_limit() -> None:
    respx.get(f"{M}/api/v2/instance").respond(json=INSTANCE)
    route = respx.post(f"{M}/api/v1/statuses").mock(side_effect=[
        httpx.Response(503), httpx.Response(200, json=STATUS,
                                            headers={"X-RateLimit-Limit": "300", "X-RateLimit-Remaining": "299",
                                                     "X-RateLimit-Reset": "2026-11-25T14:05:00.000Z"})])
    budgets = BudgetBook()
    adapter = mastodon(budgets)
    assert adapter.max_length() == 1000
    post = adapter.publish("Hello world " + "x" * 600, idempotency_key="k-1")  # over 500, within this instance
    assert post.id == STATUS["id"] and post.url.endswith("/103270115826048975")
    keys = {call.request.headers["Idempotency-Key"] for call in route.calls}
    assert keys == {"k-1"} and route.call_count == 2  # the repeat after a 503 carried the same key
    assert json.loads(route.calls[0].request.content)["status"].startswith("Hello world")
    assert route.calls[0].request.headers["Authorization"] == "Bearer tok"
    assert budgets.budget(BudgetKey("maya@https://mastodon.test", "mastodon")).remaining == 299


@respx.mock
def test_mastodon_errors_become_creator_errors() -> None:
    respx.get(f"{M}/api/v2/instance").respond(json=INSTANCE)
    respx.post(f"{M}/api/v1/statuses").mock(side_effect=[
        httpx.Response(422, json={"error": "Validation failed: Text can't be blank"}),
        httpx.Response(401, json={"error": "The access token is invalid"}),
        httpx.Response(403, json={"error": "This action is not allowed"})])
    adapter = mastodon()
    with pytest.raises(BadRequest) as bad:
        adapter.publish("x", idempotency_key="a")
    assert bad.value.field == "text"
    with pytest.raises(ReauthorizeRequired, match="studio connect mastodon"):
        adapter.publish("x", idempotency_key="b")
    with pytest.raises(Disconnected):
        adapter.publish("x", idempotency_key="c")
    with pytest.raises(InvalidInput, match="limit is 1000"):
        adapter.publish("x" * 1001, idempotency_key="d")


@respx.mock
def test_mastodon_media_and_notifications(tmp_path: Path) -> None:
    image = tmp_path / "a.png"
    Image.new("RGB", (4, 4)).save(image)
    respx.get(f"{M}/api/v2/instance").respond(json=INSTANCE)
    media = respx.post(f"{M}/api/v2/media").respond(202, json={"id": "22348641", "type": "image"})
    statuses = respx.post(f"{M}/api/v1/statuses").respond(json=STATUS)
    mastodon().publish("Hello", idempotency_key="m", images=[image], reply_to="99")
    assert b'filename="a.png"' in media.calls[0].request.content
    body = json.loads(statuses.calls[0].request.content)
    assert body["media_ids"] == ["22348641"] and body["in_reply_to_id"] == "99"
    respx.get(f"{M}/api/v1/notifications").respond(json=[
        {"id": "34975861", "type": "mention", "created_at": "2026-11-25T13:00:00.000Z",
         "account": {"id": "7", "acct": "sam@other.social", "display_name": "Sam"},
         "status": {"id": "555", "in_reply_to_id": STATUS["id"], "in_reply_to_account_id": "42",
                    "content": "<p>Great post!</p>", "created_at": "2026-11-25T13:00:00.000Z"}},
        {"id": "34975862", "type": "follow", "created_at": "2026-11-25T12:00:00.000Z",
         "account": {"id": "8", "acct": "lee", "display_name": ""}}])
    found = mastodon().notifications()
    assert [(n.kind, n.id, n.post_id, n.author_handle, n.text) for n in found] == [
        ("reply", "555", STATUS["id"], "sam@other.social", "Great post!"), ("follow", "34975862", None, "lee", "")]


X = "https://api.x.com"


def x_adapter(token: list[str] | None = None, refresh: Callable[[], bool] | None = None) -> XAdapter:
    tokens = token or ["tok"]
    return XAdapter(lambda: tokens[0], handle="maya", user_id="2244994945", base_url=X,
                    refresh=refresh, sleep=no_sleep)


@respx.mock
def test_x_thread_with_reply_ids_and_rate_headers() -> None:
    ids = iter(["1445880548472328192", "1445880548472328193"])
    route = respx.post(f"{X}/2/tweets").mock(side_effect=lambda request: httpx.Response(
        201, json={"data": {"id": next(ids), "text": json.loads(request.content)["text"]}},
        headers={"x-rate-limit-limit": "200", "x-rate-limit-remaining": "198",
                 "x-rate-limit-reset": str(int(datetime(2026, 11, 25, 14, 15, tzinfo=UTC).timestamp()))}))
    posts = x_adapter().publish_thread(["first", "second"], idempotency_key="thread")
    assert [p.id for p in posts] == ["1445880548472328192", "1445880548472328193"]
    second = json.loads(route.calls[1].request.content)
    assert second == {"text": "second", "reply": {"in_reply_to_tweet_id": "1445880548472328192"}}
    assert posts[0].url == "https://x.com/maya/status/1445880548472328192"


@respx.mock
def test_x_timeout_is_read_back_not_reposted() -> None:
    route = respx.post(f"{X}/2/tweets").mock(side_effect=httpx.ReadTimeout("lost"))
    respx.get(f"{X}/2/users/2244994945/tweets").respond(json={"data": [
        {"id": "1", "text": "other post", "created_at": "2026-11-25T14:00:00.000Z"},
        {"id": "77", "text": "Read this https://t.co/abc", "created_at": "2026-11-25T14:00:01.000Z"}]})
    post = x_adapter().publish("Read this https://example.com/article", idempotency_key="once")
    assert post.id == "77" and route.call_count == 1


@respx.mock
def test_x_problem_errors_and_token_refresh() -> None:
    respx.post(f"{X}/2/tweets").mock(side_effect=[
        httpx.Response(400, json={"errors": [{"parameters": {"reply.in_reply_to_tweet_id": ["x"]},
                                              "message": "The `reply.in_reply_to_tweet_id` query parameter value "
                                                         "[x] is not valid"}],
                                  "title": "Invalid Request", "detail": "One or more parameters to your request was "
                                  "invalid.", "type": "https://api.twitter.com/2/problems/invalid-request"}),
        httpx.Response(401, json={"title": "Unauthorized", "type": "about:blank", "status": 401,
                                  "detail": "Unauthorized"}),
        httpx.Response(201, json={"data": {"id": "9", "text": "hi"}}),
        httpx.Response(429, headers={"x-rate-limit-reset": "4102444800", "x-rate-limit-remaining": "0",
                                     "x-rate-limit-limit": "100"},
                       json={"title": "Too Many Requests", "detail": "Too Many Requests", "type": "about:blank",
                             "status": 429})])
    with pytest.raises(BadRequest) as bad:
        x_adapter().publish("hi", idempotency_key="a", reply_to="x")
    assert bad.value.field == "reply.in_reply_to_tweet_id"
    tokens = ["old"]

    def refresh() -> bool:
        tokens[0] = "new"
        return True

    assert x_adapter(tokens, refresh).publish("hi", idempotency_key="b").id == "9"
    assert tokens == ["new"]
    with pytest.raises(RetryLater, match="Try again in about"):
        x_adapter().publish("hi", idempotency_key="c")


@respx.mock
def test_x_chunked_media_upload(tmp_path: Path) -> None:
    image = tmp_path / "a.png"
    Image.new("RGB", (8, 8)).save(image)
    init = respx.post(f"{X}/2/media/upload/initialize").respond(
        json={"data": {"id": "1880028106020515840", "media_key": "3_1880028106020515840",
                       "expires_after_secs": 86400}})
    append = respx.post(f"{X}/2/media/upload/1880028106020515840/append").respond(json={"data": {"expires_at": 1}})
    finalize = respx.post(f"{X}/2/media/upload/1880028106020515840/finalize").respond(
        json={"data": {"id": "1880028106020515840", "size": 80}})
    tweet = respx.post(f"{X}/2/tweets").respond(201, json={"data": {"id": "5", "text": "pic"}})
    x_adapter().publish("pic", idempotency_key="p", images=[image])
    assert json.loads(init.calls[0].request.content)["total_bytes"] == image.stat().st_size
    assert b'name="segment_index"' in append.calls[0].request.content and finalize.called
    assert json.loads(tweet.calls[0].request.content)["media"] == {"media_ids": ["1880028106020515840"]}


L = "https://api.linkedin.test"


@respx.mock
def test_linkedin_post_shape_version_header_and_restli_id() -> None:
    route = respx.post(f"{L}/rest/posts").respond(201, headers={"x-restli-id": "urn:li:share:6844785523593134080"})
    adapter = LinkedInAdapter(lambda: "tok", handle="Maya", person_urn="urn:li:person:abc", base_url=L, sleep=no_sleep)
    post = adapter.publish("New course (beta) #python", idempotency_key="li")
    body = json.loads(route.calls[0].request.content)
    assert body["author"] == "urn:li:person:abc" and body["commentary"] == little_text("New course (beta) #python")
    assert body["commentary"] == r"New course \(beta\) \#python"
    assert body["lifecycleState"] == "PUBLISHED" and body["distribution"]["feedDistribution"] == "MAIN_FEED"
    headers = route.calls[0].request.headers
    assert headers["Linkedin-Version"] and headers["X-Restli-Protocol-Version"] == "2.0.0"
    assert post.id == "urn:li:share:6844785523593134080"
    assert post.url == "https://www.linkedin.com/feed/update/urn:li:share:6844785523593134080"
    with pytest.raises(InvalidInput, match="limit is 3000"):
        adapter.publish("x" * 3001, idempotency_key="long")


@respx.mock
def test_linkedin_field_error_and_read_back() -> None:
    respx.post(f"{L}/rest/posts").mock(side_effect=[
        httpx.Response(422, json={"message": "ERROR :: /commentary :: is too long", "status": 422,
                                  "errorDetails": {"inputErrors": [{"input": {"inputPath": {"fieldPath": "commentary"}},
                                                                    "code": "FIELD_LENGTH_TOO_LONG"}]}}),
        httpx.Response(504)])
    respx.get(f"{L}/rest/posts").respond(json={"elements": [
        {"id": "urn:li:share:1", "commentary": "hello", "publishedAt": 1764079200000}]})
    adapter = LinkedInAdapter(lambda: "tok", handle="Maya", person_urn="urn:li:person:abc", base_url=L, sleep=no_sleep)
    with pytest.raises(BadRequest) as bad:
        adapter.publish("hi", idempotency_key="a")
    assert bad.value.field == "commentary"
    assert adapter.publish("hello", idempotency_key="b").id == "urn:li:share:1"


T = "https://graph.threads.test/v1.0"


@respx.mock
def test_threads_two_step_publish_with_quota() -> None:
    quota = respx.get(f"{T}/123/threads_publishing_limit").respond(
        json={"data": [{"quota_usage": 4, "config": {"quota_total": 250, "quota_duration": 86400}}]})
    container = respx.post(f"{T}/123/threads").respond(json={"id": "1111"})
    publish = respx.post(f"{T}/123/threads_publish").respond(json={"id": "2222"})
    budgets = BudgetBook()
    adapter = ThreadsAdapter(lambda: "tok", handle="maya", user_id="123", base_url=T, budgets=budgets, sleep=no_sleep)
    post = adapter.publish("Hello Threads", idempotency_key="t", reply_to="999")
    assert container.calls[0].request.url.params["media_type"] == "TEXT"
    assert container.calls[0].request.url.params["reply_to_id"] == "999"
    assert publish.calls[0].request.url.params["creation_id"] == "1111"
    assert post.id == "2222" and quota.called
    assert budgets.budget(BudgetKey("123", "threads", "publish")).limit == 250


@respx.mock
def test_threads_quota_used_up_and_graph_errors() -> None:
    respx.get(f"{T}/123/threads_publishing_limit").respond(
        json={"data": [{"quota_usage": 250, "config": {"quota_total": 250, "quota_duration": 86400}}]})
    adapter = ThreadsAdapter(lambda: "tok", handle="maya", user_id="123", base_url=T, sleep=no_sleep)
    with pytest.raises(RetryLater, match="250 posts per 24 hours"):
        adapter.publish("hi", idempotency_key="q")
    respx.get(f"{T}/9/threads_publishing_limit").respond(
        400, json={"error": {"message": "Error validating access token: Session has expired",
                             "type": "OAuthException", "code": 190, "error_subcode": 463}})
    expired = ThreadsAdapter(lambda: "tok", handle="maya", user_id="9", base_url=T, sleep=no_sleep)
    with pytest.raises(ReauthorizeRequired):
        expired.publish("hi", idempotency_key="r")
    with pytest.raises(InvalidInput, match="limit is 500"):
        expired.publish("x" * 501, idempotency_key="s")


B = "https://pds.test"


@respx.mock
def test_bluesky_notifications_by_contract() -> None:
    """listNotifications needs an AppView, which the local reference PDS does not have: tested by contract."""
    respx.get(f"{B}/xrpc/app.bsky.notification.listNotifications").respond(json={"notifications": [
        {"uri": "at://did:plc:sam/app.bsky.feed.post/3k2", "cid": "bafy1", "reason": "reply",
         "author": {"did": "did:plc:sam", "handle": "sam.test", "displayName": "Sam"},
         "record": {"$type": "app.bsky.feed.post", "text": "Nice!", "createdAt": "2026-11-25T13:00:00Z",
                    "reply": {"root": {"uri": "at://did:plc:maya/app.bsky.feed.post/3k1", "cid": "c"},
                              "parent": {"uri": "at://did:plc:maya/app.bsky.feed.post/3k1", "cid": "c"}}},
         "isRead": False, "indexedAt": "2026-11-25T13:00:01.000Z"},
        {"uri": "at://did:plc:lee/app.bsky.graph.follow/3k3", "cid": "bafy2", "reason": "follow",
         "author": {"did": "did:plc:lee", "handle": "lee.test"}, "record": {}, "isRead": False,
         "indexedAt": "2026-11-25T12:00:00.000Z"}]})
    session = BlueskySession(did="did:plc:maya", handle="maya.test", access_jwt="a", refresh_jwt="r")
    found = BlueskyAdapter(B, session, sleep=no_sleep).notifications()
    assert [(n.kind, n.post_id, n.author_handle, n.text) for n in found] == [
        ("reply", "at://did:plc:maya/app.bsky.feed.post/3k1", "sam.test", "Nice!"), ("follow", None, "lee.test", "")]


def test_bluesky_record_keys_are_tids() -> None:
    key = tid(datetime(2026, 11, 25, 14, 0, tzinfo=UTC), 5)
    assert len(key) == 13 and key[0] in "234567abcdefghij"
    assert tid(datetime(2026, 11, 25, 14, 0, 1, tzinfo=UTC), 5) > key  # sortable by time
