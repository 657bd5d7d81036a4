"""Creator Studio: an autonomous growth team for online creators."""

__version__ = "0.1.0"
