"""`studio demo` / `make demo`: three goals end to end on a fresh sandbox workspace, with the state they leave."""

from __future__ import annotations

import tempfile
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.markup import escape
from rich.panel import Panel
from rich.table import Table

from creator_studio.runs.approvals import ApprovalDecision
from creator_studio.runs.runner import Runner, RunOutcome
from creator_studio.sandbox.bootstrap import create_workspace
from creator_studio.settings import Settings
from creator_studio.studio import Studio

SINGLE_AGENT = "Draft a Bluesky post about my new course and schedule it for Friday 9am"
PARALLEL = "Create a $29/month membership and a payment link, and reply to unanswered questions on Mastodon"
REJECTED = "Publish a LinkedIn post about the January cohort now"
REJECTION_REASON = "Not yet: the landing page is not live"


def run_demo(console: Console, home: str | None) -> None:
    from creator_studio.cli import EventPrinter, print_outcome

    base = Path(home) if home else Path(tempfile.mkdtemp(prefix="creator-studio-demo-"))
    settings = Settings(home=base, model="offline")
    studio = Studio.open(settings)
    if not studio.workspaces.exists("default"):
        create_workspace(studio, "default")
    runner = Runner(studio)
    printer = EventPrinter(console)
    console.print(Panel(f"Workspace in {base}\nModel: offline planner (deterministic NLU + templates, not a "
                        f"generative LLM). No API keys, no network.", title="Creator Studio demo"))
    try:
        console.rule("1 · one agent: draft and schedule (approved)")
        outcome = _run_deciding(console, runner, printer, SINGLE_AGENT, approve=True)
        print_outcome(outcome, console)

        console.rule("2 · two agents in parallel: revenue + audience (approved)")
        outcome = _run_deciding(console, runner, printer, PARALLEL, approve=True)
        print_outcome(outcome, console)
        _show_overlap(console, outcome)

        console.rule("3 · an action the creator rejects")
        outcome = _run_deciding(console, runner, printer, REJECTED, approve=False)
        print_outcome(outcome, console)

        console.rule("The state these runs left behind")
        _show_state(console, studio)
    finally:
        runner.close()
        studio.close()


def _run_deciding(console: Console, runner: Runner, printer: Callable[[dict[str, Any]], None], goal: str,
                  *, approve: bool) -> RunOutcome:
    console.print(f"[bold]Goal:[/bold] {goal}")
    outcome = runner.start(goal, on_event=printer, source="demo")
    while outcome.status == "waiting_approval":
        for approval in outcome.pending_approvals:
            verdict = "approves" if approve else f"rejects ({REJECTION_REASON})"
            console.print(Panel(escape(approval.preview), title=f"approval {approval.id}: {approval.tool}",
                                subtitle=f"the creator {verdict}"))
            decision = ApprovalDecision(decision="approve") if approve else ApprovalDecision(
                decision="reject", reason=REJECTION_REASON)
            runner.decide(approval.id, decision, resume=False)
        outcome = runner.resume(outcome.run_id, on_event=printer)
    return outcome


def _show_overlap(console: Console, outcome: RunOutcome) -> None:
    spans: dict[str, tuple[datetime, datetime]] = {}
    for step in outcome.steps:
        start, end = spans.get(step.agent, (step.started_at, step.ended_at))
        spans[step.agent] = (min(start, step.started_at), max(end, step.ended_at))
    table = Table(title="Agents ran side by side (first run of each, from the trajectory)")
    for column in ("agent", "started", "ended"):
        table.add_column(column)
    for agent, (start, end) in spans.items():
        table.add_row(agent, start.strftime("%H:%M:%S.%f")[:-3], end.strftime("%H:%M:%S.%f")[:-3])
    console.print(table)


def _show_state(console: Console, studio: Studio) -> None:
    ws = studio.workspaces.get("default")
    now = studio.now()
    from creator_studio.content.service import default_calendar_window

    start, end = default_calendar_window(now)
    calendar = Table(title="Content calendar (scheduled)")
    for column in ("when", "platform", "status", "text"):
        calendar.add_column(column, overflow="fold")
    for entry in studio.content.calendar(ws, start, end):
        if entry.kind == "scheduled":
            calendar.add_row(entry.at.astimezone(ws.zone).strftime("%a %d %b %H:%M"), entry.platform, entry.status,
                             escape(entry.text))
    console.print(calendar)
    replies = Table(title="Mastodon comments and their replies")
    for column in ("from", "comment", "reply"):
        replies.add_column(column, overflow="fold")
    for comment in studio.social.comments(ws.id, platform="mastodon"):
        replies.add_row(escape(comment.author_name), escape(comment.text),
                        escape(comment.reply_text) if comment.reply_text else "[dim]—[/dim]")
    console.print(replies)
    ledger = Table(title="Side-effect ledger (each happened once)")
    for column in ("tool", "status", "attempts", "run"):
        ledger.add_column(column)
    for effect in studio.ledger.entries(workspace_id=ws.id):
        ledger.add_row(effect.tool, effect.status, str(effect.attempts), effect.run_id or "")
    console.print(ledger)
