"""An API app over the seeded test studio, with tokens of each role and a second workspace."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from fastapi.testclient import TestClient

from creator_studio.api.app import create_app
from creator_studio.api.tokens import TokenService
from creator_studio.runs.runner import Runner
from creator_studio.sandbox.seed import DEFAULT_BRAND
from creator_studio.studio import Studio


@dataclass(frozen=True)
class Tokens:
    owner: str
    editor: str
    viewer: str
    other_owner: str  # owner of another workspace: must never see the default workspace's data

    def auth(self, role: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {getattr(self, role)}"}


@pytest.fixture
def tokens(studio: Studio) -> Tokens:
    service = TokenService(studio.db)
    studio.workspaces.create("other", "Someone else", "UTC", DEFAULT_BRAND)
    return Tokens(owner=service.create("default", role="owner").token,
                  editor=service.create("default", role="editor").token,
                  viewer=service.create("default", role="viewer").token,
                  other_owner=service.create("other", role="owner").token)


@pytest.fixture
def client(studio: Studio, runner: Runner, tokens: Tokens) -> Iterator[TestClient]:
    with TestClient(create_app(studio, runner=runner), raise_server_exceptions=False) as test_client:
        yield test_client


def sse_events(text: str) -> list[tuple[str, str]]:
    """(event name, data) pairs of a server-sent events body."""
    found = []
    for block in text.replace("\r\n", "\n").split("\n\n"):
        name, data = "message", []
        for line in block.split("\n"):
            if line.startswith("event:"):
                name = line[6:].strip()
            elif line.startswith("data:"):
                data.append(line[5:].removeprefix(" "))
        if data:
            found.append((name, "\n".join(data)))
    return found
