"""Prints the reliability figures (tests/reliability/figures.py) as a table at the end of the pytest session,
so they show without `-s`."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.reliability.figures import REPORTED
from tests.servers import REDIS_SERVER, PersistentRedis


@pytest.fixture
def redis(tmp_path: Path) -> Iterator[PersistentRedis]:
    """A redis-server with an append-only file, stoppable and restartable on its port (R1 restarts, R5)."""
    if not Path(REDIS_SERVER).exists():
        pytest.skip(f"{REDIS_SERVER} is not installed")
    directory = tmp_path / "redis"
    directory.mkdir()
    server = PersistentRedis(directory)
    server.start()
    yield server
    server.stop()


def pytest_terminal_summary(terminalreporter: Any, exitstatus: int, config: pytest.Config) -> None:
    if not REPORTED:
        return
    terminalreporter.section("reliability figures")
    for name, figures in sorted(REPORTED.items()):
        terminalreporter.write_line(f"{name}: " + ", ".join(f"{k}={v}" for k, v in figures.items()))
