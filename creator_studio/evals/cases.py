"""The eval case format (design/evals.md) and loading it from YAML files and folders.

Loading is all-or-nothing: every problem in every file is collected and reported at once (file, case id,
key), and nothing runs until the whole suite validates.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator
from pydantic_core import ErrorDetails, to_jsonable_python

from creator_studio.tools.types import AgentName

TrajectoryMode = Literal["strict", "unordered", "superset", "subset"]
DEFAULT_TRAJECTORY: TrajectoryMode = "superset"
CASE_FILE_SUFFIXES = (".yaml", ".yml")


class ExpectedCall(BaseModel):
    """One expected tool call: its name, and (optionally) arguments that must appear in the actual call."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(min_length=1)
    args: dict[str, Any] | None = None

    @field_validator("args", mode="before")
    @classmethod
    def _json_values(cls, value: Any) -> Any:
        # YAML turns `2026-12-01T09:00:00+01:00` into a datetime; compare the JSON form, like the recorded calls.
        return to_jsonable_python(value) if value is not None else None

    def label(self) -> str:
        if not self.args:
            return self.name
        shown = ", ".join(f"{key}={value!r}" for key, value in self.args.items())
        return f"{self.name}({shown})"


class Expectation(BaseModel):
    """What a trial must show. A key that is left out is not checked."""

    model_config = ConfigDict(extra="forbid")

    agents: list[AgentName] | None = None
    tools: list[ExpectedCall] | None = None
    trajectory: TrajectoryMode = DEFAULT_TRAJECTORY
    forbidden_tools: list[str] = Field(default_factory=list)
    approvals: list[str] = Field(default_factory=list)
    answer_contains: list[str] = Field(default_factory=list)
    max_llm_calls: int | None = Field(default=None, ge=0)

    @field_validator("answer_contains")
    @classmethod
    def _no_empty_substrings(cls, value: list[str]) -> list[str]:
        if any(not item.strip() for item in value):
            raise ValueError("an empty substring would match every answer")
        return value

    def checks_something(self) -> bool:
        return (self.agents is not None or self.tools is not None or bool(self.forbidden_tools)
                or bool(self.approvals) or bool(self.answer_contains) or self.max_llm_calls is not None)


class EvalCase(BaseModel):
    model_config = ConfigDict(extra="forbid")

    id: str = Field(min_length=1, pattern=r"^[A-Za-z0-9][A-Za-z0-9._:/-]*$")
    goal: str = Field(min_length=1)
    world: str = "default"
    trials: int | None = Field(default=None, ge=1, le=100)
    expect: Expectation

    @field_validator("goal")
    @classmethod
    def _goal_not_blank(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("the goal is blank")
        return value

    @property
    def group(self) -> str:
        """The report group: the one expected agent, `multi` for several, `none` for out-of-scope goals."""
        agents = self.expect.agents
        if agents is None:
            return "unspecified"
        unique = sorted(set(agents))
        if not unique:
            return "none"
        return unique[0] if len(unique) == 1 else "multi"


class LoadedCase(BaseModel):
    """A validated case and the file it came from."""

    case: EvalCase
    source: str


class CaseFileError(Exception):
    """Every problem found in the case files, one per line."""

    def __init__(self, problems: Sequence[str]) -> None:
        self.problems = list(problems)
        noun = "problem" if len(self.problems) == 1 else "problems"
        super().__init__(f"{len(self.problems)} {noun} in the eval cases (nothing was run):\n"
                         + "\n".join(f"  - {p}" for p in self.problems))


# The tool catalogue the cases are checked against ------------------------------------------------------------
@dataclass(frozen=True)
class ToolInfo:
    name: str
    agent: str
    side_effect: bool
    arguments: frozenset[str]


@dataclass(frozen=True)
class Catalogue:
    tools: dict[str, ToolInfo]
    worlds: frozenset[str]

    @classmethod
    def from_registry(cls) -> Catalogue:
        from creator_studio.evals.worlds import WORLDS
        from creator_studio.tools.base import load_all_tools

        tools: dict[str, ToolInfo] = {}
        for name, spec in load_all_tools().items():
            names = set(spec.args_model.model_fields)
            names.update(f.alias for f in spec.args_model.model_fields.values() if f.alias)
            tools[name] = ToolInfo(name=name, agent=spec.agent, side_effect=spec.side_effect,
                                   arguments=frozenset(names))
        return cls(tools=tools, worlds=frozenset(WORLDS))


# Loading -----------------------------------------------------------------------------------------------------
class _UniqueKeyLoader(yaml.SafeLoader):
    """A YAML loader that refuses a key given twice in one mapping (the second would silently win)."""


def _construct_mapping(loader: _UniqueKeyLoader, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
    seen: set[Any] = set()
    for key_node, _value_node in node.value:
        key = loader.construct_object(key_node, deep=deep)
        if key in seen:
            raise yaml.constructor.ConstructorError(None, None, f"key {key!r} appears twice", key_node.start_mark)
        seen.add(key)
    return loader.construct_mapping(node, deep=deep)


_UniqueKeyLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)


def case_files(paths: Iterable[Path]) -> tuple[list[Path], list[str]]:
    """The YAML files named directly or found (recursively, sorted) in the folders named."""
    files: list[Path] = []
    problems: list[str] = []
    for path in paths:
        if path.is_dir():
            found = sorted(p for p in path.rglob("*") if p.is_file() and p.suffix in CASE_FILE_SUFFIXES)
            if not found:
                problems.append(f"{path}: the folder has no .yaml or .yml case files")
            files.extend(found)
        elif path.is_file():
            files.append(path)
        else:
            problems.append(f"{path}: no such file or folder")
    unique: dict[Path, Path] = {}  # a file named twice (or also through its folder) loads once, as first named
    for file in files:
        unique.setdefault(file.resolve(), file)
    return list(unique.values()), problems


def load_cases(paths: Iterable[Path], catalogue: Catalogue | None = None) -> list[LoadedCase]:
    """Load and validate every case in `paths`; raise `CaseFileError` listing every problem if any."""
    catalogue = catalogue or Catalogue.from_registry()
    files, problems = case_files(paths)
    loaded: list[LoadedCase] = []
    for file in files:
        cases, file_problems = parse_case_file(file, catalogue)
        loaded.extend(cases)
        problems.extend(file_problems)
    first_source: dict[str, str] = {}
    for item in loaded:
        earlier = first_source.setdefault(item.case.id, item.source)
        if earlier != item.source:
            problems.append(f"{item.source}: case {item.case.id!r}: id: the id is already used in {earlier}")
    if not problems and not loaded:
        problems.append("no eval cases were found")
    if problems:
        raise CaseFileError(problems)
    return loaded


def parse_case_file(path: Path, catalogue: Catalogue) -> tuple[list[LoadedCase], list[str]]:
    try:
        data = yaml.load(path.read_text(encoding="utf-8"), Loader=_UniqueKeyLoader)  # a SafeLoader
    except (OSError, UnicodeDecodeError) as exc:
        return [], [f"{path}: cannot be read: {exc}"]
    except yaml.YAMLError as exc:
        return [], [f"{path}: is not valid YAML: {' '.join(str(exc).split())}"]
    return parse_case_data(data, str(path), catalogue)


def parse_case_data(data: Any, source: str, catalogue: Catalogue) -> tuple[list[LoadedCase], list[str]]:
    """Validate the parsed YAML of one file: a list of cases, or a mapping with `cases:`."""
    if isinstance(data, dict):
        extra = [str(k) for k in data if k != "cases"]
        if extra:
            return [], [f"{source}: unknown top-level key {k!r} (a case file is a list of cases or a mapping with "
                        f"`cases:`)" for k in extra]
        data = data.get("cases")
    if not isinstance(data, list):
        return [], [f"{source}: expected a list of cases (or a mapping with `cases:`), got "
                    f"{_kind(data)}"]
    if not data:
        return [], [f"{source}: the file has no cases"]
    cases: list[LoadedCase] = []
    problems: list[str] = []
    seen: set[str] = set()
    for position, raw in enumerate(data, start=1):
        label = _case_label(raw, position)
        if not isinstance(raw, dict):
            problems.append(f"{source}: {label}: a case is a mapping with id, goal and expect, got {_kind(raw)}")
            continue
        try:
            case = EvalCase.model_validate(raw)
        except ValidationError as exc:
            problems.extend(f"{source}: {label}: {_describe(error)}" for error in exc.errors())
            continue
        if case.id in seen:
            problems.append(f"{source}: {label}: id: the id is used twice in this file")
            continue
        seen.add(case.id)
        semantic = semantic_problems(case, catalogue)
        problems.extend(f"{source}: {label}: {p}" for p in semantic)
        if not semantic:
            cases.append(LoadedCase(case=case, source=source))
    return cases, problems


def semantic_problems(case: EvalCase, catalogue: Catalogue) -> list[str]:
    """What the schema cannot see: unknown tools, worlds and arguments, contradictions, checks of nothing."""
    problems: list[str] = []
    expect = case.expect
    if case.world not in catalogue.worlds:
        problems.append(f"world: unknown world {case.world!r}{_suggest(case.world, catalogue.worlds)} "
                        f"(known: {', '.join(sorted(catalogue.worlds))})")
    for index, call in enumerate(expect.tools or []):
        info = catalogue.tools.get(call.name)
        if info is None:
            problems.append(f"expect.tools[{index}].name: unknown tool {call.name!r}"
                            f"{_suggest(call.name, catalogue.tools)}")
            continue
        for key in call.args or {}:
            if key not in info.arguments:
                problems.append(f"expect.tools[{index}].args.{key}: {call.name} has no argument {key!r}"
                                f"{_suggest(key, info.arguments)} (its arguments: "
                                f"{', '.join(sorted(info.arguments)) or 'none'})")
    for field in ("forbidden_tools", "approvals"):
        for index, name in enumerate(getattr(expect, field)):
            if name not in catalogue.tools:
                problems.append(f"expect.{field}[{index}]: unknown tool {name!r}{_suggest(name, catalogue.tools)}")
    for index, name in enumerate(expect.approvals):
        info = catalogue.tools.get(name)
        if info is not None and not info.side_effect:
            problems.append(f"expect.approvals[{index}]: {name} is a read tool; it never pauses for approval")
    expected_names = {call.name for call in expect.tools or []}
    for name in sorted(set(expect.forbidden_tools) & (expected_names | set(expect.approvals))):
        problems.append(f"expect.forbidden_tools: {name} is both forbidden and expected")
    if not expect.checks_something():
        problems.append("expect: the case checks nothing (give agents, tools, forbidden_tools, approvals, "
                        "answer_contains or max_llm_calls)")
    return problems


def _describe(error: ErrorDetails) -> str:
    where = _location(error["loc"])
    if error["type"] == "extra_forbidden":
        return f"{where}: unknown key"
    if error["type"] == "missing":
        return f"{where}: required key is missing"
    message = error["msg"].removeprefix("Value error, ")
    return f"{where}: {message}" if where else message


def _location(loc: tuple[int | str, ...]) -> str:
    text = ""
    for part in loc:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text


def _case_label(raw: Any, position: int) -> str:
    if isinstance(raw, dict) and isinstance(raw.get("id"), str) and raw["id"].strip():
        return f"case {raw['id']!r}"
    return f"case #{position} (no id)"


def _kind(value: Any) -> str:
    return "nothing" if value is None else f"a {type(value).__name__}"


def _suggest(word: str, choices: Iterable[str]) -> str:
    close = difflib.get_close_matches(word, list(choices), n=1)
    return f" (did you mean {close[0]!r}?)" if close else ""
