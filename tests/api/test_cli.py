"""`studio tokens create|list|revoke` and `studio serve` as an operator uses them."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from typer.testing import CliRunner

from creator_studio.cli import app

pytestmark = pytest.mark.integration


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("STUDIO_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("STUDIO_MODEL", "offline")
    result = CliRunner().invoke(app, ["init", "--defaults"])
    assert result.exit_code == 0, result.output
    return tmp_path / "home"


def test_tokens_create_list_revoke(home: Path) -> None:
    cli = CliRunner()
    created = cli.invoke(app, ["tokens", "create", "--role", "editor", "--name", "laptop"])
    assert created.exit_code == 0, created.output
    token = created.stdout.strip().splitlines()[-1]
    token_id = token.split("_")[1]
    listed = cli.invoke(app, ["tokens", "list"])
    assert token_id in listed.stdout and "editor" in listed.stdout and token not in listed.stdout
    assert cli.invoke(app, ["tokens", "revoke", token_id]).exit_code == 0
    assert token_id not in cli.invoke(app, ["tokens", "list"]).stdout
    assert token_id in cli.invoke(app, ["tokens", "list", "--all"]).stdout
    bad_role = cli.invoke(app, ["tokens", "create", "--role", "admin"])
    assert bad_role.exit_code == 2 and "--role must be one of" in bad_role.stderr
    unknown = cli.invoke(app, ["tokens", "revoke", "nope"])
    assert unknown.exit_code == 2 and "No token" in unknown.stderr
    other = cli.invoke(app, ["tokens", "list", "--workspace", "ghost"])
    assert other.exit_code == 2 and "does not exist" in other.stderr


@pytest.mark.timeout(120)
def test_studio_serve_answers_on_its_port(home: Path) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    env = {**os.environ, "STUDIO_HOME": str(home), "STUDIO_MODEL": "offline", "STUDIO_API_PORT": str(port)}
    process = subprocess.Popen([sys.executable, "-m", "creator_studio.cli", "serve"], env=env,
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        deadline = time.monotonic() + 90
        while True:
            try:
                ready = httpx.get(f"http://127.0.0.1:{port}/readyz", timeout=2)
                break
            except httpx.TransportError:
                assert process.poll() is None, process.stdout.read() if process.stdout else ""
                assert time.monotonic() < deadline, "studio serve did not answer in 90 s"
                time.sleep(0.2)
        assert ready.json() == {"status": "ready", "database": "reachable"}
        assert httpx.get(f"http://127.0.0.1:{port}/api/runs").status_code == 401
    finally:
        process.terminate()
        process.wait(timeout=20)
