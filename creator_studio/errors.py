"""Errors a creator may see. Each message says what was wrong and what to do."""

from __future__ import annotations


class StudioError(Exception):
    """Base class: the message is shown to the creator and to the agent as it is."""

    code = "studio_error"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class InvalidInput(StudioError):
    """Arguments that are well-formed but make no sense (a time in the past, a negative price)."""

    code = "invalid_input"


class NotFound(StudioError):
    code = "not_found"


class Conflict(StudioError):
    code = "conflict"


class ConfigurationError(StudioError):
    code = "configuration_error"
