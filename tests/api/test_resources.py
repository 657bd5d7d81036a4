"""Content, audience, revenue, workflows, events, webhooks, settings, health and metrics over HTTP:
versioned edits (ETag / If-Match, 409 with both versions), validation naming the field, problem details."""

from __future__ import annotations

import json
import threading
import time
import uuid

import pytest
from fastapi.testclient import TestClient
from pydantic import SecretStr

from creator_studio.providers.payments.webhooks import sign
from creator_studio.store.db import Database
from creator_studio.studio import Studio
from tests.api.conftest import Tokens

pytestmark = pytest.mark.integration


def new_draft(client: TestClient, tokens: Tokens) -> dict[str, object]:
    response = client.post("/api/content/drafts", json={"platform": "linkedin", "topic": "pandas before SQL"},
                           headers=tokens.auth("editor"))
    assert response.status_code == 201, response.text
    assert response.headers["etag"] == '"1"'
    return dict(response.json())


def test_draft_edits_need_the_current_version(client: TestClient, tokens: Tokens) -> None:
    draft = new_draft(client, tokens)
    url = f"/api/content/drafts/{draft['id']}"
    editor = tokens.auth("editor")
    assert client.get(url, headers=editor).headers["etag"] == '"1"'
    missing = client.patch(url, json={"text": "Mine"}, headers=editor)  # without a version: refused
    assert missing.status_code == 422 and missing.json()["errors"][0]["field"] == "header.if-match"
    first = client.patch(url, json={"text": "Alice's version"}, headers={**editor, "If-Match": '"1"'})
    assert first.status_code == 200 and first.headers["etag"] == '"2"' and first.json()["text"] == "Alice's version"
    stale = client.patch(url, json={"text": "Bob's version"}, headers={**editor, "If-Match": '"1"'})
    assert stale.status_code == 409
    problem = stale.json()
    assert problem["current"]["text"] == "Alice's version" and problem["current"]["version"] == 2
    assert problem["yours"] == {"version": 1, "text": "Bob's version"}
    assert client.get(url, headers=editor).json()["text"] == "Alice's version"  # nothing was overwritten
    bad_tag = client.patch(url, json={"text": "x"}, headers={**editor, "If-Match": "yesterday"})
    assert bad_tag.status_code == 422 and bad_tag.json()["errors"][0]["field"] == "header.if-match"
    too_long = client.patch(url, json={"text": "x" * 3500}, headers={**editor, "If-Match": '"2"'})
    assert too_long.status_code == 422 and too_long.json()["errors"][0]["field"] == "text"
    listed = client.get("/api/content/drafts", headers=tokens.auth("viewer")).json()
    assert [d["id"] for d in listed] == [draft["id"]]


def test_bad_input_names_the_field(client: TestClient, tokens: Tokens) -> None:
    viewer, editor, owner = tokens.auth("viewer"), tokens.auth("editor"), tokens.auth("owner")
    cases = [
        (client.get("/api/runs", params={"limit": 0}, headers=viewer), "query.limit"),
        (client.get("/api/runs", params={"status": "sleeping"}, headers=viewer), "query.status"),
        (client.get("/api/content/calendar", params={"start": "tomorrow"}, headers=viewer), "query.start"),
        (client.get("/api/content/calendar", params={"start": "2026-12-01T00:00:00"}, headers=viewer),
         "query.start"),  # no time zone
        (client.get("/api/content/calendar", params={"days": 0}, headers=viewer), "query.days"),
        (client.get("/api/audience/comments", params={"since": "2156"}, headers=viewer), "query.since"),
        (client.post("/api/content/drafts", json={"platform": "myspace", "topic": "x"}, headers=editor),
         "body.platform"),
        (client.get("/api/audience/leads", params={"min_score": 101}, headers=viewer), "query.min_score"),
        (client.get("/api/revenue/metrics", params={"period": "forever"}, headers=viewer), "query.period"),
        (client.patch("/api/settings", json={"timezone": "Mars/Olympus"}, headers=owner), "timezone"),
        (client.post("/api/workflows", json={"name": "x", "definition": {
            "trigger": {"type": "cron", "cron": "99 * * * *"}, "steps": []}}, headers=editor),
         "body.definition.trigger.cron.cron"),
        (client.get("/api/events", params={"types": "nothing.here"}, headers=viewer), "query.types"),
        (client.post("/api/webhooks/subscriptions", json={"url": "not a url", "event_types": ["*"]}, headers=owner),
         "body.url"),
    ]
    for response, field in cases:
        assert response.status_code == 422, (field, response.text)
        problem = response.json()
        assert response.headers["content-type"] == "application/problem+json"
        assert problem["title"] and problem["detail"]
        fields = [e["field"] for e in problem.get("errors", [])]
        assert any(f.startswith(field) for f in fields), (field, problem)


def test_errors_are_problem_documents(client: TestClient, tokens: Tokens) -> None:
    viewer = tokens.auth("viewer")
    for response, status in [(client.get("/nowhere", headers=viewer), 404),
                             (client.delete("/api/runs", headers=viewer), 405),
                             (client.get("/api/content/drafts/draft_000000000000", headers=viewer), 404),
                             (client.get("/api/audience/segments/nobody", headers=viewer), 404)]:
        assert response.status_code == status
        assert response.headers["content-type"] == "application/problem+json"
        problem = response.json()
        assert problem["status"] == status and problem["type"].startswith("https://") and problem["detail"]


def test_unexpected_errors_are_500_problems_without_internals(client: TestClient, tokens: Tokens,
                                                             monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(*_args: object, **_kwargs: object) -> None:
        raise RuntimeError("secret internals")

    monkeypatch.setattr(client.app.state.api.studio.runs, "recent", broken)  # type: ignore[attr-defined]
    response = client.get("/api/runs", headers=tokens.auth("viewer"))
    assert response.status_code == 500
    assert response.headers["content-type"] == "application/problem+json"
    assert "secret internals" not in response.text


def test_workflows_create_run_pause_resume_with_versions(client: TestClient, tokens: Tokens) -> None:
    editor = tokens.auth("editor")
    body = {"name": "Monday plan", "definition": {"trigger": {"type": "cron", "cron": "0 9 * * 1"},
                                                  "steps": [{"type": "goal", "goal": "Plan this week's posts"}]}}
    created = client.post("/api/workflows", json=body, headers={**editor, "Idempotency-Key": "k1"})
    assert created.status_code == 201, created.text
    workflow = created.json()
    assert client.post("/api/workflows", json=body, headers={**editor, "Idempotency-Key": "k1"}).json()["id"] == \
        workflow["id"]  # a retry with the same key does not create a second one
    assert client.post("/api/workflows", json=body, headers=editor).status_code == 409  # same name
    url = f"/api/workflows/{workflow['id']}"
    assert client.get(url, headers=editor).headers["etag"] == '"1"'
    stale = client.post(f"{url}/pause", headers={**editor, "If-Match": '"7"'})
    assert stale.status_code == 409 and stale.json()["current"]["id"] == workflow["id"]
    paused = client.post(f"{url}/pause", headers={**editor, "If-Match": '"1"'})
    assert paused.status_code == 200 and paused.json()["workflow"]["status"] == "paused"
    assert client.post(f"{url}/run", headers=editor).status_code == 409  # paused workflows do not run
    assert client.get("/api/workflows", params={"status": "paused"}, headers=editor).json()[0]["id"] == workflow["id"]
    assert client.post(f"{url}/resume", headers=editor).json()["workflow"]["status"] == "active"
    queued = client.post(f"{url}/run", headers=editor)
    assert queued.status_code == 202 and queued.json()["status"] == "queued"


def test_reading_audience_and_revenue(client: TestClient, tokens: Tokens) -> None:
    viewer = tokens.auth("viewer")
    comments = client.get("/api/audience/comments", params={"limit": 3}, headers=viewer).json()
    assert len(comments) == 3 and {"sentiment", "classification"} <= set(comments[0])
    leads = client.get("/api/audience/leads", params={"min_score": 60}, headers=viewer).json()
    assert leads and all(lead["score"] >= 60 for lead in leads)
    assert client.get("/api/audience/segments", headers=viewer).status_code == 200
    metrics = client.get("/api/revenue/metrics", params={"period": "7d"}, headers=viewer).json()
    assert metrics["mrr"]["amount"] > 0
    products = client.get("/api/revenue/products", headers=viewer).json()
    assert products[0]["prices"]
    test_id = client.get("/api/revenue/tests", headers=viewer).json()[0]["id"]
    assert client.get(f"/api/revenue/tests/{test_id}", headers=viewer).json()["test"]["id"] == test_id
    posts = client.get("/api/content/posts", headers=viewer).json()
    assert posts[0]["engagement_rate"] >= posts[-1]["engagement_rate"]


def test_events_query_and_stream(client: TestClient, tokens: Tokens, studio: Studio) -> None:
    published = studio.events.publish("audience.follower_gained", "default", {"platform": "x", "count": 3},
                                      source="test")
    studio.events.publish("audience.follower_gained", "other", {"platform": "x", "count": 1}, source="test")
    found = client.get("/api/events", params={"types": "audience.*"}, headers=tokens.auth("viewer")).json()
    assert [e["id"] for e in found] == [published.id]
    assert client.get("/api/events", params={"types": "content.*"}, headers=tokens.auth("viewer")).json() == []

    received: list[str] = []

    def publish_soon() -> None:
        time.sleep(0.5)
        studio.events.publish("content.published", "other", {"post_id": "p0", "platform": "x"}, source="test")
        studio.events.publish("content.published", "default", {"post_id": "p1", "platform": "x"}, source="test")

    threading.Thread(target=publish_soon, daemon=True).start()
    with client.stream("GET", "/api/events/stream", params={"types": "content.*"},
                       headers=tokens.auth("viewer")) as stream:
        for line in stream.iter_lines():
            if line.startswith("data:"):
                received.append(line)
                break
    assert len(received) == 1 and '"post_id":"p1"' in received[0]  # the other workspace's event never arrives


def test_webhook_subscriptions(client: TestClient, tokens: Tokens) -> None:
    owner = tokens.auth("owner")
    created = client.post("/api/webhooks/subscriptions", json={"url": "https://example.com/hook",
                                                              "event_types": ["revenue.*"]}, headers=owner)
    assert created.status_code == 201, created.text
    subscription = created.json()
    assert subscription["secret"]
    listed = client.get("/api/webhooks/subscriptions", headers=owner).json()
    assert [s["id"] for s in listed] == [subscription["id"]] and "secret" not in listed[0]
    assert client.get("/api/webhooks/subscriptions", headers=tokens.auth("other_owner")).json() == []
    url = f"/api/webhooks/subscriptions/{subscription['id']}"
    assert client.delete(url, headers=tokens.auth("other_owner")).status_code == 404
    assert client.delete(url, headers=owner).status_code == 204
    assert client.get("/api/webhooks/subscriptions", headers=owner).json() == []


def test_inbound_stripe_webhooks_are_verified_and_become_events(client: TestClient, tokens: Tokens,
                                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    not_enabled = client.post("/api/webhooks/stripe/default", content=b"{}")  # no secret yet
    assert not_enabled.status_code == 404 and "STUDIO_STRIPE_WEBHOOK_SECRET" in not_enabled.json()["detail"]
    settings = client.app.state.api.studio.settings  # type: ignore[attr-defined]
    monkeypatch.setattr(settings, "stripe_webhook_secret", SecretStr("whsec_test_secret"))
    body = json.dumps({"id": f"evt_{uuid.uuid4().hex}", "type": "invoice.payment_failed", "created": int(time.time()),
                       "data": {"object": {"id": "in_1", "amount_due": 2900, "currency": "usd",
                                           "customer_email": "sam@example.com", "attempt_count": 2}}}).encode()
    header = sign(body, "whsec_test_secret", int(time.time()))
    accepted = client.post("/api/webhooks/stripe/default", content=body, headers={"Stripe-Signature": header})
    assert accepted.status_code == 200, accepted.text
    assert accepted.json()["received"] is True
    events = client.get("/api/events", params={"types": "revenue.payment_failed"},
                        headers=tokens.auth("viewer")).json()
    assert [e["id"] for e in events] == [accepted.json()["event_id"]]
    assert events[0]["data"]["amount_cents"] == 2900
    replay = client.post("/api/webhooks/stripe/default", content=body, headers={"Stripe-Signature": header})
    assert replay.status_code == 400 and "already received" in replay.json()["detail"]
    forged = client.post("/api/webhooks/stripe/default", content=body.replace(b"2900", b"1"),
                         headers={"Stripe-Signature": header})
    assert forged.status_code == 400 and "does not match" in forged.json()["detail"]
    assert client.post("/api/webhooks/stripe/nobody", content=body).status_code == 404


def test_settings_are_last_write_wins(client: TestClient, tokens: Tokens) -> None:
    owner = tokens.auth("owner")
    assert client.patch("/api/settings", json={"timezone": "America/New_York"}, headers=owner).status_code == 200
    assert client.patch("/api/settings", json={"timezone": "Asia/Tokyo"}, headers=owner).status_code == 200
    assert client.get("/api/settings", headers=tokens.auth("viewer")).json()["timezone"] == "Asia/Tokyo"


def test_health_readiness_and_metrics(client: TestClient, tokens: Tokens) -> None:
    assert client.get("/healthz").json() == {"status": "ok"}
    assert client.get("/readyz").json() == {"status": "ready", "database": "reachable"}
    summary = client.get("/api/metrics", headers=tokens.auth("viewer")).json()
    assert summary["audience"]["total_followers"] > 0 and summary["period"] == "30d"
    prometheus = client.get("/metrics").text
    assert 'studio_http_requests_total{method="GET",route="/api/metrics",status="200"} 1.0' in prometheus


def test_readiness_fails_when_the_database_is_unreachable(client: TestClient) -> None:
    state = client.app.state.api  # type: ignore[attr-defined]
    working = state.studio.db
    state.studio.db = Database("sqlite:////nonexistent/directory/studio.db")  # a real, unreachable database
    try:
        response = client.get("/readyz")
    finally:
        state.studio.db.dispose()
        state.studio.db = working
    assert response.status_code == 503
    assert response.json()["title"] == "Service unavailable" and "database" in response.json()["detail"]
    assert client.get("/healthz").status_code == 200  # alive, just not ready


def test_openapi_declares_problems_for_every_operation(client: TestClient) -> None:
    schema = client.get("/openapi.json").json()
    assert "Problem" in schema["components"]["schemas"]
    assert "HTTPValidationError" not in schema["components"]["schemas"]
    for path, operations in schema["paths"].items():
        for method, operation in operations.items():
            codes = set(operation["responses"])
            assert "500" in codes, (method, path)
            if path.startswith("/api/") and "stripe" not in path:
                assert {"401", "403"} <= codes, (method, path)
            if operation.get("parameters") or operation.get("requestBody"):
                assert "422" in codes, (method, path)
            for code, response in operation["responses"].items():
                if code.startswith(("4", "5")):
                    assert "application/problem+json" in response["content"], (method, path, code)
