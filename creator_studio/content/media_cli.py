"""`studio media ...`: make branded images, narrated videos and audio snippets, one at a time or in batches."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Literal

import typer
import yaml
from pydantic import BaseModel, Field, ValidationError, model_validator
from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from creator_studio.cli_support import open_workspace
from creator_studio.content.media import MediaAsset
from creator_studio.errors import StudioError
from creator_studio.studio import Studio
from creator_studio.workspaces.service import Workspace

media_app = typer.Typer(help="Branded images, narrated videos and audio snippets.", no_args_is_help=True)
console = Console()
errors = Console(stderr=True)
WorkspaceOption = Annotated[str | None, typer.Option("--workspace", "-w", help="Workspace id (STUDIO_WORKSPACE).")]


def register(app: typer.Typer) -> None:
    app.add_typer(media_app, name="media")


class MediaJob(BaseModel):
    """One line of a batch file."""

    model_config = {"extra": "forbid"}

    kind: Literal["image", "video", "audio"]
    prompt: str | None = Field(default=None, description="image: the card's text")
    style: str | None = None
    platform: str | None = None
    format: Literal["square", "landscape", "story"] | None = None
    script: str | None = None
    topic: str | None = None
    preset: Literal["vertical_short", "square_feed"] = "vertical_short"
    duration_s: int = Field(default=30, ge=5, le=600)

    @model_validator(mode="after")
    def _has_source(self) -> MediaJob:
        if self.kind == "image" and not self.prompt:
            raise ValueError("an image needs a prompt")
        if self.kind != "image" and not (self.script or self.topic):
            raise ValueError(f"a {self.kind} needs a script or a topic")
        return self


def _make(studio: Studio, ws: Workspace, job: MediaJob) -> MediaAsset:
    write = studio.writer.write
    if job.kind == "image":
        return studio.media.generate_image(ws, prompt=job.prompt or "", style=job.style, platform=job.platform,
                                           image_format_name=job.format)
    if job.kind == "video":
        return studio.media.generate_video(ws, write, script=job.script, topic=job.topic, duration_s=job.duration_s,
                                           preset=job.preset, style=job.style)
    return studio.media.generate_audio(ws, write, script=job.script, topic=job.topic)


def _show(assets: list[MediaAsset]) -> None:
    table = Table(title="Media")
    for column in ("id", "kind", "size", "duration", "path"):
        table.add_column(column, overflow="fold")
    for asset in assets:
        d = asset.details
        size = f"{d['width']}×{d['height']}" if "width" in d else ""
        duration = f"{float(str(d['duration_s'])):.1f}s" if "duration_s" in d else ""
        table.add_row(asset.id, asset.kind, size, duration, asset.path)
    console.print(table)


@media_app.command("image")
def image(prompt: Annotated[str, typer.Argument(help="The card's text.")],
          platform: Annotated[str | None, typer.Option(help="Size for this platform's feed.")] = None,
          format: Annotated[str | None, typer.Option("--format", help="square, landscape or story.")] = None,
          style: Annotated[str | None, typer.Option(help="bold, minimal or the brand's default.")] = None,
          workspace: WorkspaceOption = None) -> None:
    """Render a branded image card (PNG)."""
    with open_workspace(workspace) as (studio, ws):
        _show([studio.media.generate_image(ws, prompt=prompt, style=style, platform=platform,
                                           image_format_name=format)])


@media_app.command("video")
def video(script: Annotated[str | None, typer.Option(help="The narration, as written.")] = None,
          topic: Annotated[str | None, typer.Option(help="A topic: the writer drafts the narration.")] = None,
          preset: Annotated[str, typer.Option(help="vertical_short or square_feed.")] = "vertical_short",
          duration: Annotated[int, typer.Option("--duration", help="Target seconds.")] = 30,
          workspace: WorkspaceOption = None) -> None:
    """Make a narrated video (MP4 with captions, plus its SRT and an M4A of the narration)."""
    job = _job({"kind": "video", "script": script, "topic": topic, "preset": preset, "duration_s": duration})
    with open_workspace(workspace) as (studio, ws), console.status("Rendering the video…"):
        asset = _make(studio, ws, job)
    _show([asset])


@media_app.command("audio")
def audio(script: Annotated[str | None, typer.Option(help="The narration, as written.")] = None,
          topic: Annotated[str | None, typer.Option(help="A topic: the writer drafts the narration.")] = None,
          workspace: WorkspaceOption = None) -> None:
    """Make a narrated audio snippet (M4A)."""
    job = _job({"kind": "audio", "script": script, "topic": topic})
    with open_workspace(workspace) as (studio, ws):
        _show([_make(studio, ws, job)])


@media_app.command("list")
def list_media(kind: Annotated[str | None, typer.Option(help="image, video or audio.")] = None,
               workspace: WorkspaceOption = None) -> None:
    """The workspace's media assets."""
    with open_workspace(workspace) as (studio, ws):
        _show(studio.media.assets(ws, kind=kind))


@media_app.command("batch")
def batch(file: Annotated[Path, typer.Argument(help="YAML or JSON: a list of jobs (kind: image|video|audio, ...).")],
          workspace: WorkspaceOption = None) -> None:
    """Generate many assets with a progress bar; every job is checked before the first is rendered."""
    jobs = _read_jobs(file)
    made: list[MediaAsset] = []
    failures: list[tuple[int, str]] = []
    with open_workspace(workspace) as (studio, ws), Progress(TextColumn("{task.description}"), BarColumn(),
                                                    MofNCompleteColumn(), TimeElapsedColumn(),
                                                    console=console) as progress:
        task = progress.add_task("Generating media", total=len(jobs))
        for number, job in enumerate(jobs, start=1):
            progress.update(task, description=f"Job {number}: {job.kind}")
            try:
                made.append(_make(studio, ws, job))
            except StudioError as exc:  # one bad job does not stop the batch; it is reported with its number
                failures.append((number, exc.message))
            progress.advance(task)
    _show(made)
    for number, message in failures:
        errors.print(f"[red]Job {number} failed:[/red] {escape(message)}")
    if failures:
        raise typer.Exit(code=1)


def _job(values: dict[str, object]) -> MediaJob:
    try:
        return MediaJob.model_validate({k: v for k, v in values.items() if v is not None})
    except ValidationError as exc:
        errors.print(f"[bold red]Error:[/bold red] {escape(_first_error(exc))}")
        raise typer.Exit(code=2) from None


def _read_jobs(file: Path) -> list[MediaJob]:
    if not file.is_file():
        errors.print(f"[bold red]Error:[/bold red] {file} does not exist.")
        raise typer.Exit(code=2)
    text = file.read_text(encoding="utf-8")
    try:
        raw = json.loads(text) if file.suffix == ".json" else yaml.safe_load(text)
    except (json.JSONDecodeError, yaml.YAMLError) as exc:
        errors.print(f"[bold red]Error:[/bold red] {file} is not valid {file.suffix.lstrip('.')}: {exc}")
        raise typer.Exit(code=2) from None
    if not isinstance(raw, list):
        errors.print(f"[bold red]Error:[/bold red] {file} must hold a list of jobs.")
        raise typer.Exit(code=2)
    jobs, problems = [], []
    for number, item in enumerate(raw, start=1):
        try:
            jobs.append(MediaJob.model_validate(item))
        except ValidationError as exc:
            problems.append(f"job {number}: {_first_error(exc)}")
    if problems:
        errors.print("[bold red]Error:[/bold red] nothing was generated; fix these jobs first:\n  " +
                     "\n  ".join(problems))
        raise typer.Exit(code=2)
    return jobs


def _first_error(exc: ValidationError) -> str:
    error = exc.errors()[0]
    where = ".".join(str(part) for part in error["loc"])
    return f"{where}: {error['msg']}" if where else str(error["msg"])
