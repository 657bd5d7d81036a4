"""The `/api/metrics` summary, cached per workspace and dropped as soon as something it shows may change.

Building the summary runs ~30 queries across the modules (~110 ms of CPU), yet it only changes when data
does, and data changes reach the API as studio events (`events_bridge`) or as its own writes
(`ApiState.changed`): both invalidate the workspace's entries. Each workspace has a generation, bumped by
every invalidation; a result is stored only if the generation did not move while it was computed, so a change
that lands mid-computation is never hidden behind the older numbers. A short TTL bounds staleness for changes
no event announces here (another process writing with an in-process bus, the clock moving on).

Concurrent misses for one key compute once: the others wait, then take that result if its computation
started after they arrived (it saw every change made before they asked, even if an event has since kept
it from being stored), and compute again only otherwise. Under a steady stream of events this keeps
requests from queueing behind one recomputation after another.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

DEFAULT_TTL_S = 5.0


@dataclass(frozen=True)
class _Entry:
    body: bytes
    expires_at: float


class SummaryCache:
    def __init__(self, ttl_s: float = DEFAULT_TTL_S, clock: Callable[[], float] = time.monotonic) -> None:
        self.ttl_s = ttl_s
        self._clock = clock
        self._lock = threading.Lock()
        self._entries: dict[tuple[str, str], _Entry] = {}
        self._generations: dict[str, int] = {}
        self._computing: dict[tuple[str, str], threading.Lock] = {}
        # The latest computation per key: (its ticket, its body); tickets order arrivals and computations.
        self._latest: dict[tuple[str, str], tuple[int, bytes]] = {}
        self._tickets = 0
        self.hits = 0
        self.misses = 0

    def invalidate(self, workspace_id: str) -> None:
        """Something in this workspace changed: its cached summaries are gone, and one being computed now
        will not be stored."""
        with self._lock:
            self._generations[workspace_id] = self._generations.get(workspace_id, 0) + 1
            for key in [key for key in self._entries if key[0] == workspace_id]:
                del self._entries[key]

    def get(self, workspace_id: str, variant: str, compute: Callable[[], bytes]) -> bytes:
        """The cached body for (workspace, variant), or `compute()`'s, stored if nothing changed meanwhile."""
        key = (workspace_id, variant)
        body = self._fresh(key)
        if body is not None:
            return body
        with self._lock:
            computing = self._computing.setdefault(key, threading.Lock())
            self._tickets += 1
            arrived = self._tickets
        with computing:
            body = self._fresh(key)  # another request computed it while this one waited
            if body is not None:
                return body
            with self._lock:
                latest = self._latest.get(key)
                if latest is not None and latest[0] > arrived:  # computed entirely after this request came
                    self.hits += 1
                    return latest[1]
                self.misses += 1
                generation = self._generations.get(workspace_id, 0)
                self._tickets += 1
                ticket = self._tickets
            body = compute()
            with self._lock:
                self._latest[key] = (ticket, body)
                if self._generations.get(workspace_id, 0) == generation:
                    self._entries[key] = _Entry(body, self._clock() + self.ttl_s)
            return body

    def _fresh(self, key: tuple[str, str]) -> bytes | None:
        with self._lock:
            entry = self._entries.get(key)
            if entry is None:
                return None
            if entry.expires_at <= self._clock():
                del self._entries[key]
                return None
            self.hits += 1
            return entry.body
