"""Who may do what: tokens, roles, revocation and role changes on the very next request, and workspaces
that never see each other's data."""

from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient

from creator_studio.api.tokens import TokenService, hash_token
from creator_studio.studio import Studio
from tests.api.conftest import Tokens

pytestmark = pytest.mark.integration


def api_routes(client: TestClient) -> list[tuple[str, str]]:
    """Every operation the OpenAPI description lists under /api (Stripe's webhook signs instead)."""
    paths = client.get("/openapi.json").json()["paths"]
    return [(method.upper(), re.sub(r"\{[a-z_]+\}", "some_id", path)) for path, operations in paths.items()
            for method in operations if path.startswith("/api/") and "/webhooks/stripe" not in path]


def test_every_api_route_refuses_a_request_without_a_token(client: TestClient) -> None:
    routes = api_routes(client)
    assert len(routes) >= 35
    for method, path in routes:
        response = client.request(method, path)
        assert response.status_code == 401, (method, path, response.text)
        assert response.headers["content-type"] == "application/problem+json"
        assert response.headers["www-authenticate"].startswith("Bearer")
        assert "token" in response.json()["detail"]


def test_an_unknown_or_malformed_token_is_refused(client: TestClient, tokens: Tokens) -> None:
    prefix, token_id, _secret = tokens.owner.split("_", 2)
    for bad in ("nonsense", f"{prefix}_{token_id}_wrongsecret", "cs_000000000000_x"):
        response = client.get("/api/runs", headers={"Authorization": f"Bearer {bad}"})
        assert response.status_code == 401
        assert response.json()["title"] == "Unauthorized"


def test_tokens_are_stored_hashed(studio: Studio, tokens: Tokens) -> None:
    with studio.db.engine.connect() as connection:
        rows = connection.exec_driver_sql("SELECT id, secret_hash FROM api_tokens").all()
    stored = " ".join(f"{r[0]} {r[1]}" for r in rows)
    assert tokens.owner not in stored
    assert hash_token(tokens.owner) in stored


def test_roles_limit_what_a_token_may_do(client: TestClient, tokens: Tokens) -> None:
    viewer, editor = tokens.auth("viewer"), tokens.auth("editor")
    assert client.get("/api/runs", headers=viewer).status_code == 200
    refused = client.post("/api/content/drafts", json={"platform": "linkedin", "topic": "pandas"}, headers=viewer)
    assert refused.status_code == 403
    assert "editor role" in refused.json()["detail"]
    assert client.post("/api/chat", json={"goal": "hi"}, headers=viewer).status_code == 403
    # Editors act but do not administer.
    assert client.get("/api/tokens", headers=editor).status_code == 403
    assert client.patch("/api/settings", json={"timezone": "UTC"}, headers=editor).status_code == 403
    assert client.get("/api/webhooks/subscriptions", headers=editor).status_code == 403
    assert client.post("/api/chat", json={"goal": "hi", "auto_approve": True}, headers=editor).status_code == 403


def test_revocation_applies_to_the_next_request(client: TestClient, tokens: Tokens) -> None:
    owner = tokens.auth("owner")
    viewer_id = tokens.viewer.split("_")[1]
    assert client.get("/api/runs", headers=tokens.auth("viewer")).status_code == 200
    assert client.delete(f"/api/tokens/{viewer_id}", headers=owner).status_code == 200
    after = client.get("/api/runs", headers=tokens.auth("viewer"))
    assert after.status_code == 401
    assert "revoked" in after.json()["detail"]
    listed = [t["id"] for t in client.get("/api/tokens", headers=owner).json()]
    assert viewer_id not in listed


def test_a_role_change_applies_to_the_next_request(client: TestClient, tokens: Tokens, studio: Studio) -> None:
    body = {"platform": "linkedin", "topic": "pandas tips"}
    assert client.post("/api/content/drafts", json=body, headers=tokens.auth("viewer")).status_code == 403
    viewer_id = tokens.viewer.split("_")[1]
    changed = client.patch(f"/api/tokens/{viewer_id}", json={"role": "editor"}, headers=tokens.auth("owner"))
    assert changed.status_code == 200 and changed.json()["role"] == "editor"
    assert client.post("/api/content/drafts", json=body, headers=tokens.auth("viewer")).status_code == 201
    # And back down, outside the API (the CLI's path): still no cache in the way.
    TokenService(studio.db).set_role("default", viewer_id, "viewer")
    assert client.post("/api/content/drafts", json=body, headers=tokens.auth("viewer")).status_code == 403


def test_tokens_created_over_the_api_are_shown_once(client: TestClient, tokens: Tokens) -> None:
    created = client.post("/api/tokens", json={"role": "viewer", "name": "zapier"}, headers=tokens.auth("owner"))
    assert created.status_code == 201
    secret = created.json()["token"]
    assert client.get("/api/runs", headers={"Authorization": f"Bearer {secret}"}).status_code == 200
    listing = client.get("/api/tokens", headers=tokens.auth("owner")).text
    assert secret not in listing and "zapier" in listing
    bad = client.post("/api/tokens", json={"role": "admin"}, headers=tokens.auth("owner"))
    assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "body.role"


def test_another_workspace_sees_nothing_of_this_one(client: TestClient, tokens: Tokens) -> None:
    mine, theirs = tokens.auth("owner"), tokens.auth("other_owner")
    draft = client.post("/api/content/drafts", json={"platform": "linkedin", "topic": "pandas"}, headers=mine).json()
    workflow_id = client.get("/api/workflows", headers=mine).json()[0]["id"]
    test_id = client.get("/api/revenue/tests", headers=mine).json()[0]["id"]
    viewer_id = tokens.viewer.split("_")[1]
    for method, path in [("GET", f"/api/content/drafts/{draft['id']}"), ("GET", f"/api/workflows/{workflow_id}"),
                         ("POST", f"/api/workflows/{workflow_id}/pause"), ("GET", f"/api/revenue/tests/{test_id}"),
                         ("DELETE", f"/api/tokens/{viewer_id}"), ("PATCH", f"/api/tokens/{viewer_id}")]:
        body = {"role": "owner"} if method == "PATCH" else None
        response = client.request(method, path, headers=theirs, json=body)
        assert response.status_code == 404, (method, path, response.text)
        assert response.headers["content-type"] == "application/problem+json"
    patched = client.patch(f"/api/content/drafts/{draft['id']}", json={"text": "mine now"},
                           headers={**theirs, "If-Match": '"1"'})
    assert patched.status_code == 404
    for path in ("/api/content/drafts", "/api/workflows", "/api/revenue/tests", "/api/audience/comments",
                 "/api/revenue/products", "/api/runs", "/api/approvals"):
        assert client.get(path, headers=theirs).json() == [], path
    assert client.get("/api/settings", headers=theirs).json()["id"] == "other"
