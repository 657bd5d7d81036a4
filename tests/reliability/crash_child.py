"""The R1 crash driver (test_crash_many.py). Each run is executed by a fresh child process that first resumes the
run the previous child left behind, then starts one run and SIGKILLs itself at a chosen point:

    python crash_child.py HOME RUNS SEED [WORLD]

WORLD (default `sandbox`) is where the side effects land:
- sandbox: the sandbox world's posts and products;
- smtp: email campaigns and sequences sent by the real SMTP provider (STUDIO_PROVIDERS=real, STUDIO_SMTP_URL from
  CRASH_SMTP_URL, STUDIO_SECRET_KEY from CRASH_SECRET_KEY) to the test's aiosmtpd server;
- stripe: products (with a monthly plan) and coupons created by the real Stripe provider (the stripe SDK) against
  localstripe at CRASH_STRIPE_URL. localstripe ignores Idempotency-Key and has no Prices API, so the provider is
  built the way tests/integration/test_localstripe.py builds it (read back before every write, legacy plans).

The driver imports everything and loads the sentence encoder once (one torch thread, so forking is safe), then
forks one child per run: a child opens its own database connections and starts from the driver's state, which
never touched a run, so a resumed run owes nothing to the process that was killed. Without the fork every
child would pay the ~10 s import and model load, and 100 kills would not fit in a test.

POINT (the OCCURRENCE-th time the run gets there):
- model_call: before a model call; after_model_call: the reply is recorded, the checkpoint not yet written;
- approval: an approval was just decided; ledger_write: the ledger says "started", the provider was not called;
- provider_call: the provider did it (sandbox: stored the post or product; smtp: the mail server accepted a message,
  the outbox row still says "sending"; stripe: localstripe created the object), the ledger still says "started";
- event_publish: an event was just published.
Prints one JSON line per child and a summary line. The kills are this script's doing: no product code knows.
"""

from __future__ import annotations

import json
import os
import random
import signal
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from creator_studio.events.service import EventService
from creator_studio.graphs.agent_node import AgentRunner
from creator_studio.providers.email.smtp import SmtpSender
from creator_studio.providers.payments.sandbox import SandboxPaymentsProvider
from creator_studio.providers.payments.stripe import StripePaymentsProvider, make_client
from creator_studio.providers.social.sandbox import SandboxSocialProvider
from creator_studio.runs.approvals import ApprovalStore
from creator_studio.runs.ledger import Ledger
from creator_studio.runs.runner import Runner
from creator_studio.settings import Settings
from creator_studio.studio import Studio

ARMED: dict[str, Any] = {"point": "", "left": 0}


def die() -> None:
    sys.stdout.flush()
    os.kill(os.getpid(), signal.SIGKILL)


def hit(point: str) -> None:
    if ARMED["point"] == point:
        ARMED["left"] -= 1
        if ARMED["left"] == 0:
            die()


def after(cls: Any, name: str, point: str, skip: Callable[[dict[str, Any]], bool] = lambda _kw: False) -> None:
    original = getattr(cls, name)

    def wrapped(self: Any, *args: Any, **kwargs: Any) -> Any:
        result = original(self, *args, **kwargs)
        if not skip(kwargs):
            hit(point)
        return result

    setattr(cls, name, wrapped)


def install_kill_points() -> None:
    original_call = AgentRunner._call_model

    def call_model(self: AgentRunner, *args: Any) -> Any:
        hit("model_call")
        reply = original_call(self, *args)
        hit("after_model_call")
        return reply

    AgentRunner._call_model = call_model  # type: ignore[method-assign, assignment]
    original_execute = Ledger.execute

    def execute(self: Ledger, **kwargs: Any) -> Any:
        perform = kwargs["perform"]

        def perform_after_start() -> Any:
            hit("ledger_write")
            return perform()

        return original_execute(self, **{**kwargs, "perform": perform_after_start})

    Ledger.execute = execute  # type: ignore[method-assign]

    def seeded(kw: dict[str, Any]) -> bool:  # the sandbox world's own seeding is not a run's side effect
        return str(kw.get("idempotency_key", "")).startswith("seed:")

    after(SandboxSocialProvider, "publish", "provider_call", seeded)
    after(SandboxPaymentsProvider, "create_product", "provider_call", seeded)
    after(SmtpSender, "send", "provider_call")  # returns once the server answered 250 to the message
    after(StripePaymentsProvider, "_write", "provider_call")  # returns once the object exists in Stripe
    after(ApprovalStore, "decide", "approval")
    after(EventService, "publish_event", "event_publish")


POINTS = ("model_call", "after_model_call", "approval", "ledger_write", "provider_call", "event_publish")


WORLDS = ("sandbox", "smtp", "stripe")
CRASH_SEGMENT = "vip"  # the test's subscribers carry this tag; the offline planner knows "my vip list"


def goal_for(index: int, world: str = "sandbox") -> str:
    """Alternating side effects with a label unique per run, so a duplicate shows in the provider's state."""
    if world == "smtp":
        if index % 2 == 0:
            return (f'Email my {CRASH_SEGMENT} list now: subject "Crash note {index}" '
                    f'body "Hello from crash note {index}"')
        return f"Enrol my {CRASH_SEGMENT} list in the crash{index} sequence"  # the test creates crash<i> sequences
    if world == "stripe":
        if index % 2 == 0:
            return f"Create a product called Crash Club {index} for ${20 + index}/month"
        return f"Create a {5 + index}% discount called Crash Week {index}"
    if index % 2 == 0:
        return f"Draft a LinkedIn post about crash topic {index} and publish it now"
    return f"Create a product called Crash Clinic {index} for ${20 + index} one-time"


def open_studio(home: Path, world: str) -> Studio:
    if world == "smtp":
        settings = Settings(home=home, model="offline", providers="real", smtp_url=os.environ["CRASH_SMTP_URL"],
                            secret_key=os.environ["CRASH_SECRET_KEY"])
        return Studio.open(settings, migrate_schema=False)
    studio = Studio.open(Settings(home=home, model="offline"), migrate_schema=False)
    if world == "stripe":
        client = make_client(os.environ["CRASH_STRIPE_KEY"], api_base=os.environ["CRASH_STRIPE_URL"])
        studio.__dict__["payments_provider"] = StripePaymentsProvider(  # a cached_property, set before first use
            client, legacy_plans=True, honours_idempotency_keys=False, test_mode=True, backoff_s=0.05)
    return studio


def run_child(home: Path, resume_id: str | None, goal: str | None, world: str = "sandbox") -> None:
    """In the forked child: resume (unarmed), then start the armed run. Never returns: an error exits with 1
    instead of falling back into the driver's loop."""
    armed = dict(ARMED)
    ARMED.update(point="", left=0)
    code = 1
    try:
        studio = open_studio(home, world)
        runner = Runner(studio)
        if resume_id is not None:
            outcome = runner.resume(resume_id, auto_approve=True)
            print(json.dumps({"resumed": resume_id, "status": outcome.status}), flush=True)
        if goal is not None:
            ARMED.update(armed)
            outcome = runner.start(goal, auto_approve=True)
            print(json.dumps({"started": outcome.run_id, "status": outcome.status, "killed": False}), flush=True)
        runner.close()
        studio.close()
        code = 0
    except BaseException as exc:  # reported, then the child exits
        print(json.dumps({"child_error": f"{type(exc).__name__}: {exc}"}), flush=True)
    finally:
        sys.stdout.flush()
        os._exit(code)


def unfinished(home: Path) -> str | None:
    import sqlite3

    with sqlite3.connect(home / "studio.db") as db:  # closed before the next fork
        rows = db.execute("SELECT id FROM runs WHERE status != 'completed'").fetchall()
    assert len(rows) <= 1, f"more than one unfinished run: {rows}"
    return rows[0][0] if rows else None


def main() -> None:
    home, runs, seed = Path(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
    world = sys.argv[4] if len(sys.argv) > 4 else "sandbox"
    if world not in WORLDS:
        sys.exit(f"WORLD must be one of {', '.join(WORLDS)}, not {world!r}")
    import torch

    torch.set_num_threads(1)  # no OpenMP pool in the driver: forked children stay safe
    from creator_studio.providers.llm.embeddings import shared_encoder

    shared_encoder().encode(["warm up"])
    install_kill_points()
    rng = random.Random(seed)
    killed: dict[str, int] = {}
    not_reached: dict[str, int] = {}  # the run finished before getting to its chosen point
    for index in range(runs + 1):
        resume_id = unfinished(home)
        goal: str | None = None
        if index < runs:
            goal = goal_for(index, world)
            if world == "sandbox":
                point = rng.choice(POINTS)
                occurrence = rng.choice((1, 2)) if point in ("model_call", "after_model_call", "event_publish") else 1
            else:
                # These runs make few model calls and events: first occurrences only, and the provider call (where
                # a duplicate would be born) drawn twice as often. 3 messages per email run; a product is 2 writes.
                point = rng.choice((*POINTS, "provider_call"))
                occurrence = rng.choice((1, 2, 3) if world == "smtp" else (1, 2)) if point == "provider_call" else 1
            ARMED.update(point=point, left=occurrence)
        else:
            ARMED.update(point="", left=0)
        pid = os.fork()
        if pid == 0:
            run_child(home, resume_id, goal, world)
        _, status = os.waitpid(pid, 0)
        if os.WIFSIGNALED(status) and os.WTERMSIG(status) == signal.SIGKILL:
            killed[str(ARMED["point"])] = killed.get(str(ARMED["point"]), 0) + 1
        elif os.waitstatus_to_exitcode(status) == 0 and ARMED["point"]:
            not_reached[str(ARMED["point"])] = not_reached.get(str(ARMED["point"]), 0) + 1
        elif os.waitstatus_to_exitcode(status) != 0:
            print(json.dumps({"child_failed": index, "status": os.waitstatus_to_exitcode(status)}), flush=True)
            sys.exit(1)
    print(json.dumps({"summary": {"runs": runs, "killed": sum(killed.values()), "kill_points": killed,
                                  "not_reached": not_reached}}), flush=True)


if __name__ == "__main__":
    main()
