"""The Automation Lab's engine, scheduler, triggers and worker on the seeded SQLite studio (in-process bus)."""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from creator_studio.automation.definitions import WorkflowFile
from creator_studio.automation.engine import compile_steps, render
from creator_studio.automation.jobs import JobStore, NewJob
from creator_studio.automation.models import JobEffectRow, JobRow, WorkflowRunRow
from creator_studio.automation.templates import load_template, parse_workflow, template_names
from creator_studio.automation.worker import Worker, WorkerOptions
from creator_studio.errors import InvalidInput
from creator_studio.studio import Studio
from creator_studio.workspaces.service import Workspace
from tests.conftest import FIXED_NOW, Clock

pytestmark = pytest.mark.unit


def make_worker(studio: Studio, name: str = "w1") -> Worker:
    return Worker(studio, WorkerOptions(worker_id=name, consume_events=False, lease=timedelta(seconds=30),
                                        tick_interval_s=0))


def drain(worker: Worker, passes: int = 20) -> int:
    ran = 0
    for _ in range(passes):
        done = worker.run_once()
        ran += done
        if done == 0:
            break
    return ran


def runs_of(studio: Studio, ws: Workspace, workflow_id: str) -> list[WorkflowRunRow]:
    with studio.db.transaction() as session:
        return list(session.scalars(select(WorkflowRunRow).where(WorkflowRunRow.workflow_id == workflow_id)
                                    .order_by(WorkflowRunRow.queued_at)))


def save(studio: Studio, ws: Workspace, text: str) -> str:
    workflow, _ = studio.automation.save_workflow(ws, parse_workflow(text, source="test.yaml"), now=studio.now())
    return workflow.id


# Definitions and templates ---------------------------------------------------------------------------------


@pytest.mark.parametrize("name", template_names())
def test_each_template_validates_against_the_tool_catalogue(name: str) -> None:
    template = load_template(name)
    assert template.description and template.steps
    assert compile_steps(template.steps)  # compiles to a program


# The integration map's three cross-module workflows: their steps are step functions that need the simulated
# world, so they run in tests/integration/test_workflow_*.py, not in the plain sandbox below.
WORLD_TEMPLATES = ["community-monetisation", "follower-acquisition", "revenue-optimisation"]
SEED_SEQUENCES = ["community-join-onboard-monetize", "content-creation-distribution-engagement",
                  "customer-success-retention-expansion", "lead-capture-nurture-conversion"]


def test_the_four_seed_sequences_and_the_three_workflows_ship_as_templates() -> None:
    assert template_names() == sorted(SEED_SEQUENCES + WORLD_TEMPLATES)


@pytest.mark.parametrize("name", WORLD_TEMPLATES)
def test_the_cross_module_workflows_are_ten_code_steps_with_waits(name: str) -> None:
    from creator_studio.automation.definitions import CodeStep, WaitStep

    template = load_template(name)
    code = [step for step in template.steps if isinstance(step, CodeStep)]
    assert len(code) == 10 and len({step.function for step in code}) == 10
    assert all(isinstance(step, CodeStep | WaitStep) for step in template.steps)


def test_a_code_step_names_a_registered_function() -> None:
    with pytest.raises(InvalidInput, match=r"bad.yaml: steps.0.code.function: unknown step function "
                                           r"'acquisition.publish_everywhere'; registered: acquisition\."):
        parse_workflow("name: x\ntrigger: {type: cron, cron: '0 9 * * 1'}\nsteps:\n"
                       "  - {type: code, function: acquisition.publish_everywhere}\n", source="bad.yaml")
    with pytest.raises(InvalidInput, match=r"bad.yaml: steps.0.code.function: step function 'publish' is not like"):
        parse_workflow("name: x\ntrigger: {type: cron, cron: '0 9 * * 1'}\nsteps:\n"
                       "  - {type: code, function: publish}\n", source="bad.yaml")


def test_a_code_step_outside_the_world_fails_with_a_clear_error(studio: Studio, workspace: Workspace,
                                                               clock: Clock) -> None:
    workflow_id = save(studio, workspace, """
name: Acquisition outside the world
trigger: {type: cron, cron: "0 9 * * 1"}
steps:
  - {type: code, function: acquisition.draft_high_value_post}
""")
    run = studio.automation.run_workflow(workspace, workflow_id, idempotency_key="code-1", now=clock())
    drain(make_worker(studio))
    [failed] = studio.automation.runs(workspace, workflow_id=workflow_id)
    assert failed.id == run.id and failed.status == "failed"
    assert failed.error and "needs the 'world'" in failed.error
    [step] = studio.automation.step_runs(workspace, run.id)
    assert (step.step_type, step.status, step.label) == ("code", "failed", "run acquisition.draft_high_value_post()")


def test_a_bad_workflow_file_names_the_file_and_the_field() -> None:
    with pytest.raises(InvalidInput, match=r"bad.yaml: .*steps.0.tool.*unknown tool 'post_everything'"):
        parse_workflow("name: x\ntrigger: {type: cron, cron: '0 9 * * 1'}\nsteps:\n"
                       "  - {type: tool, tool: post_everything}\n", source="bad.yaml")
    with pytest.raises(InvalidInput, match=r"bad.yaml: trigger.cron.cron: .*5"):
        parse_workflow("name: x\ntrigger: {type: cron, cron: '0 9 *'}\nsteps: [{type: goal, goal: plan}]\n",
                       source="bad.yaml")


def test_branches_compile_to_jumps() -> None:
    file = WorkflowFile.model_validate({
        "name": "b", "trigger": {"type": "cron", "cron": "0 9 * * 1"},
        "steps": [{"type": "branch", "if": {"field": "event.x", "op": "==", "value": 1},
                   "then": [{"type": "goal", "goal": "then one"}], "else": [{"type": "goal", "goal": "else one"}]},
                  {"type": "goal", "goal": "after"}]})
    program = compile_steps(file.steps)
    assert [i.op for i in program] == ["branch", "step", "jump", "step", "step"]
    assert program[0].target == 3 and program[2].target == 4


def test_placeholders_keep_types_and_fill_text() -> None:
    context = {"event": {"ids": ["a"], "name": "Ana", "n": 3}}
    assert render({"x": "{{event.ids}}", "y": "Hi {{ event.name }}, {{event.n}} new", "z": "{{event.nope}}"},
                  context) == {"x": ["a"], "y": "Hi Ana, 3 new", "z": None}


def test_saving_a_changed_file_makes_a_new_version(studio: Studio, workspace: Workspace, clock: Clock) -> None:
    text = "name: Weekly\ntrigger: {type: cron, cron: '0 9 * * 1'}\nsteps: [{type: goal, goal: plan the week}]\n"
    first, created = studio.automation.save_workflow(workspace, parse_workflow(text, source="a.yaml"), now=clock())
    same, changed = studio.automation.save_workflow(workspace, parse_workflow(text, source="a.yaml"), now=clock())
    assert created and not changed and same.version == 1
    newer, changed = studio.automation.save_workflow(
        workspace, parse_workflow(text.replace("plan the week", "plan the month"), source="a.yaml"), now=clock())
    assert changed and newer.id == first.id and newer.version == 2
    assert newer.steps[0].goal == "plan the month"  # type: ignore[union-attr]


# Running workflows ---------------------------------------------------------------------------------------


def test_manual_run_executes_tool_steps_through_the_ledger(studio: Studio, workspace: Workspace,
                                                            clock: Clock) -> None:
    workflow_id = save(studio, workspace, """
name: Topics
trigger: {type: cron, cron: "0 9 * * 1"}
steps:
  - {type: tool, tool: suggest_topics, args: {count: 2}}
  - {type: condition, if: {field: event.missing, op: "==", value: 1}}
  - {type: tool, tool: suggest_topics, args: {count: 3}}
""")
    run = studio.automation.run_workflow(workspace, workflow_id, idempotency_key="manual-1", now=clock())
    drain(make_worker(studio))
    [done] = studio.automation.runs(workspace, workflow_id=workflow_id)
    assert done.id == run.id and done.status == "skipped"  # the condition did not hold: later steps never ran
    steps = studio.automation.step_runs(workspace, run.id)
    assert [(s.position, s.status) for s in steps] == [(0, "succeeded"), (1, "skipped")]
    assert studio.ledger.get(workspace.id, f"wf:{run.id}:0:1") is not None
    completed = studio.events.query(workspace.id, types=["system.workflow_completed"], correlation_id=run.id)
    assert [e.data["status"] for e in completed] == ["skipped"]


def test_a_wait_step_resumes_the_run_when_its_time_comes(studio: Studio, workspace: Workspace,
                                                         clock: Clock) -> None:
    workflow_id = save(studio, workspace, """
name: Later
trigger: {type: cron, cron: "0 9 * * 1"}
steps:
  - {type: tool, tool: suggest_topics, args: {count: 1}}
  - {type: wait, duration: 2h}
  - {type: tool, tool: suggest_topics, args: {count: 2}}
""")
    run = studio.automation.run_workflow(workspace, workflow_id, idempotency_key="manual-2", now=clock())
    worker = make_worker(studio)
    drain(worker)
    assert studio.automation.runs(workspace, workflow_id=workflow_id)[0].status == "waiting"
    clock.now += timedelta(hours=1, minutes=59)
    drain(worker)
    assert studio.automation.runs(workspace, workflow_id=workflow_id)[0].status == "waiting"  # not yet
    clock.now += timedelta(minutes=1)
    drain(worker)
    assert studio.automation.runs(workspace, workflow_id=workflow_id)[0].status == "succeeded"
    assert [s.position for s in studio.automation.step_runs(workspace, run.id)] == [0, 1, 2]


def test_failed_step_is_retried_then_the_error_workflow_runs(studio: Studio, workspace: Workspace,
                                                              clock: Clock) -> None:
    handler_id = save(studio, workspace, """
name: Tell me about failures
trigger: {type: event, event: system.integration_error}
steps:
  - {type: goal, goal: "Explain why the workflow {{event.workflow_name}} failed: {{event.error}}"}
""")
    failing_id = save(studio, workspace, """
name: Recovery emails
trigger: {type: event, event: revenue.payment_failed}
on_error: Tell me about failures
steps:
  - type: tool
    tool: start_email_sequence
    args: {sequence: no-such-sequence, segment: all}
    retries: 1
    retry_delay: 30s
""")
    studio.automation.run_workflow(workspace, failing_id, idempotency_key="manual-3", now=clock())
    worker = make_worker(studio)
    drain(worker)
    [run] = runs_of(studio, workspace, failing_id)
    assert run.status == "waiting"  # first attempt failed, the retry is due in 30 s
    clock.now += timedelta(seconds=30)
    drain(worker)
    [run] = runs_of(studio, workspace, failing_id)
    assert run.status == "failed" and "after 2 attempt(s)" in (run.error or "")
    attempts = studio.automation.step_runs(workspace, run.id)
    assert [(a.attempt, a.status) for a in attempts] == [(1, "failed"), (2, "failed")]
    [handled] = runs_of(studio, workspace, handler_id)
    assert handled.trigger == "error" and handled.context["event"]["failed_run_id"] == run.id  # type: ignore[index]
    assert handled.status == "succeeded", handled.error
    [explained] = studio.automation.step_runs(workspace, handled.id)
    goal_run = studio.runs.get(explained.output["goal_run_id"])  # type: ignore[index]
    # The goal keeps its own words; the failure's text follows as quoted data (error text is not trusted).
    assert goal_run.goal.startswith("Explain why the workflow [event.workflow_name] failed: [event.error]")
    assert '[event.workflow_name] = <untrusted_data>"Recovery emails"</untrusted_data>' in goal_run.goal
    assert '[event.error] = <untrusted_data>"step 1' in goal_run.goal


def test_event_trigger_with_filter_queues_one_run_per_event(studio: Studio, workspace: Workspace,
                                                            clock: Clock) -> None:
    workflow_id = save(studio, workspace, """
name: Big purchases
trigger: {type: event, event: revenue.purchase_completed, filter: {currency: eur}}
steps:
  - {type: tool, tool: get_revenue_metrics, args: {period: 7d}}
""")
    worker = Worker(studio, WorkerOptions(worker_id="w1", tick_interval_s=0))
    worker.start_background()  # subscribes the automation module in this process
    try:
        big = studio.events.publish("revenue.purchase_completed", workspace.id,
                                    {"order_id": "o1", "amount_cents": 9900, "currency": "eur"}, source="test")
        studio.events.publish("revenue.purchase_completed", workspace.id,
                              {"order_id": "o2", "amount_cents": 100, "currency": "usd"}, source="test")
        studio.events.replay([big.id])  # a redelivered event queues nothing new
        # In-process the handler ran inside publish; on Redis (the PostgreSQL profile) the worker's consumer
        # thread delivers it, so poll briefly.
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            drain(worker)
            if any(r.status == "succeeded" for r in runs_of(studio, workspace, workflow_id)):
                break
            time.sleep(0.1)
        time.sleep(0.5)
        drain(worker)
    finally:
        worker.stop()
    [run] = runs_of(studio, workspace, workflow_id)
    assert run.status == "succeeded" and run.context["event"]["order_id"] == "o1"  # type: ignore[index]


def test_threshold_trigger_fires_once_per_crossing(studio: Studio, workspace: Workspace, clock: Clock) -> None:
    workflow_id = save(studio, workspace, """
name: Churn watch
trigger: {type: threshold, metric: churn_risk, op: ">", value: 0.6, window: 7d}
steps:
  - {type: tool, tool: detect_churn_risk, args: {limit: 3}}
""")
    metrics = studio.automation.metrics
    assert hasattr(metrics, "record")
    worker = Worker(studio, WorkerOptions(worker_id="w1", consume_events=False,
                                          threshold_interval=timedelta(minutes=1), tick_interval_s=0))
    readings = [0.3, 0.7, 0.8, 0.2, 0.9]  # crosses up at 0.7 and again at 0.9
    for value in readings:
        clock.now += timedelta(days=8)  # each reading alone in its window
        metrics.record(workspace.id, "churn_risk", value, at=clock.now - timedelta(hours=1))
        drain(worker)
    runs = runs_of(studio, workspace, workflow_id)
    assert [r.context["event"]["value"] for r in runs] == [0.7, 0.9]  # type: ignore[index]
    assert all(r.status == "succeeded" for r in runs)


# Schedules -------------------------------------------------------------------------------------------------


def test_cron_fires_once_even_with_two_workers(studio: Studio, workspace: Workspace, clock: Clock) -> None:
    workflow_id = save(studio, workspace, """
name: Hourly
trigger: {type: cron, cron: "0 * * * *"}
steps: [{type: tool, tool: suggest_topics, args: {count: 1}}]
""")
    first, second = make_worker(studio, "w1"), make_worker(studio, "w2")
    clock.now = FIXED_NOW.replace(minute=0) + timedelta(hours=1, seconds=1)
    first.scheduler.tick(clock.now)
    second.scheduler.tick(clock.now)
    drain(first)
    drain(second)
    runs = runs_of(studio, workspace, workflow_id)
    assert [(r.trigger, r.status) for r in runs] == [("cron", "succeeded")]
    next_run = studio.automation.get_workflow(workspace, workflow_id).next_run_at
    assert next_run == FIXED_NOW.replace(minute=0) + timedelta(hours=2)


@pytest.mark.parametrize(("policy", "ran", "skipped"), [("catch_up", 5, 0), ("skip", 1, 4)])
def test_missed_runs_after_downtime_follow_the_policy(studio: Studio, workspace: Workspace, clock: Clock,
                                                      policy: str, ran: int, skipped: int) -> None:
    workflow_id = save(studio, workspace, f"""
name: Hourly {policy}
trigger: {{type: cron, cron: "0 * * * *", missed: {policy}}}
steps: [{{type: tool, tool: suggest_topics, args: {{count: 1}}}}]
""")
    clock.now = FIXED_NOW.replace(minute=0) + timedelta(hours=5, minutes=10)  # down for five firings
    drain(make_worker(studio))
    runs = runs_of(studio, workspace, workflow_id)
    assert sum(r.status == "succeeded" for r in runs) == ran
    missed = [r for r in runs if r.status == "skipped"]
    assert len(missed) == skipped and all("policy: skip" in (r.error or "") for r in missed)


def test_a_scheduled_post_is_published_at_its_time_exactly_once(studio: Studio, workspace: Workspace,
                                                                 clock: Clock) -> None:
    at = FIXED_NOW + timedelta(hours=2)
    scheduled = studio.content.schedule(workspace, draft_id=None, text="Tiny win: df.pipe() keeps it tidy.",
                                        platform="linkedin", publish_at=at, account=None,
                                        idempotency_key="sched-1", now=FIXED_NOW)
    first, second = make_worker(studio, "w1"), make_worker(studio, "w2")
    clock.now = at - timedelta(minutes=1)
    drain(first)
    assert not [p for p in studio.social.posts(workspace.id) if p.text == scheduled.text]
    clock.now = at
    for _ in range(3):
        drain(first)
        drain(second)
    published = [p for p in studio.social.posts(workspace.id) if p.text == scheduled.text]
    assert len(published) == 1
    entry = next(e for e in studio.content.calendar(workspace, at - timedelta(hours=1), at + timedelta(hours=1))
                 if e.id == scheduled.id)
    assert entry.status == "published"
    events = studio.events.query(workspace.id, types=["content.published"], correlation_id=scheduled.id)
    assert [e.data["post_id"] for e in events] == [published[0].id]


# Jobs ------------------------------------------------------------------------------------------------------


def test_concurrent_claims_on_sqlite_take_each_job_once(studio: Studio) -> None:
    jobs = JobStore(studio.db)
    now = datetime.now(UTC)
    jobs.enqueue([NewJob(workspace_id="default", kind="probe", key=f"probe:{i}", payload={}, due_at=now)
                  for i in range(200)], now=now)
    claimed: dict[str, list[str]] = {"a": [], "b": []}

    def take(name: str) -> None:
        while batch := jobs.claim(worker=name, now=datetime.now(UTC), limit=7, lease=timedelta(minutes=1)):
            for job in batch:
                claimed[name].append(job.id)
                assert jobs.complete(job, worker=name, now=datetime.now(UTC))

    threads = [threading.Thread(target=take, args=(name,)) for name in claimed]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    every = claimed["a"] + claimed["b"]
    assert len(every) == len(set(every)) == 200
    with studio.db.transaction() as session:
        assert session.scalar(select(func.count()).select_from(JobEffectRow)) == 200


def test_an_expired_lease_is_claimed_again_and_the_late_finisher_is_fenced_off(studio: Studio) -> None:
    jobs = JobStore(studio.db)
    now = datetime.now(UTC)
    jobs.enqueue([NewJob(workspace_id="default", kind="probe", key="probe:x", payload={}, due_at=now)], now=now)
    [lost] = jobs.claim(worker="dead", now=now, limit=5, lease=timedelta(seconds=5))
    assert jobs.claim(worker="alive", now=now + timedelta(seconds=4), limit=5, lease=timedelta(seconds=5)) == []
    [again] = jobs.claim(worker="alive", now=now + timedelta(seconds=6), limit=5, lease=timedelta(seconds=5))
    assert again.id == lost.id and again.attempts == 2
    assert jobs.complete(again, worker="alive", now=now + timedelta(seconds=7))
    assert not jobs.complete(lost, worker="dead", now=now + timedelta(seconds=8))  # fenced by the token
    with studio.db.transaction() as session:
        effects = session.scalars(select(JobEffectRow)).all()
        assert [(e.job_id, e.worker) for e in effects] == [(again.id, "alive")]
        assert session.scalar(select(JobRow.status).where(JobRow.id == again.id)) == "done"


@pytest.mark.parametrize("name", SEED_SEQUENCES)
def test_each_template_runs_in_the_sandbox(studio: Studio, workspace: Workspace, clock: Clock, name: str) -> None:
    template = load_template(name)
    workflow, _ = studio.automation.save_workflow(workspace, template, now=clock())
    subscriber = next(s for s in studio.email.list_subscribers(workspace.id) if s.status == "subscribed")
    # What each trigger would have delivered: a qualified lead, a new member, a churn-risk crossing.
    event = {"lead_id": subscriber.id, "score": 0.9, "member_id": subscriber.id, "metric": "churn_risk",
             "value": 0.7}
    JobStore(studio.db).enqueue([NewJob(workspace_id=workspace.id, kind="workflow_run", key=f"template:{name}",
                                        payload={"workflow_id": workflow.id, "trigger": "manual",
                                                 "context": {"event": event}}, due_at=clock())], now=clock())
    worker = make_worker(studio)
    for _ in range(4):  # each pass: run until the next wait, then jump past it
        studio.automation.metrics.record(  # type: ignore[attr-defined]
            workspace.id, "community_participation", 0.5, at=clock())
        drain(worker)
        clock.now += timedelta(days=15)
    [run] = [r for r in runs_of(studio, workspace, workflow.id) if r.trigger == "manual"]
    steps = studio.automation.step_runs(workspace, run.id)
    assert run.status == "succeeded", (run.error, [(s.label, s.error) for s in steps])
    assert steps and all(s.status == "succeeded" for s in steps)
    goal_runs = [s.output["goal_run_id"] for s in steps if s.step_type == "goal" and s.output]
    assert all(studio.runs.get(goal_run).goal for goal_run in goal_runs)


def test_schedule_goal_runs_the_goal_at_its_time(studio: Studio, workspace: Workspace, clock: Clock) -> None:
    from creator_studio.tools.base import ToolContext
    from creator_studio.tools.invoke import invoke_tool

    ctx = ToolContext(studio=studio, workspace=workspace, agent="test", now=clock(), idempotency_key="goal-1")
    outcome = invoke_tool(ctx, "schedule_goal", {"goal": "plan this week's content", "cron": "0 9 * * 1"})
    assert outcome.ok, outcome.error
    workflow_id = outcome.result["workflow"]["id"]  # type: ignore[index]
    due = studio.automation.get_workflow(workspace, workflow_id).next_run_at
    assert due == datetime(2026, 11, 30, 8, 0, tzinfo=UTC)  # Monday 09:00 in Berlin
    worker = make_worker(studio)
    clock.now = due - timedelta(seconds=1)
    drain(worker)
    assert runs_of(studio, workspace, workflow_id) == []
    clock.now = due + timedelta(seconds=1)
    drain(worker)
    [run] = runs_of(studio, workspace, workflow_id)
    assert (run.trigger, run.status) == ("cron", "succeeded")
    [step] = studio.automation.step_runs(workspace, run.id)
    goal_run = studio.runs.get(step.output["goal_run_id"])  # type: ignore[index]
    assert goal_run.goal == "plan this week's content" and goal_run.status in ("completed", "waiting_approval")
    assert studio.automation.get_workflow(workspace, workflow_id).next_run_at == due + timedelta(weeks=1)


@pytest.mark.parametrize("zone_name", ["Europe/Berlin", "America/New_York", "Asia/Kolkata"])
def test_cron_schedule_agrees_with_croniter(zone_name: str) -> None:
    """The definitions' cron parser (which also rejects expressions that never fire, with field-named
    errors) gives the same firings as croniter, the reference implementation, in the workspace's zone."""
    import random
    from zoneinfo import ZoneInfo

    from croniter import croniter

    from creator_studio.automation.definitions import CronSchedule

    zone, rng = ZoneInfo(zone_name), random.Random(7)
    for expression in ["0 9 * * 1", "*/15 * * * *", "30 16 * * fri", "0 0 1 * *", "0 8 * * 1-5", "0 12 13 * 5",
                       "0 0 29 2 *", "@hourly", "0 22 * * 1,3,5", "30 2 * * *"]:
        schedule = CronSchedule.parse(expression)
        for _ in range(30):
            after = datetime(2026, 1, 1, tzinfo=UTC) + timedelta(minutes=rng.randrange(2 * 365 * 24 * 60))
            expected = croniter(expression, after.astimezone(zone)).get_next(datetime).astimezone(UTC)
            assert schedule.next_after(after, zone) == expected, (expression, after)


def test_a_scheduled_campaign_goes_out_at_its_time_once(studio: Studio, workspace: Workspace, clock: Clock) -> None:
    at = FIXED_NOW + timedelta(hours=3)
    campaign = studio.revenue.send_email_campaign(
        workspace, draft_id=None, subject="Office hours Friday", body="Bring your messiest CSV.", segment="all",
        send_at=at, now=FIXED_NOW, idempotency_key="campaign-1")
    assert campaign.status == "scheduled"
    first, second = make_worker(studio, "w1"), make_worker(studio, "w2")
    clock.now = at - timedelta(minutes=5)
    drain(first)
    assert studio.email_provider.get_campaign(workspace.id, campaign.id).status == "scheduled"
    clock.now = at + timedelta(minutes=1)
    for _ in range(3):
        drain(first)
        drain(second)
    sent = studio.email_provider.get_campaign(workspace.id, campaign.id)
    assert sent.status == "sent" and sent.recipients > 0
    from creator_studio.providers.email.sandbox import SandboxMessageRow

    with studio.db.transaction() as session:
        recipients = list(session.scalars(select(SandboxMessageRow.subscriber_id)
                                          .where(SandboxMessageRow.campaign_id == campaign.id)))
    assert len(recipients) == len(set(recipients)) == sent.recipients  # each reader got it once
