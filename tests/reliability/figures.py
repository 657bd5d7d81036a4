"""Reliability figures: each test calls `report(name, figures)`; the figures go to
.test-artifacts/reliability/<name>.json and conftest prints them as a table at the end of the session."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

ARTIFACTS = Path(__file__).resolve().parents[2] / ".test-artifacts" / "reliability"
REPORTED: dict[str, dict[str, Any]] = {}


def report(name: str, figures: dict[str, Any]) -> None:
    """Record one test's figures for the session summary and as a JSON artifact."""
    REPORTED[name] = figures
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    (ARTIFACTS / f"{name}.json").write_text(json.dumps(figures, indent=2, default=str) + "\n", encoding="utf-8")
