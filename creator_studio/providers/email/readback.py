"""Read-backs that never guess: if the check itself fails, the outcome is reported as unknown."""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from creator_studio.providers.reliability.errors import OutcomeUnknown, ProviderError

T = TypeVar("T")


def read_back(platform: str, what: str, find: Callable[[], T | None]) -> Callable[[], T | None]:
    """`find`, except that a failing read (after its own retries) becomes OutcomeUnknown: the earlier write
    may have happened, so "nothing was done" would be a lie and trying again could duplicate it."""

    def guarded() -> T | None:
        try:
            return find()
        except ProviderError as exc:
            raise OutcomeUnknown(platform, what) from exc

    return guarded
