"""Automation Lab's rules: workflows (trigger + steps), their runs, schedules and the system's health.

Executing steps is the worker's job (`automation.worker`, `automation.engine`): this service stores
workflows and their versions, computes when a scheduled one is due (`next_run_at`, in its time zone),
queues runs (as jobs the workers claim) and reports on them.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any, Literal, TypeVar
from zoneinfo import ZoneInfo

from pydantic import BaseModel, ValidationError
from sqlalchemy import and_, func, select, text, update
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from creator_studio.automation.definitions import (
    CronSchedule,
    CronTrigger,
    GoalStep,
    OnceTrigger,
    Step,
    Trigger,
    WorkflowDefinition,
    WorkflowFile,
)
from creator_studio.automation.metrics import MetricSource, SandboxMetricSource
from creator_studio.automation.models import (
    JobRow,
    WorkflowChangeRow,
    WorkflowRow,
    WorkflowRunRow,
    WorkflowStepRunRow,
    WorkflowVersionRow,
)
from creator_studio.errors import Conflict, InvalidInput, NotFound
from creator_studio.logs import get_logger
from creator_studio.store.db import Database, new_id
from creator_studio.workspaces.service import Workspace

log = get_logger("automation")

WorkflowStatus = Literal["active", "paused", "archived"]
RunStatus = Literal["queued", "running", "waiting", "succeeded", "failed", "skipped", "cancelled"]
RunTrigger = Literal["manual", "cron", "event", "threshold", "once", "error"]

KeyedRow = TypeVar("KeyedRow", WorkflowRow, WorkflowRunRow, WorkflowChangeRow)

MAX_NAME_LENGTH = 120
# A scheduled workflow this late, or a run queued this long, means the scheduler or worker is not running.
OVERDUE_AFTER = timedelta(minutes=15)
STUCK_AFTER = timedelta(hours=1)


class WorkflowRun(BaseModel):
    id: str
    workflow_id: str
    workflow_name: str
    workflow_version: int
    trigger: str
    status: str
    queued_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
    error: str | None


class Workflow(BaseModel):
    id: str
    name: str
    status: str
    version: int
    trigger: Trigger
    steps: list[Step]
    next_run_at: datetime | None
    last_run_at: datetime | None
    last_run_status: str | None
    created_at: datetime
    archived_at: datetime | None = None


class StepRun(BaseModel):
    position: int
    step_type: str
    label: str
    attempt: int
    status: str
    output: dict[str, Any] | None
    error: str | None
    started_at: datetime
    finished_at: datetime | None


class WorkflowStatusChange(BaseModel):
    action: Literal["pause", "resume"]
    changed: bool  # False: the workflow was already in that state, nothing was done
    workflow: Workflow


class WorkflowUpdate(BaseModel):
    changed: bool  # False: the definition and name were already these, no new version was made
    workflow: Workflow


class StaleWorkflowVersion(Conflict):
    """An edit based on an older version than the stored one; `current` is the workflow as it is now."""

    def __init__(self, current: Workflow, expected: int) -> None:
        super().__init__(f"Workflow {current.name!r} changed since you read it (you had version {expected}, it is "
                         f"now version {current.version}): read it again and redo your change on that version.")
        self.current = current
        self.expected = expected


class WorkflowActivity(BaseModel):
    workflow_id: str
    name: str
    status: str
    next_run_at: datetime | None
    last_run: WorkflowRun | None


class SystemHealth(BaseModel):
    status: Literal["healthy", "degraded"]
    reasons: list[str]
    checked_at: datetime
    database_reachable: bool
    workflows_by_status: dict[str, int]
    failed_runs_last_24h: list[WorkflowRun]
    queued_runs: int
    workflows: list[WorkflowActivity]


class AutomationService:
    def __init__(self, db: Database, metrics: MetricSource | None = None) -> None:
        self._db = db
        # Where threshold triggers and metric conditions read their numbers (analytics plugs in here).
        self.metrics: MetricSource = metrics or SandboxMetricSource(db)

    # Reading ----------------------------------------------------------------------------------------
    def list_workflows(self, ws: Workspace, *, status: WorkflowStatus | None = None) -> list[Workflow]:
        """Workflows oldest first; archived ones only when asked for with status="archived"."""
        with self._db.transaction() as session:
            query = select(WorkflowRow).where(WorkflowRow.workspace_id == ws.id)
            if status is not None:
                query = query.where(WorkflowRow.status == status)
            else:
                query = query.where(WorkflowRow.status != "archived")
            rows = session.scalars(query.order_by(WorkflowRow.created_at, WorkflowRow.name)).all()
            latest = self._latest_runs(session, ws)
            return [_workflow(row, latest.get(row.id)) for row in rows]

    def get_workflow(self, ws: Workspace, workflow_id: str) -> Workflow:
        with self._db.transaction() as session:
            row = self._row(session, ws, workflow_id)
            return _workflow(row, self._latest_runs(session, ws).get(row.id))

    def runs(
        self,
        ws: Workspace,
        *,
        workflow_id: str | None = None,
        status: RunStatus | None = None,
        limit: int = 50,
    ) -> list[WorkflowRun]:
        """Runs newest first, optionally of one workflow and in one status."""
        with self._db.transaction() as session:
            query = (
                select(WorkflowRunRow, WorkflowRow.name)
                .join(WorkflowRow, WorkflowRow.id == WorkflowRunRow.workflow_id)
                .where(WorkflowRunRow.workspace_id == ws.id)
            )
            if workflow_id is not None:
                self._row(session, ws, workflow_id)  # an unknown id is an error, not an empty list
                query = query.where(WorkflowRunRow.workflow_id == workflow_id)
            if status is not None:
                query = query.where(WorkflowRunRow.status == status)
            query = query.order_by(WorkflowRunRow.queued_at.desc(), WorkflowRunRow.id).limit(limit)
            return [_run(run, name) for run, name in session.execute(query).all()]

    def step_runs(self, ws: Workspace, run_id: str) -> list[StepRun]:
        """Every attempt at every step of one run, in the order they happened."""
        with self._db.transaction() as session:
            run = session.get(WorkflowRunRow, run_id)
            if run is None or run.workspace_id != ws.id:
                raise NotFound(f"There is no workflow run {run_id!r} in this workspace: `studio workflows runs` "
                               f"lists them.")
            rows = session.scalars(select(WorkflowStepRunRow).where(WorkflowStepRunRow.run_id == run_id)
                                   .order_by(WorkflowStepRunRow.started_at, WorkflowStepRunRow.position)).all()
            return [StepRun.model_validate(row, from_attributes=True) for row in rows]

    def find_workflow(self, ws: Workspace, name_or_id: str) -> Workflow:
        """A workflow by id or by its exact name."""
        with self._db.transaction() as session:
            row = session.get(WorkflowRow, name_or_id)
            if row is None or row.workspace_id != ws.id:
                row = session.scalar(select(WorkflowRow).where(WorkflowRow.workspace_id == ws.id,
                                                               WorkflowRow.name == name_or_id))
            if row is None:
                raise NotFound(f"There is no workflow {name_or_id!r} in this workspace: `studio workflows list` "
                               f"shows names and ids.")
            return _workflow(row, self._latest_runs(session, ws).get(row.id))

    def save_workflow(self, ws: Workspace, file: WorkflowFile, *, now: datetime) -> tuple[Workflow, bool]:
        """Create the workflow of a file, or give the workflow of that name a new version if its definition
        changed. Returns the workflow and whether anything was written."""
        definition = file.definition()
        with self._db.transaction() as session:
            row = session.scalar(select(WorkflowRow).where(WorkflowRow.workspace_id == ws.id,
                                                           WorkflowRow.name == " ".join(file.name.split())))
            if row is not None:
                pinned = _pin_zone(ws, definition)
                if _definition(row).model_dump(mode="json") == pinned.model_dump(mode="json"):
                    return _workflow(row, self._latest_runs(session, ws).get(row.id)), False
                row.version += 1
                row.definition = pinned.model_dump(mode="json")
                row.trigger_type = pinned.trigger.type
                row.trigger_state = None
                row.updated_at = now
                if row.status == "active":
                    row.next_run_at = self.next_run_at(ws, pinned.trigger, now)
                session.add(WorkflowVersionRow(workflow_id=row.id, version=row.version, definition=row.definition,
                                               created_at=now))
                session.flush()
                log.info("workflow updated", extra={"workspace_id": ws.id, "workflow_id": row.id,
                                                    "version": row.version})
                return _workflow(row, self._latest_runs(session, ws).get(row.id)), True
        key = f"file:{ws.id}:{file.name}:{now.isoformat()}"
        return self.create_workflow(ws, name=file.name, definition=definition, idempotency_key=key, now=now), True

    def next_run_at(self, ws: Workspace, trigger: Trigger, after: datetime) -> datetime | None:
        """When a trigger next fires on its own: cron and one-off triggers have a time, events do not."""
        if isinstance(trigger, CronTrigger):
            zone = ZoneInfo(trigger.timezone or ws.timezone)
            return CronSchedule.parse(trigger.cron).next_after(after, zone)
        if isinstance(trigger, OnceTrigger):
            return trigger.at if trigger.at > after else None
        return None

    # Creating ---------------------------------------------------------------------------------------
    def create_workflow(
        self, ws: Workspace, *, name: str, definition: WorkflowDefinition, idempotency_key: str, now: datetime
    ) -> Workflow:
        name = _clean_name(name)
        with self._db.transaction() as session:
            existing = self._by_key(session, ws, WorkflowRow, idempotency_key)
            if existing is not None:
                return _workflow(existing, self._latest_runs(session, ws).get(existing.id))
            clash = session.scalar(
                select(WorkflowRow).where(WorkflowRow.workspace_id == ws.id, WorkflowRow.name == name)
            )
            if clash is not None:
                raise Conflict(
                    f"A workflow named {name!r} already exists ({clash.id}): choose another name, "
                    f"or pause/resume that one."
                )
            row = self._insert(session, ws, name=name, definition=definition, idempotency_key=idempotency_key, now=now)
            return _workflow(row, None)

    def schedule_goal(
        self,
        ws: Workspace,
        *,
        goal: str,
        cron: str | None,
        at: datetime | None,
        idempotency_key: str,
        now: datetime,
    ) -> Workflow:
        """A scheduled autonomous run is a workflow with one goal step, on a cron or a one-off trigger."""
        goal = " ".join(goal.split())
        if (cron is None) == (at is None):
            raise InvalidInput(
                "Give exactly one of cron (repeating, e.g. '0 9 * * 1') or at (one time, ISO 8601 with time zone)."
            )
        try:
            trigger: Trigger = CronTrigger(cron=cron) if cron is not None else OnceTrigger(at=at)
            definition = WorkflowDefinition(trigger=trigger, steps=[GoalStep(goal=goal)])
        except ValidationError as exc:
            problems = "; ".join(
                f"{'.'.join(str(p) for p in e['loc'])}: {e['msg'].removeprefix('Value error, ')}"
                for e in exc.errors(include_url=False)
            )
            raise InvalidInput(f"schedule_goal: {problems}") from exc
        with self._db.transaction() as session:
            existing = self._by_key(session, ws, WorkflowRow, idempotency_key)
            if existing is not None:
                return _workflow(existing, self._latest_runs(session, ws).get(existing.id))
            # Scheduling the same goal twice (at different times) is fine: the names just get a number.
            base = f"Goal: {goal}"[: MAX_NAME_LENGTH - 5]
            taken = set(
                session.scalars(
                    select(WorkflowRow.name).where(WorkflowRow.workspace_id == ws.id, WorkflowRow.name.like(f"{base}%"))
                )
            )
            name = next(
                candidate
                for candidate in [base, *(f"{base} ({n})" for n in range(2, 10_000))]
                if candidate not in taken
            )
            row = self._insert(session, ws, name=name, definition=definition, idempotency_key=idempotency_key, now=now)
            return _workflow(row, None)

    def _insert(
        self,
        session: Session,
        ws: Workspace,
        *,
        name: str,
        definition: WorkflowDefinition,
        idempotency_key: str,
        now: datetime,
    ) -> WorkflowRow:
        definition = _pin_zone(ws, definition)
        trigger = definition.trigger
        if isinstance(trigger, OnceTrigger) and trigger.at <= now:
            raise InvalidInput(f"at: {trigger.at.isoformat()} is in the past; choose a time after {now.isoformat()}.")
        row = WorkflowRow(
            id=new_id("wf"),
            workspace_id=ws.id,
            name=name,
            status="active",
            version=1,
            trigger_type=trigger.type,
            definition=definition.model_dump(mode="json"),
            next_run_at=self.next_run_at(ws, trigger, now),
            idempotency_key=idempotency_key,
            created_at=now,
            updated_at=now,
        )
        session.add(row)
        session.flush()
        session.add(WorkflowVersionRow(workflow_id=row.id, version=1, definition=row.definition, created_at=now))
        log.info("workflow created", extra={"workspace_id": ws.id, "workflow_id": row.id})
        return row

    def advance_schedule(self, ws: Workspace, workflow_id: str, *, after: datetime) -> Workflow:
        """Move a scheduled workflow's `next_run_at` to its first firing after `after` (once it has run)."""
        with self._db.transaction() as session:
            row = self._row(session, ws, workflow_id)
            if row.status == "active":
                row.next_run_at = self.next_run_at(ws, _definition(row).trigger, after)
            session.flush()
            return _workflow(row, self._latest_runs(session, ws).get(row.id))

    # Editing and archiving --------------------------------------------------------------------------
    def update_workflow(
        self,
        ws: Workspace,
        workflow_id: str,
        *,
        definition: WorkflowDefinition,
        name: str | None = None,
        expected_version: int | None,
        now: datetime,
    ) -> WorkflowUpdate:
        """Give a workflow a new version of its definition (and optionally a new name).

        `expected_version` is the version the change was made on (None: whatever is stored); if the workflow
        has moved on since, StaleWorkflowVersion carries the current one. Sending what is already stored
        changes nothing. The schedule restarts from `now` and a threshold trigger forgets its last reading."""
        with self._db.transaction() as session:
            row = self._row(session, ws, workflow_id)
            if row.status == "archived":
                raise Conflict(f"Workflow {row.id} is archived and cannot be changed: create a new workflow instead.")
            if expected_version is not None and row.version != expected_version:
                raise StaleWorkflowVersion(_workflow(row, self._latest_runs(session, ws).get(row.id)),
                                           expected_version)
            new_name = row.name if name is None else _clean_name(name)
            if new_name != row.name:
                clash = session.scalar(select(WorkflowRow.id).where(WorkflowRow.workspace_id == ws.id,
                                                                    WorkflowRow.name == new_name))
                if clash is not None:
                    raise Conflict(f"name: a workflow named {new_name!r} already exists ({clash}): choose another.")
            pinned = _pin_zone(ws, definition)
            trigger = pinned.trigger
            if isinstance(trigger, OnceTrigger) and trigger.at <= now:
                raise InvalidInput(f"at: {trigger.at.isoformat()} is in the past; choose a time after "
                                   f"{now.isoformat()}.")
            stored = pinned.model_dump(mode="json")
            if stored == _definition(row).model_dump(mode="json") and new_name == row.name:
                unchanged = _workflow(row, self._latest_runs(session, ws).get(row.id))
                return WorkflowUpdate(changed=False, workflow=unchanged)
            version = row.version
            # Compare-and-swap on the version: of two concurrent edits of the same version, one wins.
            swapped = session.execute(
                update(WorkflowRow)
                .where(WorkflowRow.id == row.id, WorkflowRow.version == version)
                .values(version=version + 1, name=new_name, definition=stored, trigger_type=trigger.type,
                        trigger_state=None, updated_at=now,
                        next_run_at=self.next_run_at(ws, trigger, now) if row.status == "active" else None)
                .execution_options(synchronize_session=False)
            )
            session.refresh(row)
            if getattr(swapped, "rowcount", 0) != 1:
                raise StaleWorkflowVersion(_workflow(row, self._latest_runs(session, ws).get(row.id)),
                                           expected_version if expected_version is not None else version)
            session.add(WorkflowVersionRow(workflow_id=row.id, version=row.version, definition=stored, created_at=now))
            session.flush()
            log.info("workflow updated", extra={"workspace_id": ws.id, "workflow_id": row.id, "version": row.version})
            return WorkflowUpdate(changed=True, workflow=_workflow(row, self._latest_runs(session, ws).get(row.id)))

    def archive_workflow(
        self, ws: Workspace, workflow_id: str, *, expected_version: int | None = None, now: datetime
    ) -> Workflow:
        """Soft-delete a workflow: it never fires, schedules nor runs again and is left out of listings, but it
        and its runs stay readable by id. Its queued runs (and due jobs that had not opened a run yet) are
        cancelled. Its name is freed for a new workflow (the archived one is renamed "... (archived <id>)")."""
        with self._db.transaction() as session:
            row = self._row(session, ws, workflow_id)
            if row.status == "archived":
                when = f" on {row.archived_at:%Y-%m-%d %H:%M} UTC" if row.archived_at else ""
                raise Conflict(f"Workflow {row.id} was already archived{when}: there is nothing left to do.")
            if expected_version is not None and row.version != expected_version:
                raise StaleWorkflowVersion(_workflow(row, self._latest_runs(session, ws).get(row.id)),
                                           expected_version)
            suffix = f" (archived {row.id})"
            row.name = row.name[: MAX_NAME_LENGTH - len(suffix)] + suffix
            row.status = "archived"
            row.archived_at = now
            row.next_run_at = None
            row.trigger_state = None
            row.updated_at = now
            cancelled = self._cancel_pending_runs(session, ws, row.id, now=now)
            session.flush()
            log.info("workflow archived", extra={"workspace_id": ws.id, "workflow_id": row.id,
                                                 "cancelled_runs": cancelled})
            return _workflow(row, self._latest_runs(session, ws).get(row.id))

    def _cancel_pending_runs(self, session: Session, ws: Workspace, workflow_id: str, *, now: datetime) -> int:
        reason = "cancelled: the workflow was archived before this run started"
        pending = session.scalars(select(WorkflowRunRow).where(
            WorkflowRunRow.workflow_id == workflow_id, WorkflowRunRow.status.in_(("queued", "waiting")))).all()
        for run in pending:
            run.status, run.finished_at, run.error = "cancelled", now, reason
        # A due job that has not opened its run yet (a schedule, event or threshold firing) opens the run keyed
        # by the job's key: a cancelled run under that key makes the worker find it finished, not start it.
        jobs = session.scalars(select(JobRow).where(JobRow.workspace_id == ws.id, JobRow.kind == "workflow_run",
                                                    JobRow.status == "due")).all()
        opened = 0
        for job in jobs:
            payload = job.payload or {}
            if payload.get("workflow_id") != workflow_id or payload.get("run_id"):
                continue
            if session.scalar(select(WorkflowRunRow.id).where(WorkflowRunRow.idempotency_key == job.key)):
                continue
            version = session.scalar(select(WorkflowRow.version).where(WorkflowRow.id == workflow_id))
            session.add(WorkflowRunRow(
                id=new_id("wfrun"), workspace_id=ws.id, workflow_id=workflow_id, workflow_version=version or 1,
                trigger=str(payload.get("trigger") or "manual")[:16], status="cancelled", queued_at=job.due_at,
                finished_at=now, error=reason, idempotency_key=job.key, context=payload.get("context") or {},
                cursor=0))
            opened += 1
        return len(pending) + opened

    # Changing status --------------------------------------------------------------------------------
    def pause_workflow(
        self, ws: Workspace, workflow_id: str, *, idempotency_key: str, now: datetime
    ) -> WorkflowStatusChange:
        return self._change(ws, workflow_id, "pause", idempotency_key=idempotency_key, now=now)

    def resume_workflow(
        self, ws: Workspace, workflow_id: str, *, idempotency_key: str, now: datetime
    ) -> WorkflowStatusChange:
        return self._change(ws, workflow_id, "resume", idempotency_key=idempotency_key, now=now)

    def _change(
        self,
        ws: Workspace,
        workflow_id: str,
        action: Literal["pause", "resume"],
        *,
        idempotency_key: str,
        now: datetime,
    ) -> WorkflowStatusChange:
        with self._db.transaction() as session:
            earlier = self._by_key(session, ws, WorkflowChangeRow, idempotency_key)
            if earlier is not None:
                row = self._row(session, ws, earlier.workflow_id)
                return WorkflowStatusChange(
                    action="pause" if earlier.action == "pause" else "resume",
                    changed=earlier.changed,
                    workflow=_workflow(row, self._latest_runs(session, ws).get(row.id)),
                )
            row = self._row(session, ws, workflow_id)
            if row.status == "archived":
                raise Conflict(f"Workflow {row.id} is archived: it cannot be paused or resumed any more.")
            target = "paused" if action == "pause" else "active"
            changed = row.status != target
            if changed:
                if action == "resume":
                    # Runs missed while paused are not caught up: the schedule restarts from now.
                    trigger = _definition(row).trigger
                    next_run = self.next_run_at(ws, trigger, now)
                    if isinstance(trigger, OnceTrigger) and next_run is None:
                        raise Conflict(
                            f"Workflow {row.name!r} was due once at {trigger.at.isoformat()}, which "
                            f"has passed: schedule the goal again with a new time."
                        )
                    row.next_run_at = next_run
                else:
                    row.next_run_at = None  # a paused workflow is never due
                row.status = target
                row.updated_at = now
            session.add(
                WorkflowChangeRow(
                    id=new_id("wfchg"),
                    workspace_id=ws.id,
                    workflow_id=row.id,
                    action=action,
                    changed=changed,
                    idempotency_key=idempotency_key,
                    created_at=now,
                )
            )
            session.flush()
            return WorkflowStatusChange(
                action=action,
                changed=changed,
                workflow=_workflow(row, self._latest_runs(session, ws).get(row.id)),
            )

    # Runs -------------------------------------------------------------------------------------------
    def run_workflow(self, ws: Workspace, workflow_id: str, *, idempotency_key: str, now: datetime) -> WorkflowRun:
        """Queue a manual run; the workflow worker executes queued runs."""
        with self._db.transaction() as session:
            existing = self._by_key(session, ws, WorkflowRunRow, idempotency_key)
            if existing is not None:
                return _run(existing, self._row(session, ws, existing.workflow_id).name)
            row = self._row(session, ws, workflow_id)
            if row.status == "archived":
                raise Conflict(f"Workflow {row.id} is archived: it cannot run any more.")
            if row.status != "active":
                raise Conflict(f"Workflow {row.name!r} is paused: resume it first (resume_workflow), then run it.")
            run = WorkflowRunRow(
                id=new_id("wfrun"),
                workspace_id=ws.id,
                workflow_id=row.id,
                workflow_version=row.version,
                trigger="manual",
                status="queued",
                queued_at=now,
                idempotency_key=idempotency_key,
                context={},
                cursor=0,
            )
            session.add(run)
            session.flush()
            # The job a worker claims to execute it; queued in the same transaction so no run is forgotten.
            session.add(JobRow(id=new_id("job"), workspace_id=ws.id, kind="workflow_run", key=f"manual:{run.id}",
                               payload={"run_id": run.id}, due_at=now, status="due", attempts=0,
                               created_at=now))
            return _run(run, row.name)

    def record_run(
        self,
        ws: Workspace,
        workflow_id: str,
        *,
        trigger: RunTrigger,
        status: RunStatus,
        queued_at: datetime,
        started_at: datetime | None = None,
        finished_at: datetime | None = None,
        error: str | None = None,
        idempotency_key: str,
    ) -> WorkflowRun:
        """Write down a run that happened (the worker's record of its work; the sandbox seeds history)."""
        if status == "failed" and not error:
            raise InvalidInput("A failed run needs an error message saying what went wrong.")
        with self._db.transaction() as session:
            existing = self._by_key(session, ws, WorkflowRunRow, idempotency_key)
            if existing is not None:
                return _run(existing, self._row(session, ws, existing.workflow_id).name)
            row = self._row(session, ws, workflow_id)
            run = WorkflowRunRow(
                id=new_id("wfrun"),
                workspace_id=ws.id,
                workflow_id=row.id,
                workflow_version=row.version,
                trigger=trigger,
                status=status,
                queued_at=queued_at,
                started_at=started_at,
                finished_at=finished_at,
                error=error,
                idempotency_key=idempotency_key,
            )
            session.add(run)
            session.flush()
            return _run(run, row.name)

    # Health -----------------------------------------------------------------------------------------
    def system_health(self, ws: Workspace, *, now: datetime) -> SystemHealth:
        try:
            with self._db.transaction() as session:
                session.execute(text("SELECT 1"))
        except SQLAlchemyError as exc:
            log.exception("database unreachable during health check", extra={"workspace_id": ws.id})
            return SystemHealth(
                status="degraded",
                checked_at=now,
                database_reachable=False,
                reasons=[
                    f"the database cannot be reached ({type(exc).__name__}); check the "
                    f"STUDIO_* database settings and that the server is running"
                ],
                workflows_by_status={},
                failed_runs_last_24h=[],
                queued_runs=0,
                workflows=[],
            )
        workflows = self.list_workflows(ws)
        with self._db.transaction() as session:
            names = {w.id: w.name for w in workflows}
            latest = {
                workflow_id: _run(row, names[workflow_id])
                for workflow_id, row in self._latest_runs(session, ws).items()
                if workflow_id in names  # archived workflows are not part of the health picture
            }
        by_status = {"active": 0, "paused": 0}
        for workflow in workflows:
            by_status[workflow.status] = by_status.get(workflow.status, 0) + 1
        recent_failures = [
            run
            for run in self.runs(ws, status="failed", limit=500)
            if (run.finished_at or run.queued_at) >= now - timedelta(hours=24)
        ]
        queued = self.runs(ws, status="queued", limit=500)

        reasons = []
        if recent_failures:
            shown = "; ".join(f"{run.workflow_name}: {run.error}" for run in recent_failures[:3])
            reasons.append(f"{len(recent_failures)} failed run(s) in the last 24 h ({shown})")
        overdue = [
            w
            for w in workflows
            if w.status == "active" and w.next_run_at is not None and w.next_run_at < now - OVERDUE_AFTER
        ]
        if overdue:
            reasons.append(
                f"{len(overdue)} scheduled workflow(s) overdue ({', '.join(w.name for w in overdue)}): "
                f"the scheduler may not be running"
            )
        stuck = [run for run in queued if run.queued_at < now - STUCK_AFTER]
        if stuck:
            reasons.append(f"{len(stuck)} run(s) queued for over an hour: the workflow worker may not be running")
        activity = [
            WorkflowActivity(
                workflow_id=w.id,
                name=w.name,
                status=w.status,
                next_run_at=w.next_run_at,
                last_run=latest.get(w.id),
            )
            for w in workflows
        ]
        return SystemHealth(
            status="degraded" if reasons else "healthy",
            reasons=reasons,
            checked_at=now,
            database_reachable=True,
            workflows_by_status=by_status,
            failed_runs_last_24h=recent_failures,
            queued_runs=len(queued),
            workflows=activity,
        )

    # Helpers ----------------------------------------------------------------------------------------
    def _row(self, session: Session, ws: Workspace, workflow_id: str) -> WorkflowRow:
        row = session.get(WorkflowRow, workflow_id)
        if row is None or row.workspace_id != ws.id:
            raise NotFound(f"There is no workflow {workflow_id!r} in this workspace: list_workflows shows the ids.")
        return row

    def _by_key(self, session: Session, ws: Workspace, model: type[KeyedRow], idempotency_key: str) -> KeyedRow | None:
        row = session.scalar(select(model).where(model.idempotency_key == idempotency_key))
        if row is not None and row.workspace_id != ws.id:
            raise Conflict("This idempotency key was already used in another workspace: use a new key.")
        return row

    def _latest_runs(self, session: Session, ws: Workspace) -> dict[str, WorkflowRunRow]:
        newest = (
            select(WorkflowRunRow.workflow_id, func.max(WorkflowRunRow.queued_at).label("queued_at"))
            .where(WorkflowRunRow.workspace_id == ws.id)
            .group_by(WorkflowRunRow.workflow_id)
            .subquery()
        )
        rows = session.scalars(
            select(WorkflowRunRow)
            .join(
                newest,
                and_(
                    WorkflowRunRow.workflow_id == newest.c.workflow_id,
                    WorkflowRunRow.queued_at == newest.c.queued_at,
                ),
            )
            .where(WorkflowRunRow.workspace_id == ws.id)
        ).all()
        return {row.workflow_id: row for row in rows}


def _clean_name(name: str) -> str:
    name = " ".join(name.split())
    if not name:
        raise InvalidInput("name: give the workflow a name, e.g. 'Weekly content plan'.")
    if len(name) > MAX_NAME_LENGTH:
        raise InvalidInput(f"name: keep it to {MAX_NAME_LENGTH} characters (got {len(name)}).")
    return name


def _pin_zone(ws: Workspace, definition: WorkflowDefinition) -> WorkflowDefinition:
    """Pin the zone the creator meant: moving the workspace later must not move existing schedules."""
    trigger = definition.trigger
    if isinstance(trigger, CronTrigger) and trigger.timezone is None:
        return definition.model_copy(update={"trigger": trigger.model_copy(update={"timezone": ws.timezone})})
    return definition


def _definition(row: WorkflowRow) -> WorkflowDefinition:
    return WorkflowDefinition.model_validate(row.definition, context={"stored": True})


def _workflow(row: WorkflowRow, last_run: WorkflowRunRow | None) -> Workflow:
    definition = _definition(row)
    # Validated as stored data: the steps were checked against the tool catalogue when they were saved.
    return Workflow.model_validate(
        {
            "id": row.id,
            "name": row.name,
            "status": row.status,
            "version": row.version,
            "trigger": definition.trigger,
            "steps": definition.steps,
            "next_run_at": row.next_run_at,
            "last_run_at": last_run.queued_at if last_run else None,
            "last_run_status": last_run.status if last_run else None,
            "created_at": row.created_at,
            "archived_at": row.archived_at,
        },
        context={"stored": True},
    )


def _run(row: WorkflowRunRow, workflow_name: str) -> WorkflowRun:
    return WorkflowRun(
        id=row.id,
        workflow_id=row.workflow_id,
        workflow_name=workflow_name,
        workflow_version=row.workflow_version,
        trigger=row.trigger,
        status=row.status,
        queued_at=row.queued_at,
        started_at=row.started_at,
        finished_at=row.finished_at,
        error=row.error,
    )
