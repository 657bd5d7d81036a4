"""Turning time into jobs: due cron/one-off workflows, due scheduled posts and threshold checks.

Every worker ticks; the work a tick finds is queued as jobs with a key naming it (workflow + firing time,
scheduled post id, check interval), so two workers that see the same due thing queue it once. A workflow's
`next_run_at` is advanced with a compare-and-set in the same transaction that queues its job: exactly one
tick wins each firing.

Missed runs: a firing more than `MISSED_AFTER` late is *missed* (the workers were down). The trigger's
policy decides: `catch_up` queues every missed firing (at most `MAX_CATCH_UP`), `skip` queues only the
latest and records the others as skipped runs; either way it is logged.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from sqlalchemy import select, update

from creator_studio.automation.definitions import CronTrigger, OnceTrigger, WorkflowDefinition
from creator_studio.automation.jobs import JobStore, NewJob
from creator_studio.automation.models import JobRow, WorkflowRow, WorkflowRunRow
from creator_studio.logs import get_logger
from creator_studio.store.db import new_id

if TYPE_CHECKING:
    from creator_studio.studio import Studio

log = get_logger("automation.scheduler")

MISSED_AFTER = timedelta(minutes=1)
MAX_CATCH_UP = 100
# Scheduled posts are queued this far ahead, so the job is waiting when the post is due.
POST_LOOKAHEAD = timedelta(seconds=30)


@dataclass
class TickReport:
    workflow_jobs: int = 0
    skipped_runs: int = 0
    post_jobs: int = 0
    threshold_checks: int = 0
    mail_checks: int = 0


def firings(definition: WorkflowDefinition, zone_name: str, first: datetime, now: datetime) -> list[datetime]:
    """Firings from `first` (the stored next_run_at) up to now, at most MAX_CATCH_UP + 1 (the newest kept)."""
    trigger = definition.trigger
    if isinstance(trigger, OnceTrigger):
        return [first]
    assert isinstance(trigger, CronTrigger)
    from zoneinfo import ZoneInfo

    from creator_studio.automation.definitions import CronSchedule

    schedule, zone = CronSchedule.parse(trigger.cron), ZoneInfo(trigger.timezone or zone_name)
    found = [first]
    while True:
        following = schedule.next_after(found[-1], zone)
        if following > now:
            return found
        found.append(following)
        if len(found) > MAX_CATCH_UP + 1:
            found.pop(0)  # keep the newest


class Scheduler:
    def __init__(self, studio: Studio, jobs: JobStore, *, threshold_interval: timedelta = timedelta(minutes=1)
                 ) -> None:
        self.studio = studio
        self.jobs = jobs
        self.threshold_interval = threshold_interval

    def tick(self, now: datetime) -> TickReport:
        report = TickReport()
        self._due_workflows(now, report)
        self._due_posts(now, report)
        self._threshold_check(now, report)
        self._mail_check(now, report)
        return report

    # Cron and one-off workflows ---------------------------------------------------------------------
    def _due_workflows(self, now: datetime, report: TickReport) -> None:
        with self.studio.db.transaction() as session:
            due = session.execute(
                select(WorkflowRow.id, WorkflowRow.workspace_id, WorkflowRow.next_run_at, WorkflowRow.definition)
                .where(WorkflowRow.status == "active", WorkflowRow.next_run_at.is_not(None),
                       WorkflowRow.next_run_at <= now)
                .order_by(WorkflowRow.next_run_at).limit(200)).all()
        for workflow_id, workspace_id, next_run_at, raw in due:
            definition = WorkflowDefinition.model_validate(raw, context={"stored": True})
            zone = self.studio.workspaces.get(workspace_id).timezone
            self._fire(workflow_id, workspace_id, next_run_at, definition, zone, now, report)

    def _fire(self, workflow_id: str, workspace_id: str, first: datetime, definition: WorkflowDefinition,
              zone: str, now: datetime, report: TickReport) -> None:
        times = firings(definition, zone, first, now)
        trigger = definition.trigger
        assert isinstance(trigger, CronTrigger | OnceTrigger)  # only these have a next_run_at
        missed = [t for t in times if now - t > MISSED_AFTER]
        run_now = times if trigger.missed == "catch_up" else times[-1:]
        if isinstance(trigger, OnceTrigger) and trigger.missed == "skip" and missed:
            run_now = []
        skipped = [t for t in times if t not in run_now]
        following = None
        if isinstance(trigger, CronTrigger):
            from zoneinfo import ZoneInfo

            from creator_studio.automation.definitions import CronSchedule

            following = CronSchedule.parse(trigger.cron).next_after(times[-1], ZoneInfo(trigger.timezone or zone))
        with self.studio.db.transaction() as session:
            # Compare-and-set: only the tick that still sees this next_run_at owns these firings.
            won = session.execute(update(WorkflowRow).where(WorkflowRow.id == workflow_id,
                                                            WorkflowRow.next_run_at == first)
                                  .values(next_run_at=following).execution_options(synchronize_session=False))
            if won.rowcount != 1:  # type: ignore[attr-defined]
                return
            version = session.scalar(select(WorkflowRow.version).where(WorkflowRow.id == workflow_id)) or 1
            for moment in skipped:
                session.add(WorkflowRunRow(
                    id=new_id("wfrun"), workspace_id=workspace_id, workflow_id=workflow_id, workflow_version=version,
                    trigger=trigger.type, status="skipped", queued_at=moment, finished_at=now,
                    error=f"missed while no worker was running (due {moment.isoformat()}); policy: skip",
                    idempotency_key=f"{workflow_id}:{moment.isoformat()}", context={}, cursor=0))
            for moment in run_now:
                session.add(JobRow(id=new_id("job"), workspace_id=workspace_id, kind="workflow_run",
                                   key=f"{workflow_id}:{moment.isoformat()}", due_at=moment, status="due",
                                   attempts=0, created_at=now,
                                   payload={"workflow_id": workflow_id, "trigger": trigger.type, "context": {
                                       "scheduled_for": moment.isoformat()}}))
        report.workflow_jobs += len(run_now)
        report.skipped_runs += len(skipped)
        if missed:
            log.warning("missed scheduled runs after downtime",
                        extra={"workspace_id": workspace_id, "workflow_id": workflow_id, "missed": len(missed),
                               "policy": trigger.missed, "queued": len(run_now), "skipped": len(skipped)})

    # Scheduled posts --------------------------------------------------------------------------------
    def _due_posts(self, now: datetime, report: TickReport) -> None:
        due = self.studio.content.due_scheduled_posts(now + POST_LOOKAHEAD)
        report.post_jobs += self.jobs.enqueue(
            [NewJob(workspace_id=workspace_id, kind="scheduled_post", key=f"post:{post.id}",
                    payload={"scheduled_post_id": post.id}, due_at=post.publish_at) for workspace_id, post in due],
            now=now)

    # Scheduled email --------------------------------------------------------------------------------
    def _mail_check(self, now: datetime, report: TickReport) -> None:
        """Scheduled campaigns and due sequence steps go out once per interval, from whichever worker claims
        the job; the email provider records each campaign and step once, so a repeat sends nothing."""
        bucket = int(now.timestamp() // self.threshold_interval.total_seconds())
        report.mail_checks += self.jobs.enqueue(
            [NewJob(workspace_id="*", kind="mail_due", key=f"mail:{bucket}", payload={}, due_at=now)], now=now)

    # Threshold triggers -----------------------------------------------------------------------------
    def _threshold_check(self, now: datetime, report: TickReport) -> None:
        """One check per interval, whoever queues it first; the worker that claims it evaluates every
        active threshold workflow (so a crossing is seen by one worker, once)."""
        step = self.threshold_interval.total_seconds()
        bucket = int(now.timestamp() // step)
        report.threshold_checks += self.jobs.enqueue(
            [NewJob(workspace_id="*", kind="threshold_check", key=f"threshold:{bucket}", payload={},
                    due_at=now)], now=now)
