"""The simulated creator world (seeded, hour by hour) behind the sandbox providers; see `world.World`."""

from creator_studio.sandbox.world.world import DaySnapshot, World, WorldStats

__all__ = ["DaySnapshot", "World", "WorldStats"]
