"""The Automation Lab's part of the sandbox world: two workflows with a few weeks of run history."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from creator_studio.automation.definitions import WorkflowDefinition
from creator_studio.workspaces.service import Workspace

WEEKLY_PLAN = "Weekly content plan"
PAYMENT_FOLLOW_UP = "Payment failed follow-up"

DEFINITIONS: dict[str, dict[str, Any]] = {
    WEEKLY_PLAN: {
        "trigger": {"type": "cron", "cron": "0 9 * * 1"},
        "steps": [{"type": "goal", "goal": "plan this week's content"}],
    },
    PAYMENT_FOLLOW_UP: {
        "trigger": {"type": "event", "event": "revenue.payment_failed"},
        "steps": [
            {
                "type": "tool",
                "tool": "start_email_sequence",
                "args": {"sequence": "payment-recovery", "subscriber_ids": ["{{event.subscriber_id}}"]},
            }
        ],
    },
}

PAYMENT_FAILURE_ERROR = (
    "start_email_sequence failed: subscriber 'sub_4821' has unsubscribed from email, so the "
    "payment-recovery sequence was not sent; contact them another way."
)


def seed_automation_world(studio: object, ws: Workspace, now: datetime) -> None:
    """Seed this module's part of the default sandbox world."""
    from creator_studio.studio import Studio

    assert isinstance(studio, Studio)
    automation = studio.automation
    created = now - timedelta(days=21)
    workflows = {}
    for name, data in DEFINITIONS.items():
        # Trusted like a stored definition: a unit test checks these against the live tool catalogue, so the
        # seed does not depend on the order in which tool modules are finished.
        definition = WorkflowDefinition.model_validate(data, context={"stored": True})
        slug = name.lower().replace(" ", "-")
        workflows[name] = automation.create_workflow(
            ws, name=name, definition=definition, idempotency_key=f"seed:{ws.id}:workflow:{slug}", now=created
        )

    # The weekly plan ran on the last two Mondays at 09:00 in the workspace's zone.
    plan = workflows[WEEKLY_PLAN]
    local_now = now.astimezone(ws.zone)
    last_monday = (local_now - timedelta(days=local_now.weekday())).replace(hour=9, minute=0, second=0, microsecond=0)
    if last_monday >= local_now:
        last_monday -= timedelta(days=7)
    for weeks_ago in (1, 0):
        at = last_monday - timedelta(weeks=weeks_ago)
        automation.record_run(
            ws,
            plan.id,
            trigger="cron",
            status="succeeded",
            queued_at=at,
            started_at=at,
            finished_at=at + timedelta(minutes=4),
            idempotency_key=f"seed:{ws.id}:run:weekly-plan:{weeks_ago}",
        )
    automation.advance_schedule(ws, plan.id, after=now)

    # Two failed payments: the first follow-up went out, the second one failed six hours ago.
    follow_up = workflows[PAYMENT_FOLLOW_UP]
    five_days_ago = now - timedelta(days=5, hours=3)
    automation.record_run(
        ws,
        follow_up.id,
        trigger="event",
        status="succeeded",
        queued_at=five_days_ago,
        started_at=five_days_ago,
        finished_at=five_days_ago + timedelta(seconds=20),
        idempotency_key=f"seed:{ws.id}:run:payment-follow-up:0",
    )
    six_hours_ago = now - timedelta(hours=6)
    automation.record_run(
        ws,
        follow_up.id,
        trigger="event",
        status="failed",
        queued_at=six_hours_ago,
        started_at=six_hours_ago,
        finished_at=six_hours_ago + timedelta(seconds=3),
        error=PAYMENT_FAILURE_ERROR,
        idempotency_key=f"seed:{ws.id}:run:payment-follow-up:1",
    )
