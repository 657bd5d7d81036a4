"""Writing the oracle's script for an eval case.

The script is taken from a reference run of the case on Creator Studio with the offline planner model (the
model `make eval` measures), approved the way the eval harness approves, and kept only when that run passes
every check of the case: so each scripted tool call carries the case's expected arguments plus complete,
valid values for the rest, and the script is a correct outcome of the case. A case whose reference run fails
is reported as not scriptable, with the failed checks.
"""

from __future__ import annotations

import shutil
import uuid
from pathlib import Path
from typing import Any

from langchain_core.messages import AIMessage

from benchmarks.oracle import CaseScript, Ref, ScriptedCall, SubtaskScript
from creator_studio.evals.cases import LoadedCase
from creator_studio.evals.checks import evaluate_trial
from creator_studio.evals.harness import observe
from creator_studio.evals.worlds import WORKSPACE_ID, WorldTemplates
from creator_studio.graphs.agent_node import idempotency_key, replayed_message
from creator_studio.prompts import load_text
from creator_studio.runs.runner import Runner
from creator_studio.studio import Studio

MIN_REF_LENGTH = 4  # shorter strings ("x", "7d") are constants, not references to results


class NotScriptable(Exception):
    """The case cannot be scripted; the message says why."""


def record_script(templates: WorldTemplates, loaded: LoadedCase, workdir: Path) -> CaseScript:
    case = loaded.case
    home = workdir / f"record-{uuid.uuid4().hex[:10]}"
    studio = templates.open_fresh(case.world, home)
    runner: Runner | None = None
    try:
        runner = Runner(studio)
        observation = observe(runner, case.goal)
        checks, _scores, _diff = evaluate_trial(case, observation)
        failed = [f"{c.name}: {c.detail}" for c in checks if not c.passed]
        if failed:
            raise NotScriptable("the reference run fails the case (" + "; ".join(failed) + ")")
        assert observation.run_id is not None
        values = runner.graph.get_state({"configurable": {"thread_id": observation.run_id}}).values
        return _script(studio, case.id, case.goal, case.world, observation.run_id, values)
    finally:
        if runner is not None:
            runner.close()
        studio.close()
        shutil.rmtree(home, ignore_errors=True)


def _script(studio: Studio, case_id: str, goal: str, world: str, run_id: str, values: dict[str, Any]
            ) -> CaseScript:
    plan: list[dict[str, Any]] = list(values.get("plan") or [])
    agents = [t["agent"] for t in plan]
    if len(set(agents)) != len(agents):
        raise NotScriptable(f"one agent has several sub-tasks ({', '.join(agents)}): the supervisor baseline "
                            f"has one node per agent, so the two runs would not do the same work")
    model_steps = {s.step_key: s for s in studio.runs.steps(run_id) if s.kind == "model" and s.payload}
    # A sub-task that ended at its planned tools has no final model turn: its answer is the agent's result.
    result_answers = {r["subtask_id"]: str(r["answer"]).strip() for r in values.get("results") or []}
    index = 0
    results: dict[int, Any] = {}
    subtasks: list[SubtaskScript] = []
    for task in plan:
        turns: list[list[ScriptedCall]] = []
        answer: str | None = None
        for turn in range(len(model_steps)):
            step = model_steps.get(f"{task['id']}:model:{turn}")
            if step is None or step.payload is None:
                break
            reply: AIMessage = replayed_message(step.payload)
            if not reply.tool_calls:
                answer = str(reply.content).strip()
                break
            calls = []
            for call in reply.tool_calls:
                key = idempotency_key(run_id, task["id"], call["id"] or call["name"])
                entry = studio.ledger.get(WORKSPACE_ID, key)
                ok = entry is not None and entry.status == "succeeded"
                results[index] = entry.result if ok and entry is not None else None
                calls.append(ScriptedCall(index=index, name=call["name"], args=dict(call["args"]), ok=ok))
                index += 1
            turns.append(calls)
        direct = answer is None and bool(turns) and task["id"] in result_answers
        if direct:
            answer = result_answers[task["id"]]
        if answer is None:
            raise NotScriptable(f"the {task['agent']} agent did not finish its sub-task in the reference run")
        subtasks.append(SubtaskScript(id=task["id"], agent=task["agent"], instruction=task["instruction"],
                                      depends_on=list(task.get("depends_on") or []), turns=turns, answer=answer,
                                      direct=direct))
    _link_references(subtasks, results)
    out_of_scope = not plan
    return CaseScript(case_id=case_id, goal=goal, world=world, out_of_scope=out_of_scope,
                      out_of_scope_answer=load_text("command_center/out_of_scope").strip() if out_of_scope else "",
                      subtasks=subtasks)


def _link_references(subtasks: list[SubtaskScript], results: dict[int, Any]) -> None:
    """Mark each argument value that an earlier call (this sub-task's, or one it depends on) returned."""
    by_id = {s.id: s for s in subtasks}
    for subtask in subtasks:
        visible: list[ScriptedCall] = []
        for dependency in _dependencies(subtask, by_id):
            visible.extend(dependency.calls())
        for turn in subtask.turns:
            for call in turn:
                for arg_path, value in _leaves(call.args, []):
                    if not isinstance(value, str) or len(value) < MIN_REF_LENGTH:
                        continue
                    for earlier in reversed(visible):  # the latest result holding the value wins
                        found = _find(results.get(earlier.index), value, [])
                        if found is not None:
                            call.refs.append(Ref(arg_path=arg_path, call=earlier.index, result_path=found))
                            break
            visible.extend(turn)


def _dependencies(subtask: SubtaskScript, by_id: dict[str, SubtaskScript]) -> list[SubtaskScript]:
    seen: list[SubtaskScript] = []
    pending = list(subtask.depends_on)
    while pending:
        current = by_id.get(pending.pop(0))
        if current is not None and current not in seen:
            seen.append(current)
            pending.extend(current.depends_on)
    return seen


def _leaves(data: Any, path: list[str | int]) -> list[tuple[list[str | int], Any]]:
    if isinstance(data, dict):
        return [leaf for k, v in data.items() for leaf in _leaves(v, [*path, str(k)])]
    if isinstance(data, list):
        return [leaf for i, v in enumerate(data) for leaf in _leaves(v, [*path, i])]
    return [(path, data)]


def _find(data: Any, value: str, path: list[str | int]) -> list[str | int] | None:
    if isinstance(data, dict):
        for k, v in data.items():
            found = _find(v, value, [*path, str(k)])
            if found is not None:
                return found
    elif isinstance(data, list):
        for i, v in enumerate(data):
            found = _find(v, value, [*path, i])
            if found is not None:
                return found
    elif data == value:
        return path
    return None
