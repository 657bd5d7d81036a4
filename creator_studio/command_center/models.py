"""Tables of this module (filled in by its implementation)."""
