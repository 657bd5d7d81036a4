"""Workflows over HTTP, the rest of CRUD: PUT makes a new version (If-Match; 409 with both versions when
stale), DELETE archives (hidden from the list, history kept, a second DELETE or an unknown id is a problem)."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.api.conftest import Tokens

pytestmark = pytest.mark.integration

HOURLY = {"trigger": {"type": "cron", "cron": "0 * * * *"},
          "steps": [{"type": "tool", "tool": "suggest_topics", "args": {"count": 1}}]}
MONDAY = {"trigger": {"type": "cron", "cron": "0 9 * * 1"}, "steps": [{"type": "goal", "goal": "Plan the week"}]}


def create(client: TestClient, tokens: Tokens, name: str = "Hourly topics") -> dict[str, Any]:
    response = client.post("/api/workflows", json={"name": name, "definition": HOURLY}, headers=tokens.auth("editor"))
    assert response.status_code == 201, response.text
    return dict(response.json())


def test_put_makes_a_new_version_and_a_stale_one_gets_both(client: TestClient, tokens: Tokens) -> None:
    editor = tokens.auth("editor")
    url = f"/api/workflows/{create(client, tokens)['id']}"
    missing = client.put(url, json={"definition": MONDAY}, headers=editor)
    assert missing.status_code == 422 and missing.json()["errors"][0]["field"] == "header.if-match"

    alice = client.put(url, json={"name": "Monday plan", "definition": MONDAY}, headers={**editor, "If-Match": '"1"'})
    assert alice.status_code == 200, alice.text
    assert alice.headers["etag"] == '"2"' and alice.json()["version"] == 2 and alice.json()["name"] == "Monday plan"
    assert alice.json()["trigger"]["cron"] == "0 9 * * 1" and alice.json()["steps"][0]["goal"] == "Plan the week"

    bob = client.put(url, json={"definition": HOURLY}, headers={**editor, "If-Match": '"1"'})
    assert bob.status_code == 409 and bob.headers["content-type"] == "application/problem+json"
    problem = bob.json()
    assert problem["type"].endswith("/edit-conflict")
    assert problem["current"]["version"] == 2 and problem["current"]["trigger"]["cron"] == "0 9 * * 1"
    assert problem["yours"]["version"] == 1 and problem["yours"]["definition"]["trigger"]["cron"] == "0 * * * *"
    fetched = client.get(url, headers=editor)
    assert fetched.json()["trigger"]["cron"] == "0 9 * * 1" and fetched.headers["etag"] == '"2"'

    same = client.put(url, json={"definition": MONDAY}, headers={**editor, "If-Match": '"2"'})
    assert same.status_code == 200 and same.headers["etag"] == '"2"'  # nothing changed, no new version
    forced = client.put(url, json={"definition": HOURLY}, headers={**editor, "If-Match": "*"})
    assert forced.status_code == 200 and forced.json()["version"] == 3


def test_put_validates_the_definition_and_the_caller(client: TestClient, tokens: Tokens) -> None:
    editor = {**tokens.auth("editor"), "If-Match": '"1"'}
    url = f"/api/workflows/{create(client, tokens)['id']}"
    bad_tool = client.put(url, json={"definition": {**HOURLY, "steps": [{"type": "tool", "tool": "launch_rockets"}]}},
                          headers=editor)
    assert bad_tool.status_code == 422 and bad_tool.json()["errors"][0]["field"].startswith("body.definition.steps")
    bad_cron = client.put(url, json={"definition": {**HOURLY, "trigger": {"type": "cron", "cron": "every day"}}},
                          headers=editor)
    assert bad_cron.status_code == 422 and "body.definition.trigger" in bad_cron.json()["errors"][0]["field"]
    unknown_field = client.put(url, json={"definition": HOURLY, "colour": "red"}, headers=editor)
    assert unknown_field.status_code == 422 and unknown_field.json()["errors"][0]["field"] == "body.colour"
    create(client, tokens, name="Taken")
    clash = client.put(url, json={"name": "Taken", "definition": HOURLY}, headers=editor)
    assert clash.status_code == 409 and "Taken" in clash.json()["detail"]
    viewer = client.put(url, json={"definition": MONDAY}, headers={**tokens.auth("viewer"), "If-Match": '"1"'})
    assert viewer.status_code == 403
    elsewhere = client.put(url, json={"definition": MONDAY}, headers={**tokens.auth("other_owner"), "If-Match": '"1"'})
    assert elsewhere.status_code == 404  # another workspace's workflow does not exist for you
    unknown = client.put("/api/workflows/wf_000000000000", json={"definition": MONDAY}, headers=editor)
    assert unknown.status_code == 404 and unknown.headers["content-type"] == "application/problem+json"
    assert client.get(url, headers=editor).json()["version"] == 1  # none of these changed it


def test_delete_archives_the_workflow_and_keeps_its_runs(client: TestClient, tokens: Tokens) -> None:
    editor = tokens.auth("editor")
    workflow = create(client, tokens)
    url = f"/api/workflows/{workflow['id']}"
    run = client.post(f"{url}/run", headers=editor).json()
    assert client.delete(url, headers=tokens.auth("viewer")).status_code == 403
    assert client.delete(url, headers=tokens.auth("other_owner")).status_code == 404
    stale = client.delete(url, headers={**editor, "If-Match": '"7"'})
    assert stale.status_code == 409 and stale.json()["current"]["status"] == "active"

    archived = client.delete(url, headers={**editor, "If-Match": '"1"'})
    assert archived.status_code == 200, archived.text
    assert archived.json()["status"] == "archived" and archived.json()["archived_at"] is not None
    assert archived.json()["next_run_at"] is None

    listed = client.get("/api/workflows", headers=editor).json()
    assert workflow["id"] not in {w["id"] for w in listed}
    only_archived = client.get("/api/workflows", params={"status": "archived"}, headers=editor).json()
    assert [w["id"] for w in only_archived] == [workflow["id"]]
    assert client.get(url, headers=editor).json()["status"] == "archived"  # still readable by id
    history = client.get(f"{url}/runs", headers=tokens.auth("viewer"))
    assert history.status_code == 200
    assert [(r["id"], r["status"]) for r in history.json()] == [(run["id"], "cancelled")]  # archiving cancelled it
    assert client.get(f"{url}/runs", headers=tokens.auth("other_owner")).status_code == 404

    again = client.delete(url, headers=editor)
    assert again.status_code == 409 and "already archived" in again.json()["detail"]
    assert client.post(f"{url}/run", headers=editor).status_code == 409
    assert client.post(f"{url}/resume", headers=editor).status_code == 409
    assert client.put(url, json={"definition": MONDAY}, headers={**editor, "If-Match": "*"}).status_code == 409
    unknown = client.delete("/api/workflows/wf_000000000000", headers=editor)
    assert unknown.status_code == 404 and "wf_000000000000" in unknown.json()["detail"]
    assert create(client, tokens)["id"] != workflow["id"]  # the name is free again


def test_openapi_declares_update_and_archive(client: TestClient) -> None:
    operations = client.get("/openapi.json").json()["paths"]["/api/workflows/{workflow_id}"]
    assert {"get", "put", "delete"} <= set(operations)
    for method in ("put", "delete"):
        assert {"401", "403", "404", "409", "422", "500"} <= set(operations[method]["responses"])
    put = operations["put"]
    assert any(p["name"] == "if-match" and p["required"] for p in put["parameters"])
    assert put["requestBody"]["content"]["application/json"]["schema"]["$ref"].endswith("/WorkflowChanges")
