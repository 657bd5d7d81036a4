"""A fresh sandbox world for every trial.

Each world a suite uses is built once per `studio eval` invocation into a template directory (seeding takes
seconds); a trial gets its own copy of the template's database file (milliseconds), so no trial sees another
trial's posts, approvals or runs. The studio clock is fixed, so "Friday 9am" means the same date every run.
"""

from __future__ import annotations

import shutil
import threading
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

from creator_studio.sandbox.seed import DEFAULT_BRAND, DEFAULT_TIMEZONE
from creator_studio.settings import Settings
from creator_studio.studio import Studio

# Wednesday 25 November 2026, 14:00 UTC (15:00 in Berlin), the same "now" as the test suite.
EVAL_NOW = datetime(2026, 11, 25, 14, 0, tzinfo=UTC)
WORKSPACE_ID = "default"
DATABASE_FILE = "studio.db"

WorldBuilder = Callable[[Studio], None]


def _default_world(studio: Studio) -> None:
    """Maya Chen's studio with accounts, posts, comments, customers and workflows (sandbox/seed.py)."""
    from creator_studio.sandbox.bootstrap import create_workspace

    create_workspace(studio, WORKSPACE_ID)


def _empty_world(studio: Studio) -> None:
    """The same creator and brand voice, with nothing seeded: no accounts, posts, comments or customers."""
    studio.workspaces.create(WORKSPACE_ID, f"{DEFAULT_BRAND.creator_name}'s studio", DEFAULT_TIMEZONE,
                             DEFAULT_BRAND)


WORLDS: dict[str, WorldBuilder] = {"default": _default_world, "empty": _empty_world}


class WorldTemplates:
    """Builds each world once under `root` and opens a fresh copy of it per trial."""

    def __init__(self, root: Path, settings: Settings, *, now: datetime = EVAL_NOW) -> None:
        self.root = root
        self.settings = settings
        self.now = now
        self._built: dict[str, Path] = {}
        self._lock = threading.Lock()

    def template(self, world: str) -> Path:
        """The template database of `world`, built on first use (thread-safe)."""
        with self._lock:
            if world not in self._built:
                self._built[world] = self._build(world)
            return self._built[world]

    def open_fresh(self, world: str, home: Path) -> Studio:
        """A studio on a private copy of `world` in `home` (which must not exist yet), clock fixed."""
        template = self.template(world)
        home.mkdir(parents=True)
        shutil.copyfile(template, home / DATABASE_FILE)
        return self._open(home)

    def _build(self, world: str) -> Path:
        builder = WORLDS.get(world)
        if builder is None:
            raise KeyError(f"unknown world {world!r} (known: {', '.join(sorted(WORLDS))})")
        home = self.root / "templates" / world
        home.mkdir(parents=True)
        studio = self._open(home)
        try:
            builder(studio)
            with studio.db.engine.connect() as connection:  # fold the WAL into the file we copy
                connection.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
        finally:
            studio.close()
        return home / DATABASE_FILE

    def _open(self, home: Path) -> Studio:
        # The eval measures agents, not migrations: tables come straight from the models, like the tests.
        settings = self.settings.model_copy(update={"home": home, "database_url": None, "workspace": WORKSPACE_ID})
        studio = Studio.open(settings, migrate_schema=False)
        now = self.now
        studio.clock = lambda: now
        return studio
