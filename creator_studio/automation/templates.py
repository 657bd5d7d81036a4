"""Workflow files: the shipped templates (the seed's four sequences) and files given to `workflows create`.

A file is YAML or JSON with a name, an optional description and a workflow definition (trigger, steps,
on_error). Errors name the file and the field: a creator fixes a file, not a stack trace.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from creator_studio.automation.definitions import WorkflowFile
from creator_studio.errors import InvalidInput

TEMPLATES_DIR = Path(__file__).parent / "templates"


def parse_workflow(text: str, *, source: str) -> WorkflowFile:
    try:
        raw: Any = json.loads(text) if source.endswith(".json") else yaml.safe_load(text)
    except (ValueError, yaml.YAMLError) as exc:
        raise InvalidInput(f"{source}: not valid {'JSON' if source.endswith('.json') else 'YAML'} ({exc})") from exc
    if not isinstance(raw, dict):
        raise InvalidInput(f"{source}: a workflow file is a mapping with name, trigger and steps")
    try:
        return WorkflowFile.model_validate(raw)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in error['loc']) or 'file'}: {error['msg'].removeprefix('Value error, ')}"
            for error in exc.errors(include_url=False))
        raise InvalidInput(f"{source}: {problems}") from exc


def load_workflow_file(path: Path) -> WorkflowFile:
    if not path.is_file():
        raise InvalidInput(f"{path}: no such file")
    return parse_workflow(path.read_text(encoding="utf-8"), source=str(path))


def template_names() -> list[str]:
    return sorted(p.stem for p in TEMPLATES_DIR.glob("*.yaml"))


def load_template(name: str) -> WorkflowFile:
    path = TEMPLATES_DIR / f"{name.removesuffix('.yaml')}.yaml"
    if not path.is_file():
        raise InvalidInput(f"no template {name!r}; templates: {', '.join(template_names())}")
    return load_workflow_file(path)
