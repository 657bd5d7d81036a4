"""A goal sent over `POST /api/chat` streams its steps and approval requests; deciding over the API resumes
the run; runs can be read, resumed and cancelled; other workspaces see none of it."""

from __future__ import annotations

import json
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.api.conftest import Tokens, sse_events

pytestmark = pytest.mark.integration
SCHEDULE_GOAL = "Draft a LinkedIn post about my course launch and schedule it for Friday 9am"


def chat(client: TestClient, tokens: Tokens, goal: str = SCHEDULE_GOAL) -> tuple[list[tuple[str, str]], dict[str, Any]]:
    response = client.post("/api/chat", json={"goal": goal}, headers=tokens.auth("editor"))
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/event-stream")
    events = sse_events(response.text)
    done = [json.loads(data) for name, data in events if name == "done"]
    assert len(done) == 1, events
    return events, done[0]


def test_chat_streams_steps_and_an_approval_then_approving_schedules_the_post(client: TestClient,
                                                                             tokens: Tokens) -> None:
    events, run = chat(client, tokens)
    names = [name for name, _ in events]
    assert "step" in names and "approval" in names
    steps = [json.loads(data) for name, data in events if name == "step"]
    assert any(s["type"] == "tool_started" and s["tool"] == "draft_post" for s in steps)
    approval = json.loads(next(data for name, data in events if name == "approval"))
    assert approval["tool"] == "schedule_post"
    assert run["status"] == "waiting_approval"
    assert [a["id"] for a in run["approvals"] if a["status"] == "pending"] == [approval["approval_id"]]
    assert any(s["kind"] == "tool" and s["tool"] == "draft_post" for s in run["steps"])  # the recorded trajectory

    pending = client.get("/api/approvals", headers=tokens.auth("viewer")).json()
    assert [a["id"] for a in pending] == [approval["approval_id"]]
    # Viewers look, editors decide; another workspace does not even see it.
    assert client.post(f"/api/approvals/{approval['approval_id']}/approve",
                       headers=tokens.auth("viewer")).status_code == 403
    assert client.post(f"/api/approvals/{approval['approval_id']}/approve",
                       headers=tokens.auth("other_owner")).status_code == 404
    assert client.get(f"/api/runs/{run['run_id']}", headers=tokens.auth("other_owner")).status_code == 404

    decided = client.post(f"/api/approvals/{approval['approval_id']}/approve", headers=tokens.auth("editor"))
    assert decided.status_code == 200, decided.text
    assert decided.json()["status"] == "completed"
    calendar = client.get("/api/content/calendar", headers=tokens.auth("viewer")).json()
    scheduled = [e for e in calendar if e["kind"] == "scheduled"]
    assert len(scheduled) == 1 and scheduled[0]["platform"] == "linkedin"
    # Deciding twice differently is a conflict.
    again = client.post(f"/api/approvals/{approval['approval_id']}/reject", headers=tokens.auth("editor"))
    assert again.status_code == 409
    assert client.get("/api/approvals", params={"status": "approved"}, headers=tokens.auth("viewer")).json()

    listed = client.get("/api/runs", headers=tokens.auth("viewer")).json()
    assert [r["id"] for r in listed] == [run["run_id"]]
    detail = client.get(f"/api/runs/{run['run_id']}", headers=tokens.auth("viewer")).json()
    assert detail["status"] == "completed" and detail["model"]["calls"] >= 0
    assert client.get("/api/runs", headers=tokens.auth("other_owner")).json() == []


def test_rejecting_and_editing_approvals(client: TestClient, tokens: Tokens) -> None:
    _events, run = chat(client, tokens)
    approval_id = run["approvals"][0]["id"]
    bad = client.post(f"/api/approvals/{approval_id}/edit", json={"arguments": {"publish_at": "yesterday-ish"}},
                      headers=tokens.auth("editor"))
    assert bad.status_code == 422, bad.text
    assert "publish_at" in bad.json()["detail"]
    empty = client.post(f"/api/approvals/{approval_id}/edit", json={"arguments": {}}, headers=tokens.auth("editor"))
    assert empty.status_code == 422 and empty.json()["errors"][0]["field"] == "body.arguments"
    rejected = client.post(f"/api/approvals/{approval_id}/reject", json={"reason": "not this week"},
                           headers=tokens.auth("editor"))
    assert rejected.status_code == 200
    assert rejected.json()["approvals"][0]["status"] == "rejected"
    assert rejected.json()["approvals"][0]["reason"] == "not this week"
    assert [e for e in client.get("/api/content/calendar", headers=tokens.auth("viewer")).json()
            if e["kind"] == "scheduled"] == []


def test_cancel_and_resume_runs(client: TestClient, tokens: Tokens) -> None:
    _events, run = chat(client, tokens)
    run_id = run["run_id"]
    assert client.post(f"/api/runs/{run_id}/resume", headers=tokens.auth("editor")).json()["status"] == \
        "waiting_approval"  # nothing decided yet: it waits again
    assert client.post(f"/api/runs/{run_id}/cancel", headers=tokens.auth("other_owner")).status_code == 404
    cancelled = client.post(f"/api/runs/{run_id}/cancel", headers=tokens.auth("editor"))
    assert cancelled.status_code == 200 and cancelled.json()["status"] == "cancelled"
    assert client.get("/api/approvals", headers=tokens.auth("viewer")).json() == []
    assert client.get("/api/runs", params={"status": "cancelled"}, headers=tokens.auth("viewer")).json()[0]["id"] \
        == run_id
    assert client.get("/api/runs/run_000000000000", headers=tokens.auth("viewer")).status_code == 404


def test_chat_input_is_validated(client: TestClient, tokens: Tokens) -> None:
    for body, field in [({}, "body.goal"), ({"goal": ""}, "body.goal"), ({"goal": "   "}, "body.goal"),
                        ({"goal": "x" * 5000}, "body.goal"), ({"goal": "hi", "extra": 1}, "body.extra")]:
        response = client.post("/api/chat", json=body, headers=tokens.auth("editor"))
        assert response.status_code == 422, body
        problem = response.json()
        assert problem["status"] == 422 and problem["errors"][0]["field"] == field, problem
