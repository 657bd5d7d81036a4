"""The dashboard in a background thread while something else runs in the foreground (`studio demo`).

`DemoDashboard(console).start(studio, workspace_id)` serves the real app on 127.0.0.1 (STUDIO_API_PORT if it is
free, else any free port) over the *same* Studio the demo drives, so its tiles move live as the demo works.
It prints the URL and a token made for this run (an owner token, revoked again at `stop()`). Nothing here may
break the demo: if the server cannot start, it says why and the demo goes on without it. uvicorn and the app
are imported only when a dashboard is actually started.
"""

from __future__ import annotations

import errno
import socket
import threading
import time
from contextlib import suppress
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from rich.console import Console
from rich.markup import escape

from creator_studio.logs import get_logger

if TYPE_CHECKING:
    from creator_studio.studio import Studio

log = get_logger("api.background")
LOOPBACK = "127.0.0.1"
START_TIMEOUT_S = 15.0
STOP_TIMEOUT_S = 5.0


class DashboardUnavailable(Exception):
    """The background dashboard could not start; the message says why."""


def bind_loopback(preferred: int | None) -> tuple[socket.socket, str | None]:
    """A listening socket on 127.0.0.1: on `preferred` if it is free, else on a free port chosen by the OS.
    Returns the socket and, when `preferred` was not used, why."""
    note = None
    for port in ([preferred] if preferred else []) + [0]:
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        try:
            sock.bind((LOOPBACK, port))
            sock.listen(128)
        except OSError as exc:
            sock.close()
            if port == 0:
                raise DashboardUnavailable(f"no free port on {LOOPBACK} ({exc.strerror or exc})") from exc
            busy = exc.errno == errno.EADDRINUSE
            note = f"port {port} is {'busy' if busy else 'not available'} ({exc.strerror or exc})"
            continue
        return sock, note
    raise AssertionError("unreachable")  # pragma: no cover


@dataclass
class RunningDashboard:
    url: str
    token: str
    token_id: str
    workspace_id: str
    studio: Studio
    app: Any  # FastAPI
    server: Any  # uvicorn.Server
    thread: threading.Thread
    sock: socket.socket

    def stop(self, timeout_s: float = STOP_TIMEOUT_S) -> bool:
        """Stop serving and revoke the demo token. True if the server thread ended in time."""
        from creator_studio.api.tokens import TokenService

        self.server.should_exit = True
        self.thread.join(timeout_s)
        stopped = not self.thread.is_alive()
        self.sock.close()
        self.studio.events.unsubscribe(self.app.state.event_subscription)
        self.app.state.api.runner.close()
        try:
            TokenService(self.studio.db).revoke(self.workspace_id, self.token_id)
        except Exception:  # the demo is ending anyway; a token left in a temp workspace is harmless
            log.exception("could not revoke the demo dashboard token")
        return stopped


def start_dashboard(studio: Studio, workspace_id: str, *, port: int | None = None,
                    timeout_s: float = START_TIMEOUT_S) -> tuple[RunningDashboard, str | None]:
    """Serve the app over `studio` in a daemon thread; returns once it accepts connections (and the note on
    the port, if the preferred one was not free). Raises DashboardUnavailable with the reason otherwise."""
    import uvicorn

    from creator_studio.api.app import create_app
    from creator_studio.api.tokens import TokenService

    sock, note = bind_loopback(port)
    tokens = TokenService(studio.db)
    created = app = server = thread = None
    try:
        # The token first: a studio that cannot write fails here, before any thread exists.
        created = tokens.create(workspace_id, role="owner", name="demo dashboard")
        app = create_app(studio)
        server = uvicorn.Server(uvicorn.Config(app, log_level="warning", access_log=False, lifespan="off",
                                               timeout_graceful_shutdown=1))
        failure: list[BaseException] = []

        def serve() -> None:
            try:
                server.run(sockets=[sock])
            except BaseException as exc:  # reported to the foreground, which carries on
                failure.append(exc)

        thread = threading.Thread(target=serve, name="demo-dashboard", daemon=True)
        thread.start()
        deadline = time.monotonic() + timeout_s
        while not server.started:
            if failure or not thread.is_alive():
                reason = f"{type(failure[0]).__name__}: {failure[0]}" if failure else "the server stopped"
                raise DashboardUnavailable(f"the server did not start ({reason})")
            if time.monotonic() > deadline:
                raise DashboardUnavailable(f"the server did not start within {timeout_s:.0f} s")
            time.sleep(0.02)
    except BaseException:
        # Leave nothing behind: no thread, no socket, no subscription on the studio, no live token.
        if server is not None and thread is not None:
            server.should_exit = True
            thread.join(STOP_TIMEOUT_S)
        sock.close()
        if app is not None:
            studio.events.unsubscribe(app.state.event_subscription)
            app.state.api.runner.close()
        if created is not None:
            with suppress(Exception):
                tokens.revoke(workspace_id, created.info.id)
        raise
    host, bound_port = sock.getsockname()[:2]
    running = RunningDashboard(url=f"http://{host}:{bound_port}/dashboard", token=created.token,
                               token_id=created.info.id, workspace_id=workspace_id, studio=studio, app=app,
                               server=server, thread=thread, sock=sock)
    return running, note


class DemoDashboard:
    """What `studio demo` calls: start (print the URL and token, or why not) and stop. Disabled: does nothing."""

    def __init__(self, console: Console, *, enabled: bool = True, port: int | None = None,
                 timeout_s: float = START_TIMEOUT_S) -> None:
        self.console = console
        self.enabled = enabled
        self.port = port
        self.timeout_s = timeout_s
        self.running: RunningDashboard | None = None

    def start(self, studio: Studio, workspace_id: str) -> RunningDashboard | None:
        if not self.enabled or self.running is not None:
            return self.running
        preferred = self.port if self.port is not None else studio.settings.api_port
        try:
            self.running, note = start_dashboard(studio, workspace_id, port=preferred, timeout_s=self.timeout_s)
        except Exception as exc:  # never fail the demo for its dashboard
            why = str(exc) if isinstance(exc, DashboardUnavailable) else f"{type(exc).__name__}: {exc}"
            log.warning("demo dashboard not started", extra={"reason": why})
            self.console.print(f"[yellow]Dashboard not started: {escape(why)}. The demo goes on without it "
                               f"(--no-dashboard skips it).[/yellow]")
            return None
        where = f" ({escape(note)}; using another one)" if note else ""
        self.console.print(f"Live dashboard while the demo runs: [bold]{self.running.url}[/bold]{where}\n"
                           f"Log in with this token (valid until the demo ends): {self.running.token}",
                           soft_wrap=True)
        return self.running

    def stop(self) -> None:
        if self.running is None:
            return
        running, self.running = self.running, None
        if not running.stop():
            log.warning("demo dashboard did not stop in time", extra={"url": running.url})
