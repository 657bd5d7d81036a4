"""`studio demo` / `make demo`: three goals end to end on a fresh sandbox workspace, with the state they leave."""

from __future__ import annotations

import tempfile
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.markup import escape
from rich.panel import Panel
from rich.table import Table

from creator_studio.api.background import DemoDashboard
from creator_studio.errors import InvalidInput
from creator_studio.runs.approvals import ApprovalDecision
from creator_studio.runs.runner import Runner, RunOutcome
from creator_studio.sandbox.bootstrap import create_workspace
from creator_studio.settings import Settings
from creator_studio.studio import Studio

SINGLE_AGENT = "Draft a Bluesky post about my new course and schedule it for Friday 9am"
PARALLEL = "Create a $29/month membership and a payment link, and reply to unanswered questions on Mastodon"
REJECTED = "Publish a LinkedIn post about the January cohort now"
REJECTION_REASON = "Not yet: the landing page is not live"


def run_demo(console: Console, home: str | None, *, dashboard: bool = False) -> None:
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
    live = DemoDashboard(console, enabled=dashboard)  # the dashboard URL while the demo runs
    try:
        live.start(studio, "default")
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
        live.stop()
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


# -- The simulated month: `studio demo --days 30 --seed 7` -------------------------------------------------
SIMULATION_START = datetime(2026, 11, 2, 7, 0, tzinfo=UTC)  # a fixed start: the same seed draws the same month


def run_simulated_month(console: Console, home: str | None, *, days: int, seed: int, dashboard: bool = False
                        ) -> Path:
    """The three integration-map workflows in a seeded simulated month, approvals by workspace policy; ends with
    a table per module and a PNG chart of followers and MRR. Returns the chart's path.

    Each workflow is an Automation Lab template run by the workflow engine (its steps are step runs, listed by
    `studio workflows runs`); its waits move the world's clock."""
    import time

    from creator_studio.sandbox.workflows import AUTO_APPROVE, acquisition, community, revenue_optimisation
    from creator_studio.sandbox.workflows.run import WorkflowReport, steps_in_order
    from creator_studio.sandbox.world import World

    if not 1 <= days <= 366:
        raise InvalidInput(f"--days must be between 1 and 366 (got {days}).")
    studio_home = Path(home).expanduser() if home else Settings().home
    studio_home.mkdir(parents=True, exist_ok=True)
    (studio_home / "simulated-month").mkdir(exist_ok=True)
    base = Path(tempfile.mkdtemp(prefix=f"seed-{seed}-", dir=studio_home / "simulated-month"))
    studio = Studio.open(Settings(home=base, model="offline"))
    studio.clock = lambda: SIMULATION_START
    began = time.monotonic()
    live = DemoDashboard(console, enabled=dashboard)  # the dashboard URL while the month runs
    try:
        ws = create_workspace(studio, "default")
        ws = studio.workspaces.update(ws.id, auto_approve=AUTO_APPROVE)
        console.print(Panel(f"Workspace in {base}\nSeed {seed}, {days} simulated days from "
                            f"{SIMULATION_START:%d %b %Y}. Approvals by policy: {', '.join(AUTO_APPROVE)}.",
                            title="Creator Studio: the simulated month"))
        live.start(studio, ws.id)
        world = World(studio, ws, seed=seed)
        flows: list[tuple[list[Any], WorkflowReport]] = []
        plan: list[tuple[str, list[Any], Callable[..., WorkflowReport]]] = [
            ("acquisition", acquisition.STEPS, acquisition.run_follower_acquisition),
            ("community", community.STEPS, community.run_community_monetisation),
            ("revenue", revenue_optimisation.STEPS, revenue_optimisation.run_revenue_optimisation)]
        for number, (name, steps, run) in enumerate(plan, start=1):
            console.rule(f"{number} · {name}")
            report = run(studio, ws, world, correlation_id=f"{name}-seed{seed}")
            flows.append((steps, report))
            console.print(f"{report.workflow}: ten steps done by day {(world.now - world.started_at).days} "
                          f"(workflow run {report.run_id}); ${report.attributed_revenue_cents / 100:,.2f} credited "
                          f"to {report.starting_post_id}")
        remaining = days - (world.now - world.started_at).days
        if remaining > 0:
            console.print(f"The world runs the remaining {remaining} days…")
            world.run(days=remaining)
        for steps, report in flows:
            events = studio.events.query(ws.id, correlation_id=report.correlation_id, limit=10_000)
            _workflow_table(console, report, steps, steps_in_order(events, steps))
        _module_tables(console, studio, world)
        chart = _chart(world, studio_home / f"simulated-month-seed{seed}.png")
        console.print(f"Simulated {(world.now - world.started_at).days} days in {time.monotonic() - began:.0f} s. "
                      f"Chart of followers and MRR: [bold]{chart}[/bold]")
        return chart
    finally:
        live.stop()
        studio.close()


def _workflow_table(console: Console, report: Any, steps: list[Any], events: list[Any]) -> None:
    table = Table(title=f"Automation Lab · {report.workflow} ({report.correlation_id}): "
                        f"${report.attributed_revenue_cents / 100:,.2f} credited to post {report.starting_post_id}")
    for column in ("#", "step", "event", "simulated time"):
        table.add_column(column, overflow="fold")
    for number, (step, event) in enumerate(zip(steps, events, strict=True), start=1):
        table.add_row(str(number), escape(step.name), event.type,
                      event.occurred_at.strftime("%d %b %H:%M"))
    console.print(table)


def _module_tables(console: Console, studio: Studio, world: Any) -> None:
    first, last = world.history[0], world.history[-1]
    stats = world.stats

    def table(title: str, rows: list[tuple[str, str]]) -> None:
        out = Table(title=title)
        out.add_column("measure")
        out.add_column("value", justify="right")
        for name, value in rows:
            out.add_row(name, value)
        console.print(out)

    posts = list(world.posts.values())
    table("Content Studio", [
        ("posts published", str(len(posts))),
        ("impressions", f"{sum(p.totals.impressions for p in posts):,}"),
        ("likes / reposts / clicks", " / ".join(f"{sum(getattr(p.totals, name) for p in posts):,}"
                                                for name in ("likes", "reposts", "clicks"))),
    ])
    table("Audience Hub", [
        ("followers", f"{first.followers:,} → {last.followers:,}"),
        ("comments", f"{stats.comments:,} ({', '.join(f'{k} {v}' for k, v in sorted(stats.comment_kinds.items()))})"),
        ("email subscribers", f"{first.subscribers:,} → {last.subscribers:,}"),
        ("emails opened / clicked / unsubscribes", f"{stats.emails_opened} / {stats.emails_clicked} / "
                                                   f"{stats.unsubscribes}"),
    ])
    table("Revenue Center", [
        ("MRR", f"${first.mrr_cents / 100:,.2f} → ${last.mrr_cents / 100:,.2f}"),
        ("revenue in the month", f"${stats.revenue_cents / 100:,.2f}"),
        ("purchases / renewals / upgrades", f"{stats.purchases} / {stats.renewals} / {stats.upgrades}"),
        ("payment failures / churned", f"{stats.payment_failures} / {stats.churned}"),
    ])
    counts: dict[str, int] = {}
    for event in studio.events.query(world.ws.id, since=world.started_at, limit=1_000_000):
        counts[event.type] = counts.get(event.type, 0) + 1
    table("Events (all modules)", [(name, str(count)) for name, count in sorted(counts.items())])


def _chart(world: Any, path: Path) -> Path:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    days = [(s.day - world.started_at).total_seconds() / 86_400 for s in world.history]
    figure, followers_axis = plt.subplots(figsize=(9, 4.5))
    followers_axis.plot(days, [s.followers for s in world.history], color="tab:blue", label="followers")
    followers_axis.set_xlabel("simulated day")
    followers_axis.set_ylabel("followers (all platforms)", color="tab:blue")
    mrr_axis = followers_axis.twinx()
    mrr_axis.plot(days, [s.mrr_cents / 100 for s in world.history], color="tab:green", label="MRR ($)")
    mrr_axis.set_ylabel("MRR ($)", color="tab:green")
    followers_axis.set_title(f"The simulated month (seed {world.seed})")
    figure.tight_layout()
    figure.savefig(path, dpi=110)
    plt.close(figure)
    return path
