"""R4 tenant isolation: every route of the app, probed with workspace B's owner token against workspace A's data.

Workspace A (the seeded "default") gets real objects through the API first: a draft, a workflow and a run of it,
a chat run waiting for approval (its approval), a webhook subscription, a token, besides its seeded comments,
leads, segments, posts, products, A/B tests and events. Then every route in `app.routes` (so a new endpoint is
probed without editing this test; the dashboard's HTML routes too) is called with B's token, its path
parameters filled with A's ids and its id-like query parameters too. A route whose path names one of A's
objects must answer 403 or 404; every answer, whatever its status, must not contain any of A's ids or
marker texts; and A's objects, read back with A's token, are unchanged afterwards.

Run: .venv/bin/pytest -q -p no:cacheprovider tests/reliability/test_tenant_isolation.py
"""

from __future__ import annotations

import json
import re
import time
from typing import Any

import pytest
import yaml
from fastapi.routing import APIRoute, iter_route_contexts
from fastapi.testclient import TestClient

from creator_studio.api.app import create_app
from creator_studio.api.deps import SESSION_COOKIE
from creator_studio.api.tokens import TokenService
from creator_studio.automation.templates import TEMPLATES_DIR
from creator_studio.runs.runner import Runner
from creator_studio.sandbox.seed import DEFAULT_BRAND
from creator_studio.studio import Studio
from tests.reliability.figures import report

pytestmark = pytest.mark.integration

MARKER = "canary-tenant-a-7f3e9c"
# Live streams never end, so they are not called here; they subscribe to the principal's own workspace only.
STREAMS = {"/api/events/stream", "/dashboard/stream"}
# Bodies that would be accepted if the object were B's: a refusal then can only come from the isolation.
BODIES: dict[tuple[str, str], Any] = {
    ("POST", "/api/chat"): {"goal": "list my drafts"},
    ("POST", "/api/approvals/{approval_id}/reject"): {"reason": "not yours"},
    ("POST", "/api/approvals/{approval_id}/edit"): {"arguments": {"text": "hijacked"}},
    ("POST", "/api/content/drafts"): {"platform": "linkedin", "topic": "B's own topic"},
    ("PATCH", "/api/content/drafts/{draft_id}"): {"text": "hijacked"},
    ("POST", "/api/webhooks/subscriptions"): {"url": "https://b.example/hook", "event_types": ["*"]},
    ("PATCH", "/api/settings"): {"timezone": "Asia/Tokyo"},
    ("POST", "/api/tokens"): {"role": "viewer", "name": "b-token"},
    ("PATCH", "/api/tokens/{token_id}"): {"role": "viewer"},
    ("POST", "/api/webhooks/stripe/{workspace_id}"): {"id": "evt_x", "type": "checkout.session.completed"},
}
FORMS: dict[tuple[str, str], dict[str, str]] = {
    ("POST", "/login"): {"token": "placeholder"},  # filled with B's token
    ("POST", "/dashboard/chat"): {"goal": "list my drafts"},
    ("POST", "/dashboard/approvals/{approval_id}/{action}"): {"reason": "not yours"},
}


def workflow_definition() -> dict[str, Any]:
    template = yaml.safe_load((TEMPLATES_DIR / "follower-acquisition.yaml").read_text(encoding="utf-8"))
    return {key: template[key] for key in ("trigger", "steps") if key in template}


def ok(response: Any, *statuses: int) -> Any:
    assert response.status_code in (statuses or (200,)), (response.request.url, response.status_code, response.text)
    return response.json()


def create_workspace_a(client: TestClient, a: dict[str, str], tokens: TokenService) -> dict[str, Any]:
    """Real objects in A, made through the API with A's token; returns A's ids by path parameter name."""
    draft = ok(client.post("/api/content/drafts", json={"platform": "linkedin", "topic": f"{MARKER} launch"},
                           headers=a), 201)
    workflow = ok(client.post("/api/workflows", json={"name": f"{MARKER} flow", "definition": workflow_definition()},
                              headers=a), 201)
    workflow_run = ok(client.post(f"/api/workflows/{workflow['id']}/run", headers=a), 202)
    chat = client.post("/api/chat", json={"goal": "Draft a LinkedIn post about pandas tips and publish it now"},
                       headers=a)
    assert chat.status_code == 200, chat.text
    approvals = ok(client.get("/api/approvals", headers=a))
    assert approvals, "the chat run asked for no approval"
    runs = ok(client.get("/api/runs", headers=a))
    subscription = ok(client.post("/api/webhooks/subscriptions", json={
        "url": "https://a.example/hook", "event_types": ["*"], "description": MARKER}, headers=a), 201)
    token = tokens.create("default", role="viewer", name=f"{MARKER}-token")
    segments = ok(client.get("/api/audience/segments", headers=a))
    tests = ok(client.get("/api/revenue/tests", headers=a))
    return {
        "draft_id": draft["id"], "workflow_id": workflow["id"], "workflow_run_id": workflow_run.get("id"),
        "run_id": approvals[0]["run_id"], "approval_id": approvals[0]["id"], "all_runs": [r["id"] for r in runs],
        "subscription_id": subscription["id"], "token_id": token.info.id,
        "name": segments[0]["name"] if segments else "nobody", "test_id": tests[0]["id"] if tests else "none",
        "workspace_id": "default",
    }


def canaries(client: TestClient, a: dict[str, str], ids: dict[str, Any]) -> set[str]:
    """Strings that only A's data contains: every id A's lists show (seeded and created) and the marker."""
    found = {MARKER}
    for url in ("/api/content/drafts", "/api/content/posts", "/api/audience/comments?limit=500",
                "/api/audience/leads?min_score=0", "/api/revenue/products", "/api/revenue/tests", "/api/runs",
                "/api/approvals?status=all", "/api/workflows", "/api/webhooks/subscriptions", "/api/tokens",
                "/api/events?limit=1000"):
        for item in ok(client.get(url, headers=a)):
            for key in ("id", "run_id", "post_id", "comment_id", "author_id", "correlation_id"):
                value = item.get(key) if isinstance(item, dict) else None
                if isinstance(value, str):
                    found.add(value)
            product = item.get("product") if isinstance(item, dict) else None
            if isinstance(product, dict):
                found.add(str(product.get("id")))
    found.update(str(v) for k, v in ids.items() if k not in ("name", "workspace_id", "all_runs") and v)
    # Short or generic values (a platform name, "default") would match innocently: ids are long and specific.
    return {value for value in found if len(value) >= 10 and not re.fullmatch(r"[a-z]+", value)}


def snapshot(client: TestClient, a: dict[str, str], ids: dict[str, Any]) -> dict[str, Any]:
    urls = [f"/api/content/drafts/{ids['draft_id']}", f"/api/workflows/{ids['workflow_id']}",
            f"/api/approvals/{ids['approval_id']}", f"/api/runs/{ids['run_id']}", "/api/webhooks/subscriptions",
            "/api/tokens", "/api/settings", "/api/content/drafts", "/api/workflows", "/api/approvals?status=all"]
    return {url: client.get(url, headers=a).json() for url in urls}


def fill(path: str, ids: dict[str, Any]) -> str:
    values = {**ids, "action": "approve"}
    if path.startswith("/dashboard/fragments/"):
        values["name"] = "approvals"
    return re.sub(r"\{(\w+)(?::\w+)?\}", lambda m: str(values[m.group(1)]), path)


def test_workspace_b_never_reads_or_writes_workspace_a(studio: Studio, runner: Runner) -> None:
    started = time.perf_counter()
    tokens = TokenService(studio.db)
    studio.workspaces.create("other", "Someone else", "UTC", DEFAULT_BRAND)
    a_token = tokens.create("default", role="owner").token
    b_token = tokens.create("other", role="owner").token
    a = {"Authorization": f"Bearer {a_token}"}
    b = {"Authorization": f"Bearer {b_token}", "Origin": "http://testserver"}
    app = create_app(studio, runner=runner)
    with TestClient(app, raise_server_exceptions=False) as client:
        ids = create_workspace_a(client, a, tokens)
        secrets = canaries(client, a, ids)
        before = snapshot(client, a, ids)
        # The control: with A's own token the same reads succeed and show A's ids (so the scan can see a leak).
        control = [client.get(url, headers=a) for url in before]
        assert all(r.status_code == 200 for r in control), [(r.url, r.status_code) for r in control]
        assert all(any(s in r.text for s in secrets) for r in control[:4])
        probed: set[tuple[str, str]] = set()
        requests = 0
        statuses: dict[int, int] = {}
        leaks: list[str] = []
        skipped: list[str] = []
        # Every route as mounted (FastAPI includes routers lazily: `app.routes` holds the included routers).
        for context in iter_route_contexts(app.routes):
            route, path = context.original_route, str(context.path)
            if not isinstance(route, APIRoute):
                continue  # the static files mount: no workspace data
            if path in STREAMS:
                skipped.append(path)
                continue
            names = set(re.findall(r"\{(\w+)", path))
            for method in sorted((context.methods or set()) - {"HEAD"}):
                key = (method, path)
                url = fill(path, ids)
                params = {"run_id": ids["run_id"]} if path == "/api/approvals" else {}
                if path == "/api/events":
                    params = {"correlation_id": ids["run_id"]}
                kwargs: dict[str, Any] = {"params": params, "headers": b}
                if key in FORMS:
                    kwargs["data"] = {**FORMS[key], **({"token": b_token} if path == "/login" else {})}
                elif method in ("POST", "PUT", "PATCH"):
                    body_field = route.body_field
                    if key in BODIES:
                        kwargs["json"] = BODIES[key]
                    elif path.startswith("/api/workflows") and method in ("POST", "PUT") and body_field is not None:
                        kwargs["json"] = {"name": "B's flow", "definition": workflow_definition()}
                    else:
                        assert body_field is None, f"{method} {path} takes a body: add a valid one to BODIES"
                if method in ("PUT", "PATCH", "DELETE", "POST") and "{" in path:
                    kwargs["headers"] = {**b, "If-Match": "*"}
                client.cookies.clear()
                client.cookies.set(SESSION_COOKIE, b_token)  # the dashboard's session
                response = client.request(method, url, **kwargs)
                requests += 1
                statuses[response.status_code] = statuses.get(response.status_code, 0) + 1
                probed.add(key)
                text = response.text
                targets_a = bool(names & {"draft_id", "workflow_id", "run_id", "approval_id", "subscription_id",
                                          "token_id", "test_id"}) or path.startswith("/api/audience/segments/")
                if targets_a and response.status_code not in (403, 404):
                    leaks.append(f"{method} {url} -> {response.status_code}: {text[:200]}")
                if path == "/api/webhooks/stripe/{workspace_id}" and response.status_code < 400:
                    leaks.append(f"{method} {url} accepted an unsigned delivery for A")
                # A 404 may echo the id B sent ("No draft 'draft_…'"): that tells B nothing it did not know.
                sent = url + json.dumps(params) + json.dumps(kwargs.get("json"))
                found = sorted(s for s in secrets if s in text and s not in sent)
                if found:
                    leaks.append(f"{method} {url} -> {response.status_code} shows A's {found[:3]}")
        client.cookies.clear()
        after = snapshot(client, a, ids)
    changed = [url for url in before if before[url] != after[url]]
    seconds = round(time.perf_counter() - started, 1)
    report("r4_tenant_isolation", {"routes": len(probed), "requests": requests, "a_ids_checked": len(secrets),
                                   "leaks": len(leaks), "a_objects_changed": len(changed),
                                   "statuses": dict(sorted(statuses.items())),
                                   "not_probed": ",".join(skipped), "seconds": seconds})
    assert len(probed) >= 50, f"only {len(probed)} routes were probed"
    assert len(secrets) >= 20, f"A has too few distinctive ids to look for ({len(secrets)})"
    assert not leaks, "\n".join(leaks)
    assert not changed, f"A's data changed: {changed}\n" + json.dumps(
        {url: [before[url], after[url]] for url in changed}, default=str)[:2000]
