"""Prints the reliability figures (tests/reliability/figures.py) as a table at the end of the pytest session,
so they show without `-s`."""

from __future__ import annotations

from typing import Any

import pytest

from tests.reliability.figures import REPORTED


def pytest_terminal_summary(terminalreporter: Any, exitstatus: int, config: pytest.Config) -> None:
    if not REPORTED:
        return
    terminalreporter.section("reliability figures")
    for name, figures in sorted(REPORTED.items()):
        terminalreporter.write_line(f"{name}: " + ", ".join(f"{k}={v}" for k, v in figures.items()))
