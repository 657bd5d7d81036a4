"""The dashboard `studio demo` serves in a background thread: it starts on loopback, answers, prints its URL
and a token that works, steps aside when its port is busy, never fails the demo, and stops (token revoked)."""

from __future__ import annotations

import io
import socket

import httpx
import pytest
from rich.console import Console

from creator_studio.api.background import DemoDashboard, start_dashboard
from creator_studio.api.tokens import TokenService
from creator_studio.store.db import Database
from creator_studio.studio import Studio

pytestmark = pytest.mark.integration


def recording_console() -> tuple[Console, io.StringIO]:
    out = io.StringIO()
    return Console(file=out, width=200, color_system=None), out


def test_start_answer_and_stop(studio: Studio) -> None:
    running, note = start_dashboard(studio, "default", port=None)
    try:
        assert note is None and running.url.startswith("http://127.0.0.1:") and running.url.endswith("/dashboard")
        base = running.url.removesuffix("/dashboard")
        assert httpx.get(f"{base}/healthz", timeout=10).json() == {"status": "ok"}
        metrics = httpx.get(f"{base}/api/metrics", headers={"Authorization": f"Bearer {running.token}"}, timeout=30)
        assert metrics.status_code == 200 and metrics.json()["audience"]["total_followers"] > 0  # the same studio
        login = httpx.post(f"{base}/login", data={"token": running.token}, timeout=30)
        assert login.status_code == 303 and login.headers["location"] == "/dashboard"
    finally:
        assert running.stop()
    assert not running.thread.is_alive()
    with pytest.raises(httpx.ConnectError):
        httpx.get(f"{base}/healthz", timeout=5)
    assert TokenService(studio.db).authenticate(running.token) is None  # valid only while the demo runs
    assert "api" not in studio.events.modules  # the event bridge is gone too


def test_a_busy_port_moves_the_dashboard_and_says_why(studio: Studio) -> None:
    console, out = recording_console()
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen(1)
        busy = taken.getsockname()[1]
        live = DemoDashboard(console, port=busy)
        running = live.start(studio, "default")
        try:
            assert running is not None and f":{busy}/" not in running.url
            assert httpx.get(running.url.replace("/dashboard", "/healthz"), timeout=10).status_code == 200
        finally:
            live.stop()
    printed = out.getvalue()
    assert f"port {busy} is busy" in printed and running.url in printed and running.token in printed


def test_a_dashboard_that_cannot_start_does_not_stop_the_demo(studio: Studio) -> None:
    console, out = recording_console()
    working = studio.db
    studio.db = Database("sqlite:////nonexistent/directory/studio.db")  # a real, unreachable database
    try:
        live = DemoDashboard(console, port=None)
        assert live.start(studio, "default") is None
    finally:
        studio.db.dispose()
        studio.db = working
    assert "Dashboard not started: OperationalError" in out.getvalue()
    assert "The demo goes on without it" in out.getvalue()
    assert "api" not in studio.events.modules  # nothing of the failed start is left attached to the studio
    assert [t.name for t in TokenService(studio.db).list("default")].count("demo dashboard") == 0
    live.stop()  # nothing to stop: fine
    disabled_console, disabled_out = recording_console()
    skipped = DemoDashboard(disabled_console, enabled=False)
    assert skipped.start(studio, "default") is None and disabled_out.getvalue() == ""
    skipped.stop()
