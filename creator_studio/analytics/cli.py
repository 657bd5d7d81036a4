"""`studio analytics ...`: the periodic rollup (run it from cron or a schedule) and a look at a metric."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from creator_studio.cli_support import open_workspace

analytics_app = typer.Typer(help="Event-fed metrics: rollups, anomaly alerts, series.", no_args_is_help=True)
console = Console()
WorkspaceOption = Annotated[str | None, typer.Option("--workspace", "-w", help="Workspace id (STUDIO_WORKSPACE).")]


def register(app: typer.Typer) -> None:
    app.add_typer(analytics_app, name="analytics")


@analytics_app.command("rollup")
def rollup(workspace: WorkspaceOption = None) -> None:
    """Fold new metric points into the daily rollups and raise alerts for new anomalies."""
    with open_workspace(workspace) as (studio, ws):
        as_of, raised = studio.analytics.rollup(ws.id, now=studio.now())
        console.print(f"Rolled up {ws.id} as of {as_of.isoformat()}; {len(raised)} new alert(s).")
        for alert in raised:
            console.print(f"  {alert.metric} {alert.day.date()}: {alert.value:g} (robust z {alert.robust_z:+.1f})")


@analytics_app.command("series")
def series(metric: str, workspace: WorkspaceOption = None, days: int = 14, dimension: str = "all",
           value: str = "") -> None:
    """Daily values of one metric (as of the last rollup)."""
    with open_workspace(workspace) as (studio, ws):
        now = studio.now()
        found = studio.analytics.store.series(ws.id, metric, dimension=dimension, dimension_value=value,
                                              since=now - timedelta(days=days), until=now)
        table = Table(title=f"{metric} ({dimension} {value}) as of {found.as_of or 'never rolled up'}")
        table.add_column("day")
        table.add_column("value", justify="right")
        table.add_column("points", justify="right")
        for point in found.points:
            table.add_row(point.day.date().isoformat(), f"{point.value:g}", str(point.count))
        console.print(table)
