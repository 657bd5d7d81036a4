"""Real platform adapters, one module per platform."""
