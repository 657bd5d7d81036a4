"""Workspaces: one creator's settings (time zone, brand voice, approval policy)."""
