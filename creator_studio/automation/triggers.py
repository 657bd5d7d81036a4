"""Event and threshold triggers: deciding that a workflow should run, and queueing that run as a job.

- Event triggers: the Automation Lab subscribes to every event; an event whose type and filter match an
  active workflow queues one run, keyed by event id and workflow (a redelivered event queues nothing new).
- Threshold triggers: a metric crossing its value over its window. The last reading's side (above or below)
  is kept on the workflow; the run is queued when the side changes to the one the trigger watches for, so a
  metric that stays low starts the workflow once, not at every check.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import select

from creator_studio.automation.definitions import EventTrigger, ThresholdTrigger, WorkflowDefinition
from creator_studio.automation.engine import lookup
from creator_studio.automation.jobs import JobStore, NewJob
from creator_studio.automation.metrics import MetricSource, window_of
from creator_studio.automation.models import JobRow, WorkflowRow
from creator_studio.events.schemas import Event
from creator_studio.logs import get_logger
from creator_studio.store.db import new_id

if TYPE_CHECKING:
    from creator_studio.studio import Studio

log = get_logger("automation.triggers")


def event_matches(trigger: EventTrigger, event: Event) -> bool:
    if trigger.event != event.type:
        return False
    return all(lookup(event.data, key) == expected for key, expected in (trigger.filter or {}).items())


def event_context(event: Event) -> dict[str, Any]:
    """What `{{event.x}}` and `event.x` conditions read: the payload, plus the envelope's id, type and time."""
    return {"event": {**event.data, "id": event.id, "type": event.type,
                      "occurred_at": event.occurred_at.isoformat()}}


class TriggerRouter:
    def __init__(self, studio: Studio, jobs: JobStore, metrics: MetricSource) -> None:
        self.studio = studio
        self.jobs = jobs
        self.metrics = metrics

    # Events -----------------------------------------------------------------------------------------
    def on_event(self, event: Event) -> int:
        """Queue a run of each active workflow this event triggers; returns how many were queued."""
        if event.source == "automation" and event.type == "system.workflow_completed":
            # A workflow may react to another's completion, but never to its own (no endless loops).
            own = event.data.get("workflow_id")
        else:
            own = None
        jobs = []
        for workflow_id, definition in self._active(event.workspace_id, "event"):
            trigger = definition.trigger
            if workflow_id == own or not isinstance(trigger, EventTrigger) or not event_matches(trigger, event):
                continue
            jobs.append(NewJob(workspace_id=event.workspace_id, kind="workflow_run",
                               key=f"event:{event.id}:{workflow_id}", due_at=event.occurred_at,
                               payload={"workflow_id": workflow_id, "trigger": "event",
                                        "context": event_context(event)}))
        return self.jobs.enqueue(jobs, now=self.studio.now())

    # Thresholds -------------------------------------------------------------------------------------
    def check_thresholds(self, now: datetime) -> int:
        """Read each threshold workflow's metric; queue a run where it crossed. Returns how many were queued."""
        queued = 0
        with self.studio.db.transaction() as session:
            rows = session.scalars(select(WorkflowRow).where(WorkflowRow.status == "active",
                                                             WorkflowRow.trigger_type == "threshold")).all()
            for row in rows:
                definition = WorkflowDefinition.model_validate(row.definition, context={"stored": True})
                trigger = definition.trigger
                assert isinstance(trigger, ThresholdTrigger)
                value = self.metrics.read(row.workspace_id, trigger.metric, window=window_of(trigger.window),
                                          now=now)
                if value is None:
                    continue
                side = "below" if value < trigger.value else "above" if value > trigger.value else "at"
                wanted = "below" if trigger.op == "<" else "above"
                previous = (row.trigger_state or {}).get("side")
                row.trigger_state = {"side": side, "value": value, "at": now.isoformat()}
                if side != wanted or previous == wanted:
                    continue
                log.info("threshold crossed", extra={"workspace_id": row.workspace_id, "workflow_id": row.id,
                                                     "metric": trigger.metric, "value": value})
                # Queued in the same transaction that stores the new side: a crossing is never lost nor doubled.
                session.add(JobRow(
                    id=new_id("job"), workspace_id=row.workspace_id, kind="workflow_run",
                    key=f"threshold:{row.id}:{now.isoformat()}", due_at=now, status="due", attempts=0,
                    created_at=now,
                    payload={"workflow_id": row.id, "trigger": "threshold", "context": {"event": {
                        "metric": trigger.metric, "value": value, "threshold": trigger.value,
                        "direction": "down" if wanted == "below" else "up"}}}))
                queued += 1
        return queued

    def _active(self, workspace_id: str, trigger_type: str) -> list[tuple[str, WorkflowDefinition]]:
        with self.studio.db.transaction() as session:
            rows = session.execute(select(WorkflowRow.id, WorkflowRow.definition).where(
                WorkflowRow.workspace_id == workspace_id, WorkflowRow.status == "active",
                WorkflowRow.trigger_type == trigger_type)).all()
        return [(workflow_id, WorkflowDefinition.model_validate(raw, context={"stored": True}))
                for workflow_id, raw in rows]
