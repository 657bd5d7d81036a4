"""Prompt files. Code refers to prompts by name (`agents/content`); the file carries its version.

Untrusted text (comments, DMs, imported posts, webhook payloads) enters a prompt only through `quote_untrusted`,
as data inside a fenced block, never spliced into instructions.
"""

from __future__ import annotations

import json
import re
from functools import cache
from pathlib import Path
from string import Template
from typing import Any

import yaml

PROMPTS_DIR = Path(__file__).parent
_VERSIONED = re.compile(r"^(?P<name>.+)\.v(?P<version>\d+)\.(?P<ext>md|yaml|txt)$")


def _versions(name: str) -> dict[int, Path]:
    folder = PROMPTS_DIR / Path(name).parent
    stem = Path(name).name
    found: dict[int, Path] = {}
    for path in folder.glob(f"{stem}.v*.*"):
        match = _VERSIONED.match(path.name)
        if match and match.group("name") == stem:
            found[int(match.group("version"))] = path
    return found


@cache
def prompt_path(name: str, version: int | None = None) -> Path:
    versions = _versions(name)
    if not versions:
        raise FileNotFoundError(f"no prompt named {name!r} under {PROMPTS_DIR}")
    return versions[version if version is not None else max(versions)]


@cache
def load_text(name: str) -> str:
    return prompt_path(name).read_text(encoding="utf-8")


@cache
def load_yaml(name: str) -> Any:
    return yaml.safe_load(load_text(name))


def render(name: str, **values: str) -> str:
    """Fill `$placeholders`; a missing value is an error, not an empty string."""
    return Template(load_text(name)).substitute(values)


def quote_untrusted(text: str, *, label: str = "untrusted") -> str:
    """Untrusted text as quoted data: JSON-escaped inside a tagged block the prompts tell the model to treat
    as data. Escaping stops the text from closing the block or posing as instructions."""
    return f"<{label}_data>{json.dumps(text, ensure_ascii=False)}</{label}_data>"
