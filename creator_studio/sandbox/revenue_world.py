from __future__ import annotations

from datetime import datetime

from creator_studio.workspaces.service import Workspace


def seed_revenue_world(studio: object, ws: Workspace, now: datetime) -> None:
    """Seed this module's part of the default sandbox world."""
