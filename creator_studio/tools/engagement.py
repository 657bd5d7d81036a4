"""Tools of this module (tools.md)."""
