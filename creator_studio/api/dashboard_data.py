"""What the Command Center page shows, gathered through the modules' public services.

Everything here is plain data for the templates: tiles, 30-day series (drawn as inline SVG), alerts, the
calendar and a run's timeline. Building it reads the database only, so it is cheap enough to redo on every
live update.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from creator_studio.command_center.service import DashboardSummary
from creator_studio.content.service import CalendarEntry
from creator_studio.logs import get_logger
from creator_studio.providers.payments.base import CURRENCY_DECIMALS
from creator_studio.runs.approvals import Approval
from creator_studio.runs.records import RunRecord, Step
from creator_studio.studio import Studio
from creator_studio.tools.base import ToolContext
from creator_studio.workspaces.service import Workspace

log = get_logger("api.dashboard")
CHART_DAYS = 30


@dataclass(frozen=True)
class Tile:
    key: str
    label: str
    value: str
    detail: str
    tone: str = "neutral"  # neutral | good | bad


@dataclass(frozen=True)
class Series:
    key: str
    label: str
    unit: str
    points: list[tuple[date, float]]

    @property
    def summary(self) -> str:
        if not self.points:
            return f"{self.label}: no data"
        values = [v for _, v in self.points]
        return (f"{self.label}, last {len(values)} days: from {values[0]:g} to {values[-1]:g}{self.unit}, "
                f"highest {max(values):g}{self.unit}")


@dataclass(frozen=True)
class Alert:
    level: str  # info | warning | error
    text: str


@dataclass(frozen=True)
class TimelineStep:
    agent: str
    label: str
    kind: str
    status: str
    summary: str
    duration_ms: float
    offset_ms: float
    tokens: int


@dataclass
class Timeline:
    run: RunRecord | None
    steps: list[TimelineStep] = field(default_factory=list)
    model_calls: int = 0
    total_ms: float = 0.0


def _summary(studio: Studio, ws: Workspace, period: str = "30d") -> DashboardSummary:
    ctx = ToolContext(studio=studio, workspace=ws, agent="dashboard", now=studio.now())
    return studio.command_center.dashboard(ws, accounts=studio.social.accounts(ws.id), period=period,
                                           since=ctx.period_start(period), now=ctx.now)


def follower_growth(studio: Studio, ws: Workspace, since: datetime) -> int:
    """Followers gained since `since`, from audience.follower_gained events (the provider keeps no history)."""
    events = studio.events.query(ws.id, types=["audience.follower_gained"], since=since, limit=10_000)
    return sum(int(e.data.get("count", 1)) for e in events)


def failed_runs(studio: Studio, ws: Workspace, since: datetime) -> list[RunRecord]:
    return [r for r in studio.runs.recent(ws.id, status="failed", limit=50) if r.updated_at >= since]


def tiles(studio: Studio, ws: Workspace) -> list[Tile]:
    summary = _summary(studio, ws)
    now = studio.now()
    growth = follower_growth(studio, ws, summary.since)
    platforms = ", ".join(f"{f.platform} {f.followers:,}" for f in summary.audience.by_platform) or "no accounts"
    growth_text = f"+{growth:,} in 30 days"
    revenue = summary.revenue
    churn = "n/a" if revenue.churn_rate is None else f"{revenue.churn_rate:.1%}"
    automation = summary.automation
    failures = failed_runs(studio, ws, now - timedelta(hours=24))
    errors = len(failures) + automation.failed_runs_last_24h
    return [
        Tile("followers", "Followers", f"{summary.audience.total_followers:,}", f"{growth_text} · {platforms}",
             "good" if growth else "neutral"),
        Tile("engagement", "Engagement rate", f"{summary.engagement.engagement_rate:.2%}",
             f"{summary.engagement.comments} comments, {summary.engagement.unanswered_questions} unanswered "
             "questions (30 days)"),
        Tile("revenue", "MRR", revenue.mrr.formatted,
             f"churn {churn} · {revenue.active_subscribers} paying · {revenue.new_subscribers} new (30 days)",
             "bad" if (revenue.churn_rate or 0) > 0.05 else "neutral"),
        Tile("workflows", "Active workflows", str(automation.active_workflows),
             f"{automation.paused_workflows} paused · health {automation.health}",
             "bad" if automation.health != "healthy" else "good"),
        Tile("errors", "Errors (24 h)", str(errors),
             f"{len(failures)} failed runs, {automation.failed_runs_last_24h} failed workflow runs",
             "bad" if errors else "good"),
    ]


def series(studio: Studio, ws: Workspace) -> list[Series]:
    now = studio.now()
    local_today = now.astimezone(ws.zone).date()
    days = [local_today - timedelta(days=CHART_DAYS - 1 - i) for i in range(CHART_DAYS)]
    since = now - timedelta(days=CHART_DAYS)
    engagements: Counter[date] = Counter()
    for post in studio.content.performance(ws, since=since):
        engagements[post.published_at.astimezone(ws.zone).date()] += post.likes + post.reposts + post.replies
    comments: Counter[date] = Counter(c.created_at.astimezone(ws.zone).date()
                                      for c in studio.engagement.comments(ws, since=since))
    currency = studio.revenue.metrics(ws, since=since, now=now).currency
    mrr: list[tuple[date, float]] = []
    for day in days:
        end_of_day = datetime.combine(day + timedelta(days=1), datetime.min.time(), ws.zone)
        at = min(end_of_day, now)
        amount = studio.revenue.mrr_at(ws, at).get(currency, 0)
        mrr.append((day, amount / 10 ** CURRENCY_DECIMALS.get(currency.lower(), 2)))
    return [
        Series("engagements", "Engagements per day", "", [(d, float(engagements[d])) for d in days]),
        Series("comments", "Comments per day", "", [(d, float(comments[d])) for d in days]),
        Series("mrr", f"MRR ({currency.upper()})", "", mrr),
    ]


def svg_path(points: list[tuple[date, float]], width: int = 300, height: int = 80) -> dict[str, Any]:
    """Coordinates for an inline SVG line chart (server-side: no chart library in the browser)."""
    values = [v for _, v in points] or [0.0]
    top = max(values) or 1.0
    step = width / max(len(values) - 1, 1)
    coords = [(round(i * step, 1), round(height - (v / top) * (height - 4) - 2, 1)) for i, v in enumerate(values)]
    line = " ".join(f"{x},{y}" for x, y in coords)
    return {"line": line, "area": f"0,{height} {line} {width},{height}", "width": width, "height": height,
            "max": top, "last": values[-1]}


def alerts(studio: Studio, ws: Workspace, pending: list[Approval]) -> list[Alert]:
    now = studio.now()
    found: list[Alert] = []
    if pending:
        found.append(Alert("info", f"{len(pending)} action(s) wait for your approval."))
    for run in failed_runs(studio, ws, now - timedelta(hours=24))[:5]:
        found.append(Alert("error", f"Run failed: {run.goal[:80]} — {run.error or 'no detail'}"))
    health = studio.automation.system_health(ws, now=now)
    found += [Alert("warning", reason) for reason in health.reasons]
    return found


def calendar(studio: Studio, ws: Workspace, days: int = 14) -> list[tuple[date, list[CalendarEntry]]]:
    now = studio.now()
    entries = studio.content.calendar(ws, now - timedelta(days=1), now + timedelta(days=days))
    by_day: dict[date, list[CalendarEntry]] = {}
    for entry in entries:
        by_day.setdefault(entry.at.astimezone(ws.zone).date(), []).append(entry)
    return sorted(by_day.items())


def timeline(studio: Studio, ws: Workspace, run_id: str | None = None) -> Timeline:
    if run_id is not None:
        run = studio.runs.get(run_id, ws.id)
    else:
        recent = studio.runs.recent(ws.id, limit=1)
        if not recent:
            return Timeline(run=None)
        run = recent[0]
    steps: list[Step] = studio.runs.steps(run.id)
    if not steps:
        return Timeline(run=run)
    start = min(s.started_at for s in steps)
    end = max(s.ended_at for s in steps)
    view = [TimelineStep(agent=s.agent, label=s.tool or ("model call" if s.kind == "model" else s.kind),
                         kind=s.kind, status=s.status, summary=s.summary, duration_ms=round(s.duration_ms, 1),
                         offset_ms=round((s.started_at - start).total_seconds() * 1000, 1),
                         tokens=s.prompt_tokens + s.completion_tokens) for s in steps]
    return Timeline(run=run, steps=view, model_calls=sum(1 for s in steps if s.kind == "model"),
                    total_ms=round(max((end - start).total_seconds() * 1000, 1.0), 1))
