"""AutomationService.update_workflow (a new, validated version under a version check) and archive_workflow
(soft delete: never fires again, hidden from listings, history kept), on the seeded SQLite studio."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from sqlalchemy import select

from creator_studio.automation.definitions import WorkflowDefinition
from creator_studio.automation.models import WorkflowRunRow, WorkflowVersionRow
from creator_studio.automation.service import StaleWorkflowVersion
from creator_studio.automation.worker import Worker, WorkerOptions
from creator_studio.errors import Conflict, InvalidInput, NotFound
from creator_studio.studio import Studio
from creator_studio.workspaces.service import Workspace
from tests.conftest import FIXED_NOW, Clock

pytestmark = pytest.mark.unit


def definition(cron: str = "0 * * * *", tool: str = "suggest_topics") -> WorkflowDefinition:
    return WorkflowDefinition.model_validate({"trigger": {"type": "cron", "cron": cron},
                                              "steps": [{"type": "tool", "tool": tool, "args": {"count": 1}}]})


def create(studio: Studio, ws: Workspace, name: str = "Hourly topics", **kwargs: str) -> str:
    return studio.automation.create_workflow(ws, name=name, definition=definition(**kwargs),
                                             idempotency_key=f"create-{name}", now=studio.now()).id


def runs_of(studio: Studio, workflow_id: str) -> list[WorkflowRunRow]:
    with studio.db.transaction() as session:
        return list(session.scalars(select(WorkflowRunRow).where(WorkflowRunRow.workflow_id == workflow_id)
                                    .order_by(WorkflowRunRow.queued_at)))


def drain(worker: Worker) -> None:
    for _ in range(20):
        if worker.run_once() == 0:
            return


def make_worker(studio: Studio) -> Worker:
    return Worker(studio, WorkerOptions(worker_id="w1", consume_events=False, lease=timedelta(seconds=30),
                                        tick_interval_s=0))


def test_update_makes_a_new_checked_version(studio: Studio, workspace: Workspace, clock: Clock) -> None:
    automation = studio.automation
    workflow_id = create(studio, workspace)
    first = automation.get_workflow(workspace, workflow_id)
    assert first.version == 1 and first.next_run_at == FIXED_NOW.replace(minute=0) + timedelta(hours=1)

    clock.now = FIXED_NOW + timedelta(minutes=5)
    updated = automation.update_workflow(workspace, workflow_id, definition=definition(cron="0 9 * * 1"),
                                         name="Monday topics", expected_version=1, now=clock.now)
    assert updated.changed and updated.workflow.version == 2 and updated.workflow.name == "Monday topics"
    assert updated.workflow.trigger.type == "cron" and updated.workflow.trigger.cron == "0 9 * * 1"
    # Wednesday 25 Nov, 15:05 in Berlin (the workspace's zone, pinned on the trigger): next Monday 09:00 there.
    assert updated.workflow.next_run_at == datetime.fromisoformat("2026-11-30T08:00:00+00:00")
    with studio.db.transaction() as session:
        versions = session.scalars(select(WorkflowVersionRow).where(WorkflowVersionRow.workflow_id == workflow_id)
                                   .order_by(WorkflowVersionRow.version)).all()
        assert [v.version for v in versions] == [1, 2]
        assert versions[0].definition["trigger"]["cron"] == "0 * * * *"  # the old version is kept as it was

    again = automation.update_workflow(workspace, workflow_id, definition=definition(cron="0 9 * * 1"),
                                       expected_version=2, now=clock.now)
    assert not again.changed and again.workflow.version == 2  # the same definition: no new version

    with pytest.raises(StaleWorkflowVersion) as stale:
        automation.update_workflow(workspace, workflow_id, definition=definition(cron="0 10 * * 1"),
                                   expected_version=1, now=clock.now)
    assert stale.value.current.version == 2 and stale.value.expected == 1
    assert automation.get_workflow(workspace, workflow_id).trigger.cron == "0 9 * * 1"  # type: ignore[union-attr]


def test_update_refuses_bad_changes_and_names_what_is_wrong(studio: Studio, workspace: Workspace) -> None:
    automation = studio.automation
    workflow_id = create(studio, workspace)
    create(studio, workspace, name="Taken")
    with pytest.raises(Conflict, match="name: a workflow named 'Taken' already exists"):
        automation.update_workflow(workspace, workflow_id, definition=definition(), name="Taken",
                                   expected_version=None, now=FIXED_NOW)
    with pytest.raises(InvalidInput, match="name:"):
        automation.update_workflow(workspace, workflow_id, definition=definition(), name="   ",
                                   expected_version=None, now=FIXED_NOW)
    past = WorkflowDefinition.model_validate({"trigger": {"type": "once", "at": "2026-11-01T09:00:00+00:00"},
                                              "steps": [{"type": "goal", "goal": "plan the week"}]})
    with pytest.raises(InvalidInput, match=r"at: .* is in the past"):
        automation.update_workflow(workspace, workflow_id, definition=past, expected_version=None, now=FIXED_NOW)
    with pytest.raises(NotFound):
        automation.update_workflow(workspace, "wf_000000000000", definition=definition(), expected_version=None,
                                   now=FIXED_NOW)
    assert automation.get_workflow(workspace, workflow_id).version == 1  # nothing was half-written


def test_an_archived_workflow_never_fires_but_keeps_its_history(studio: Studio, workspace: Workspace,
                                                                clock: Clock) -> None:
    automation = studio.automation
    workflow_id = create(studio, workspace)
    worker = make_worker(studio)
    clock.now = FIXED_NOW.replace(minute=0) + timedelta(hours=1, seconds=1)
    drain(worker)  # one cron run happens while it is active
    assert [(r.trigger, r.status) for r in runs_of(studio, workflow_id)] == [("cron", "succeeded")]

    queued = automation.run_workflow(workspace, workflow_id, idempotency_key="manual-1", now=clock.now)
    # The scheduler already queued the next firing, which has not opened a run yet.
    clock.now += timedelta(hours=1)
    worker.scheduler.tick(clock.now)
    archived = automation.archive_workflow(workspace, workflow_id, expected_version=1, now=clock.now)
    assert archived.status == "archived" and archived.archived_at == clock.now and archived.next_run_at is None
    assert archived.name == f"Hourly topics (archived {workflow_id})"

    drain(worker)
    clock.now += timedelta(hours=3)
    drain(worker)  # later firings: nothing is scheduled any more
    statuses = [(r.trigger, r.status) for r in runs_of(studio, workflow_id)]
    assert ("cron", "succeeded") in statuses and ("manual", "cancelled") in statuses
    assert statuses.count(("cron", "succeeded")) == 1 and all(s != "queued" for _, s in statuses)
    manual = next(r for r in automation.runs(workspace, workflow_id=workflow_id) if r.id == queued.id)
    assert manual.status == "cancelled" and "archived" in (manual.error or "")

    assert workflow_id not in {w.id for w in automation.list_workflows(workspace)}
    assert [w.id for w in automation.list_workflows(workspace, status="archived")] == [workflow_id]
    assert automation.get_workflow(workspace, workflow_id).status == "archived"  # still readable by id
    assert automation.system_health(workspace, now=clock.now).workflows_by_status.get("archived") is None

    with pytest.raises(Conflict, match="already archived"):
        automation.archive_workflow(workspace, workflow_id, now=clock.now)
    with pytest.raises(Conflict, match="archived"):
        automation.run_workflow(workspace, workflow_id, idempotency_key="manual-2", now=clock.now)
    with pytest.raises(Conflict, match="archived"):
        automation.resume_workflow(workspace, workflow_id, idempotency_key="resume-1", now=clock.now)
    with pytest.raises(Conflict, match="archived"):
        automation.update_workflow(workspace, workflow_id, definition=definition(), expected_version=None,
                                   now=clock.now)
    with pytest.raises(NotFound):
        automation.archive_workflow(workspace, "wf_000000000000", now=clock.now)
    # The name is free again.
    again = automation.create_workflow(workspace, name="Hourly topics", definition=definition(),
                                       idempotency_key="create-again", now=clock.now)
    assert again.id != workflow_id and again.status == "active"


def test_an_archived_event_workflow_ignores_its_events(studio: Studio, workspace: Workspace, clock: Clock) -> None:
    automation = studio.automation
    on_event = WorkflowDefinition.model_validate({
        "trigger": {"type": "event", "event": "revenue.purchase_completed"},
        "steps": [{"type": "tool", "tool": "get_revenue_metrics", "args": {"period": "7d"}}]})
    workflow = automation.create_workflow(workspace, name="On purchase", definition=on_event,
                                          idempotency_key="create-event", now=clock.now)
    worker = Worker(studio, WorkerOptions(worker_id="w1", tick_interval_s=0))
    worker.start_background()
    try:
        automation.archive_workflow(workspace, workflow.id, now=clock.now)
        studio.events.publish("revenue.purchase_completed", workspace.id,
                              {"order_id": "o1", "amount_cents": 900, "currency": "eur"}, source="test")
        drain(worker)
    finally:
        worker.stop()
    assert runs_of(studio, workflow.id) == []


def test_archiving_with_a_stale_version_is_refused(studio: Studio, workspace: Workspace) -> None:
    automation = studio.automation
    workflow_id = create(studio, workspace)
    automation.update_workflow(workspace, workflow_id, definition=definition(cron="5 * * * *"),
                               expected_version=1, now=FIXED_NOW)
    with pytest.raises(StaleWorkflowVersion):
        automation.archive_workflow(workspace, workflow_id, expected_version=1, now=FIXED_NOW)
    assert automation.get_workflow(workspace, workflow_id).status == "active"
