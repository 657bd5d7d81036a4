"""Creating a workspace on the sandbox world (what `studio init` and first use do)."""

from __future__ import annotations

from creator_studio.sandbox.seed import DEFAULT_BRAND, DEFAULT_TIMEZONE, seed_default_world
from creator_studio.studio import Studio
from creator_studio.workspaces.service import BrandVoice, Workspace


def create_workspace(studio: Studio, workspace_id: str, *, name: str | None = None,
                     timezone: str = DEFAULT_TIMEZONE, brand: BrandVoice | None = None) -> Workspace:
    brand = brand or DEFAULT_BRAND
    ws = studio.workspaces.create(workspace_id, name or f"{brand.creator_name}'s studio", timezone, brand)
    seed_default_world(studio, ws, studio.now())
    return ws
