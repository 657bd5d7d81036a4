"""`studio brand …` and `studio memory …`: see and shape what the agents lean on when they write."""

from __future__ import annotations

import json
import os
import shlex
import subprocess
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any

import typer
import yaml
from pydantic import ConfigDict, Field, ValidationError
from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from creator_studio.cli_support import fail, open_workspace
from creator_studio.errors import InvalidInput, StudioError
from creator_studio.memory.records import COLLECTIONS, CollectionName
from creator_studio.memory.service import Progress as ProgressFn
from creator_studio.studio import Studio
from creator_studio.workspaces.service import BrandVoice, Workspace

console = Console()
errors = Console(stderr=True)
WorkspaceOption = Annotated[str | None, typer.Option("--workspace", "-w", help="Workspace id (STUDIO_WORKSPACE).")]
LIST_FIELDS = ("vocabulary", "banned_words", "offers", "hashtags")
TEXT_FIELDS = ("creator_name", "niche", "tone", "audience", "signature", "call_to_action")


class BrandFile(BrandVoice):
    """A brand voice file: the workspace's brand voice plus example posts written the way the creator writes."""

    model_config = ConfigDict(extra="forbid")
    example_posts: list[str] = Field(default_factory=list)


@contextmanager
def _progress(label: str) -> Iterator[ProgressFn]:
    with Progress(TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                  console=errors, transient=False) as bar:
        task = bar.add_task(label, total=None)

        def report(done: int, total: int) -> None:
            bar.update(task, completed=done, total=total)

        yield report


def _run(action: Callable[[], None]) -> None:
    try:
        action()
    except StudioError as exc:
        fail(exc.message)


# studio brand ---------------------------------------------------------------------------------------------
brand_app = typer.Typer(help="The brand voice the agents write in (kept in vector memory).", no_args_is_help=True)


@brand_app.command("show")
def brand_show(workspace: WorkspaceOption = None) -> None:
    """Show the brand voice and the example posts memory holds."""
    def action() -> None:
        with open_workspace(workspace, if_missing="create") as (studio, ws):
            rules = studio.memory.brand_rules(ws)
            voice = studio.memory.brand_voice(ws)
            table = Table(title=f"Brand voice of {ws.name}", show_lines=False)
            table.add_column("rule", style="bold")
            table.add_column("value")
            for name in TEXT_FIELDS:
                table.add_row(name, escape(str(getattr(voice, name)) or "-"))
            for name in LIST_FIELDS:
                table.add_row(name, escape(", ".join(getattr(voice, name)) or "-"))
            table.add_row("faq", escape("\n".join(f"{f.question} → {f.answer}" for f in voice.faq) or "-"))
            table.add_row("example_posts", escape("\n".join(f"• {p}" for p in rules.example_posts) or "-"))
            console.print(table)
    _run(action)


@brand_app.command("edit")
def brand_edit(set_: Annotated[list[str] | None, typer.Option(
                   "--set", help="key=value (lists: comma-separated, e.g. banned_words=guru,hustle); repeatable.")]
               = None, workspace: WorkspaceOption = None) -> None:
    """Change the brand voice: with --set key=value, or in $EDITOR (YAML) without."""
    def action() -> None:
        with open_workspace(workspace, if_missing="create") as (studio, ws):
            current = BrandFile(**studio.memory.brand_voice(ws).model_dump(),
                                example_posts=studio.memory.brand_rules(ws).example_posts)
            updated = _apply_sets(current, set_) if set_ else _edit_in_editor(current)
            if updated == current:
                console.print("No change.")
                return
            _save_brand(studio, ws, updated)
            console.print(f"Saved the brand voice of {escape(ws.name)}.", soft_wrap=True)
    _run(action)


@brand_app.command("import")
def brand_import(file: Annotated[Path, typer.Argument(help="A YAML or JSON brand voice file.")],
                 workspace: WorkspaceOption = None) -> None:
    """Replace the brand voice with a file's (fields of `studio brand show`, plus example_posts)."""
    def action() -> None:
        brand = _read_brand_file(file)
        with open_workspace(workspace, if_missing="create") as (studio, ws):
            _save_brand(studio, ws, brand)
            console.print(f"Imported the brand voice from {escape(str(file))} "
                          f"({len(brand.example_posts)} example posts).", soft_wrap=True)
    _run(action)


def _read_brand_file(path: Path) -> BrandFile:
    if not path.is_file():
        raise InvalidInput(f"No file {str(path)!r}.")
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))  # YAML is a superset of JSON
    except yaml.YAMLError as exc:
        raise InvalidInput(f"{path.name} is not valid YAML or JSON: {exc}") from exc
    return _validate_brand(data, path.name)


def _validate_brand(data: Any, source: str) -> BrandFile:
    if not isinstance(data, dict):
        raise InvalidInput(f"{source}: expected a mapping of brand voice fields.")
    try:
        return BrandFile.model_validate(data)
    except ValidationError as exc:
        details = "; ".join(f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in exc.errors())
        raise InvalidInput(f"{source}: {details}") from exc


def _apply_sets(current: BrandFile, pairs: list[str]) -> BrandFile:
    data = current.model_dump()
    for pair in pairs:
        key, sep, value = pair.partition("=")
        key = key.strip()
        if not sep or not key:
            raise InvalidInput(f"--set {pair!r}: use key=value.")
        if key in LIST_FIELDS or key == "example_posts":
            data[key] = [v.strip() for v in value.split(",") if v.strip()] if key != "example_posts" else (
                [value.strip()] if value.strip() else [])
        elif key in TEXT_FIELDS:
            data[key] = value.strip()
        else:
            raise InvalidInput(f"--set: unknown brand field {key!r} (one of "
                               f"{', '.join(TEXT_FIELDS + LIST_FIELDS + ('example_posts',))}).")
    return _validate_brand(data, "--set")


def _edit_in_editor(current: BrandFile) -> BrandFile:
    editor = os.environ.get("VISUAL") or os.environ.get("EDITOR")
    if not editor:
        raise InvalidInput("Set $EDITOR (e.g. EDITOR=nano) or use --set key=value.")
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "brand.yaml"
        path.write_text(yaml.safe_dump(current.model_dump(mode="json"), sort_keys=False, allow_unicode=True),
                        encoding="utf-8")
        completed = subprocess.run([*shlex.split(editor), str(path)], check=False)
        if completed.returncode != 0:
            raise InvalidInput(f"The editor exited with {completed.returncode}; nothing was saved.")
        return _read_brand_file(path)


def _save_brand(studio: Studio, ws: Workspace, brand: BrandFile) -> None:
    voice = BrandVoice.model_validate(brand.model_dump(exclude={"example_posts"}))
    updated = studio.workspaces.update(ws.id, brand_voice=voice)
    studio.memory.sync(updated)
    studio.memory.set_brand_examples(updated, brand.example_posts, replace=True)


# studio memory --------------------------------------------------------------------------------------------
memory_app = typer.Typer(help="Vector memory: brand voice, past performance, audience facts.", no_args_is_help=True)


@memory_app.command("search")
def memory_search(query: Annotated[str, typer.Argument(help="What to look for, in plain words.")],
                  collection: Annotated[str | None, typer.Option(
                      "--collection", "-c", help=f"One of {', '.join(COLLECTIONS)} (default: all).")] = None,
                  limit: Annotated[int, typer.Option(min=1, max=100)] = 10,
                  as_json: Annotated[bool, typer.Option("--json", help="Print JSON instead of a table.")] = False,
                  workspace: WorkspaceOption = None) -> None:
    """Search memory by meaning."""
    if collection is not None and collection not in COLLECTIONS:
        fail(f"Unknown collection {collection!r}: one of {', '.join(COLLECTIONS)}.")

    def action() -> None:
        with open_workspace(workspace, if_missing="create") as (studio, ws):
            kind: CollectionName | None = collection
            hits = studio.memory.search(ws, query, collection=kind, limit=limit)
            if as_json:
                console.print_json(json.dumps([h.model_dump() for h in hits], default=str))
                return
            table = Table(title=f"Memory search: {escape(query)}")
            for column in ("similarity", "collection", "kind", "text", "details"):
                table.add_column(column)
            for hit in hits:
                meta = hit.metadata
                details = (f"{meta.get('platform')} · {meta.get('engagements')} engagements · "
                           f"{float(meta.get('rate', 0)):.1%} rate" if hit.collection == "content_performance" else "")
                table.add_row(f"{hit.similarity:.2f}", hit.collection, str(meta.get("kind", "")),
                              escape(hit.text[:160]), escape(details))
            console.print(table if hits else "Nothing in memory yet.")
    _run(action)


@memory_app.command("import")
def memory_import(file: Annotated[Path, typer.Argument(help="posts.csv, an X export (tweets.js, API v2 JSON) or a "
                                                            "Bluesky export (getAuthorFeed or records JSON).")],
                  platform: Annotated[str | None, typer.Option(help="Platform of rows that don't say.")] = None,
                  topic: Annotated[str | None, typer.Option(help="Topic of rows that don't say.")] = None,
                  workspace: WorkspaceOption = None) -> None:
    """Import past posts with their metrics. All or nothing: a bad row rejects the whole file."""
    def action() -> None:
        with open_workspace(workspace, if_missing="create") as (studio, ws), _progress("Embedding posts") as progress:
            summary = studio.memory.import_posts(ws, file, platform=platform, topic=topic, progress=progress)
        platforms = ", ".join(f"{n} {p}" for p, n in sorted(summary.platforms.items()))
        console.print(f"Imported {summary.posts} posts ({platforms}) as {summary.chunks} memories.", soft_wrap=True)
    _run(action)


@memory_app.command("reindex")
def memory_reindex(workspace: WorkspaceOption = None) -> None:
    """Re-embed every memory with the configured embedding model (after changing STUDIO_EMBEDDING_MODEL)."""
    def action() -> None:
        with open_workspace(workspace, if_missing="create") as (studio, ws), _progress("Re-embedding") as progress:
            total = studio.memory.reindex(ws, progress)
        console.print(f"Re-embedded {total} memories.", soft_wrap=True)
    _run(action)


@memory_app.command("stats")
def memory_stats(workspace: WorkspaceOption = None) -> None:
    """How many memories each collection holds."""
    def action() -> None:
        with open_workspace(workspace, if_missing="create") as (studio, ws):
            studio.memory.sync(ws)
            table = Table(title=f"Memory of {escape(ws.name)}")
            table.add_column("collection")
            table.add_column("memories", justify="right")
            for name, count in studio.memory.counts(ws).items():
                table.add_row(name, str(count))
            console.print(table)
    _run(action)


def register(app: typer.Typer) -> None:
    app.add_typer(brand_app, name="brand")
    app.add_typer(memory_app, name="memory")


__all__ = ["register"]
