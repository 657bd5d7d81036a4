"""Shared pieces of the benchmarks: fresh sandbox worlds, timing, statistics, machine facts, BENCHMARKS.md."""

from __future__ import annotations

import os
import platform
import re
import statistics
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from importlib import metadata
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

from creator_studio.evals.worlds import WorldTemplates
from creator_studio.settings import Settings

REPO = Path(__file__).resolve().parent.parent
CASES_DIR = REPO / "evals" / "cases"
BENCHMARKS_MD = REPO / "BENCHMARKS.md"


def bench_settings(home: Path, **overrides: object) -> Settings:
    values: dict[str, object] = {"home": home, "model": "offline", "log_level": "ERROR"}
    values.update(overrides)
    return Settings(**values)  # type: ignore[arg-type]


def world_templates(root: Path, **overrides: object) -> WorldTemplates:
    """Seeded sandbox worlds (built once), each run gets its own copy of the database: the eval harness's way."""
    return WorldTemplates(root, bench_settings(root / "unused-home", **overrides))


# Timing ------------------------------------------------------------------------------------------------------
def busy_seconds(intervals: Iterable[tuple[datetime, datetime]]) -> float:
    """Wall time during which at least one interval was running (parallel tools count once)."""
    total = 0.0
    current: tuple[datetime, datetime] | None = None
    for start, end in sorted(intervals):
        if current is None or start > current[1]:
            if current is not None:
                total += (current[1] - current[0]).total_seconds()
            current = (start, end)
        else:
            current = (current[0], max(current[1], end))
    if current is not None:
        total += (current[1] - current[0]).total_seconds()
    return total


# Statistics --------------------------------------------------------------------------------------------------
def percentile(values: Sequence[float], q: float) -> float:
    """Linear-interpolated percentile (q in 0..100)."""
    if not values:
        raise ValueError("percentile of no values")
    ordered = sorted(values)
    position = (len(ordered) - 1) * q / 100
    low = int(position)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


def median(values: Sequence[float]) -> float:
    return statistics.median(values)


@dataclass(frozen=True)
class Spread:
    """A figure measured in several repetitions: the median and the range."""

    median: float
    low: float
    high: float

    @classmethod
    def of(cls, values: Sequence[float]) -> Spread:
        return cls(median=median(values), low=min(values), high=max(values))

    def show(self, digits: int = 2) -> str:
        if round(self.low, digits) == round(self.high, digits):
            return f"{self.median:.{digits}f}"
        return f"{self.median:.{digits}f} ({self.low:.{digits}f}–{self.high:.{digits}f})"


# Machine and versions ----------------------------------------------------------------------------------------
def cpu_model() -> str:
    try:
        text = Path("/proc/cpuinfo").read_text(encoding="utf-8")
    except OSError:
        return platform.processor() or platform.machine()
    match = re.search(r"^model name\s*:\s*(.+)$", text, re.MULTILINE)
    return match.group(1).strip() if match else platform.machine()


def machine_line() -> str:
    return f"{cpu_model()}, {os.cpu_count()} cores visible, {platform.system()} {platform.release()}"


def versions_line(packages: Sequence[str]) -> str:
    parts = [f"python {platform.python_version()}"]
    for package in packages:
        try:
            parts.append(f"{package} {metadata.version(package)}")
        except metadata.PackageNotFoundError:
            parts.append(f"{package} (not installed)")
    return ", ".join(parts)


# BENCHMARKS.md -----------------------------------------------------------------------------------------------
def write_section(heading: str, body: str, path: Path = BENCHMARKS_MD) -> None:
    """Replace this benchmark's own section (between its markers) in BENCHMARKS.md, leaving others' alone."""
    slug = re.sub(r"[^a-z0-9]+", "-", heading.lower()).strip("-")
    begin, end = f"<!-- BEGIN {slug} -->", f"<!-- END {slug} -->"
    section = f"{begin}\n## {heading}\n\n{body.strip()}\n{end}\n"
    text = path.read_text(encoding="utf-8") if path.exists() else "# Benchmarks\n\n"
    pattern = re.compile(re.escape(begin) + r".*?" + re.escape(end) + r"\n?", re.DOTALL)
    if pattern.search(text):
        text = pattern.sub(lambda _m: section, text, count=1)
    else:
        text = text.rstrip("\n") + "\n\n" + section
    path.write_text(text, encoding="utf-8")
