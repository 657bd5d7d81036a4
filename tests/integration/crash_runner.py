"""Runs one goal in a process that kills itself (SIGKILL) at a chosen point. Used by test_crash_resume.

    python crash_runner.py HOME "goal" POINT

POINT is where the process dies, the first time it gets there:
- after_publish: the sandbox platform has stored the post, the ledger still says "started";
- before_second_model_call: the draft exists and its tool call finished; the next model call never returns.
"""

from __future__ import annotations

import os
import signal
import sys
from pathlib import Path
from typing import Any

from creator_studio.providers.social.sandbox import SandboxSocialProvider
from creator_studio.runs.runner import Runner
from creator_studio.settings import Settings
from creator_studio.studio import Studio


def die() -> None:
    sys.stdout.flush()
    os.kill(os.getpid(), signal.SIGKILL)


def main() -> None:
    home, goal, point = Path(sys.argv[1]), sys.argv[2], sys.argv[3]
    if point == "after_publish":
        original = SandboxSocialProvider.publish

        def publish_then_die(self: SandboxSocialProvider, *args: Any, **kwargs: Any) -> Any:
            post = original(self, *args, **kwargs)
            if not str(kwargs.get("idempotency_key", "")).startswith("seed:"):
                die()
            return post

        SandboxSocialProvider.publish = publish_then_die  # type: ignore[method-assign]
    elif point == "before_second_model_call":
        from creator_studio.graphs.agent_node import AgentRunner

        original_call = AgentRunner._call_model

        def call_then_die(self: AgentRunner, run_id: str, step_key: str, *args: Any) -> Any:
            if step_key.endswith(":model:1"):
                die()
            return original_call(self, run_id, step_key, *args)

        AgentRunner._call_model = call_then_die  # type: ignore[method-assign]
    studio = Studio.open(Settings(home=home, model="offline"))
    runner = Runner(studio)
    outcome = runner.start(goal, auto_approve=True)
    print(f"finished without dying: {outcome.status}")


if __name__ == "__main__":
    main()
