"""The eval case format (design/evals.md): what loads, and how every kind of mistake is reported."""

from __future__ import annotations

from pathlib import Path

import pytest

from creator_studio.evals.cases import (
    CaseFileError,
    Catalogue,
    EvalCase,
    Expectation,
    ExpectedCall,
    load_cases,
)

pytestmark = pytest.mark.unit

FIXTURES = Path(__file__).parent.parent / "fixtures" / "eval_cases"

VALID = """
- id: content-001
  goal: "Draft a LinkedIn post about my course launch and schedule it for Tuesday 9am"
  expect:
    agents: [content]
    tools:
      - name: draft_post
        args: {platform: linkedin}
      - name: schedule_post
        args: {publish_at: 2026-12-01T09:00:00+01:00}
    forbidden_tools: [publish_post]
    approvals: [schedule_post]
"""


@pytest.fixture(scope="module")
def catalogue() -> Catalogue:
    return Catalogue.from_registry()


def write(folder: Path, name: str, text: str) -> Path:
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return path


def problems_of(paths: list[Path], catalogue: Catalogue) -> list[str]:
    with pytest.raises(CaseFileError) as caught:
        load_cases(paths, catalogue)
    assert "nothing was run" in str(caught.value)
    return caught.value.problems


# What loads ---------------------------------------------------------------------------------------------------
def test_a_list_of_cases_loads_with_defaults(tmp_path: Path, catalogue: Catalogue) -> None:
    path = write(tmp_path, "content.yaml", VALID)
    [loaded] = load_cases([path], catalogue)
    case = loaded.case
    assert loaded.source == str(path)
    assert (case.id, case.world, case.trials) == ("content-001", "default", None)
    assert case.expect.trajectory == "superset"  # the documented default
    assert case.expect.agents == ["content"]
    assert [c.name for c in case.expect.tools or []] == ["draft_post", "schedule_post"]
    assert case.expect.answer_contains == [] and case.expect.max_llm_calls is None


def test_yaml_timestamps_become_the_iso_strings_recorded_calls_carry(tmp_path: Path, catalogue: Catalogue) -> None:
    [loaded] = load_cases([write(tmp_path, "c.yaml", VALID)], catalogue)
    schedule = (loaded.case.expect.tools or [])[1]
    assert schedule.args == {"publish_at": "2026-12-01T09:00:00+01:00"}


def test_a_mapping_with_cases_loads_too(tmp_path: Path, catalogue: Catalogue) -> None:
    text = "cases:\n" + "\n".join("  " + line for line in VALID.strip().splitlines())
    [loaded] = load_cases([write(tmp_path, "c.yml", text)], catalogue)
    assert loaded.case.id == "content-001"


def test_a_folder_is_searched_recursively_in_name_order(tmp_path: Path, catalogue: Catalogue) -> None:
    (tmp_path / "sub").mkdir()
    write(tmp_path / "sub", "b.yaml", VALID.replace("content-001", "b-case"))
    write(tmp_path, "a.yml", VALID.replace("content-001", "a-case"))
    write(tmp_path, "notes.txt", "not a case file")
    loaded = load_cases([tmp_path], catalogue)
    assert [c.case.id for c in loaded] == ["a-case", "b-case"]


def test_a_file_named_twice_loads_once_in_first_named_order(tmp_path: Path, catalogue: Catalogue) -> None:
    first = write(tmp_path, "b.yaml", VALID.replace("content-001", "b-case"))
    write(tmp_path, "a.yaml", VALID.replace("content-001", "a-case"))
    loaded = load_cases([first, tmp_path, first], catalogue)
    assert [(c.case.id, c.source) for c in loaded] == [("b-case", str(first)), ("a-case", str(tmp_path / "a.yaml"))]


def test_the_fixture_suites_validate(catalogue: Catalogue) -> None:
    ids = [c.case.id for c in load_cases([FIXTURES / "passing", FIXTURES / "failing"], catalogue)]
    assert "fixture-out-of-scope" in ids and "fixture-wrong-platform" in ids and len(ids) == len(set(ids))


def test_groups_follow_the_expected_agents() -> None:
    def case(agents: list[str] | None) -> EvalCase:
        return EvalCase.model_validate({"id": "x", "goal": "g", "expect": {"agents": agents, "max_llm_calls": 1}})

    assert case(["content"]).group == "content"
    assert case(["content", "content"]).group == "content"
    assert case(["revenue", "engagement"]).group == "multi"
    assert case([]).group == "none"
    assert case(None).group == "unspecified"


def test_labels_show_name_and_args() -> None:
    assert ExpectedCall(name="draft_post").label() == "draft_post"
    assert ExpectedCall(name="draft_post", args={"platform": "x"}).label() == "draft_post(platform='x')"


# What is refused, and how it is named -----------------------------------------------------------------------
def test_an_unknown_key_names_the_file_the_case_and_the_key(tmp_path: Path, catalogue: Catalogue) -> None:
    path = write(tmp_path, "c.yaml", VALID.replace("forbidden_tools:", "forbiden_tools:"))
    [problem] = problems_of([path], catalogue)
    assert problem == f"{path}: case 'content-001': expect.forbiden_tools: unknown key"


def test_nested_unknown_keys_and_bad_values_are_located(tmp_path: Path, catalogue: Catalogue) -> None:
    text = VALID.replace("args: {platform: linkedin}", "arg: {platform: linkedin}").replace(
        "approvals: [schedule_post]", "approvals: [schedule_post]\n    trajectory: sideways\n    max_llm_calls: -1")
    problems = problems_of([write(tmp_path, "c.yaml", text)], catalogue)
    joined = "\n".join(problems)
    assert "case 'content-001': expect.tools[0].arg: unknown key" in joined
    assert "expect.trajectory: Input should be 'strict', 'unordered', 'superset' or 'subset'" in joined
    assert "expect.max_llm_calls: Input should be greater than or equal to 0" in joined


def test_a_case_without_an_id_is_named_by_its_position(tmp_path: Path, catalogue: Catalogue) -> None:
    text = VALID + "- goal: second\n  expect: {agents: []}\n"
    [problem] = problems_of([write(tmp_path, "c.yaml", text)], catalogue)
    assert problem.endswith("case #2 (no id): id: required key is missing")


def test_unknown_tools_agents_worlds_and_arguments_are_refused_with_suggestions(tmp_path: Path,
                                                                              catalogue: Catalogue) -> None:
    text = (VALID.replace("name: draft_post", "name: draft_pots")
            .replace("{publish_at:", "{publish_time:")
            .replace("agents: [content]", "agents: [contnet]")
            .replace("forbidden_tools: [publish_post]", "forbidden_tools: [publish_postt]")
            .replace("  expect:", "  world: defualt\n  expect:"))
    problems = "\n".join(problems_of([write(tmp_path, "c.yaml", text)], catalogue))
    # The schema error (agents) comes first; fix it and the catalogue checks report the rest.
    assert "expect.agents[0]: Input should be 'command_center', 'content'" in problems
    text = text.replace("[contnet]", "[content]")
    problems = "\n".join(problems_of([write(tmp_path, "c.yaml", text)], catalogue))
    assert "world: unknown world 'defualt' (did you mean 'default'?)" in problems
    assert "expect.tools[0].name: unknown tool 'draft_pots' (did you mean 'draft_post'?)" in problems
    assert "expect.tools[1].args.publish_time: schedule_post has no argument 'publish_time' " \
           "(did you mean 'publish_at'?)" in problems
    assert "expect.forbidden_tools[0]: unknown tool 'publish_postt' (did you mean 'publish_post'?)" in problems


def test_contradictions_and_empty_checks_are_refused(tmp_path: Path, catalogue: Catalogue) -> None:
    text = """
- id: contradiction
  goal: publish it
  expect:
    tools: [{name: publish_post}]
    forbidden_tools: [publish_post]
    approvals: [get_content_calendar]
- id: checks-nothing
  goal: anything
  expect: {trajectory: strict}
- id: blank
  goal: "   "
  expect: {agents: []}
- id: empty-substring
  goal: hi
  expect: {answer_contains: [""]}
"""
    problems = "\n".join(problems_of([write(tmp_path, "c.yaml", text)], catalogue))
    assert "case 'contradiction': expect.forbidden_tools: publish_post is both forbidden and expected" in problems
    assert "case 'contradiction': expect.approvals[0]: get_content_calendar is a read tool" in problems
    assert "case 'checks-nothing': expect: the case checks nothing" in problems
    assert "case 'blank': goal: the goal is blank" in problems
    assert "case 'empty-substring': expect.answer_contains: an empty substring would match every answer" in problems


def test_duplicate_ids_are_refused_within_and_across_files(tmp_path: Path, catalogue: Catalogue) -> None:
    first = write(tmp_path, "a.yaml", VALID + VALID.strip().replace("- id:", "- id:", 1) + "\n")
    second = write(tmp_path, "b.yaml", VALID)
    problems = problems_of([first, second], catalogue)
    assert f"{first}: case 'content-001': id: the id is used twice in this file" in problems
    assert f"{second}: case 'content-001': id: the id is already used in {first}" in problems


def test_a_key_given_twice_in_yaml_is_refused(tmp_path: Path, catalogue: Catalogue) -> None:
    text = VALID.replace("    approvals: [schedule_post]", "    approvals: [schedule_post]\n    approvals: []")
    [problem] = problems_of([write(tmp_path, "c.yaml", text)], catalogue)
    assert "is not valid YAML" in problem and "'approvals' appears twice" in problem


def test_malformed_files_are_refused(tmp_path: Path, catalogue: Catalogue) -> None:
    cases = {
        "broken.yaml": ("- id: [unclosed", "is not valid YAML"),
        "empty.yaml": ("", "expected a list of cases (or a mapping with `cases:`), got nothing"),
        "none.yaml": ("[]", "the file has no cases"),
        "extra.yaml": ("cases: []\ndefaults: {}", "unknown top-level key 'defaults'"),
        "scalar.yaml": ("- just a string", "case #1 (no id): a case is a mapping with id, goal and expect, got a str"),
    }
    for name, (text, expected) in cases.items():
        path = write(tmp_path, name, text)
        [problem] = problems_of([path], catalogue)
        assert problem.startswith(f"{path}: ") and expected in problem, (name, problem)


def test_missing_paths_and_empty_folders_are_refused(tmp_path: Path, catalogue: Catalogue) -> None:
    (tmp_path / "empty").mkdir()
    problems = problems_of([tmp_path / "nope.yaml", tmp_path / "empty"], catalogue)
    assert problems == [f"{tmp_path / 'nope.yaml'}: no such file or folder",
                        f"{tmp_path / 'empty'}: the folder has no .yaml or .yml case files"]


def test_every_problem_of_every_file_is_reported_at_once(catalogue: Catalogue, tmp_path: Path) -> None:
    write(tmp_path, "good.yaml", VALID)
    write(tmp_path, "bad.yaml", VALID.replace("content-001", "other").replace("goal:", "gaol:"))
    problems = problems_of([FIXTURES / "invalid", tmp_path], catalogue)
    joined = "\n".join(problems)
    assert "broken.yaml: case 'broken-unknown-key': expect.tool: unknown key" in joined
    assert "broken.yaml: case 'broken-unknown-tool': expect.tools[0].name: unknown tool 'get_dashbord_summary'" \
           in joined
    assert "bad.yaml: case 'other': gaol: unknown key" in joined
    assert "bad.yaml: case 'other': goal: required key is missing" in joined


def test_expectation_knows_whether_it_checks_anything() -> None:
    assert not Expectation().checks_something()
    assert Expectation(tools=[]).checks_something()  # `tools: []` means: call nothing
    assert Expectation(max_llm_calls=0).checks_something()
