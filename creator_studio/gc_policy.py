"""Garbage-collector settings for long-running worker processes (`studio worker`).

A worker allocates many short-lived objects per batch (parsed events, rows, replies). With CPython's default
thresholds (a collection every 700 net allocations) that means thousands of young-generation collections a
second, and full collections that walk every long-lived object (imported code, caches, clients) again and
again. Freezing what exists after start-up takes those objects out of every later collection, and a larger
first threshold makes collections rarer. Reference counting still frees the per-event objects at once (they
hold no cycles); cycles are still collected, in larger steps. The same recipe as gc.freeze's documentation
(and Instagram's write-up of it) for pre-fork servers.
"""

from __future__ import annotations

import gc

WORKER_THRESHOLDS = (20_000, 20, 20)


def tune_for_worker() -> None:
    """Call once, after start-up (imports, clients, subscriptions) and before the worker loop."""
    gc.collect()
    gc.freeze()
    gc.set_threshold(*WORKER_THRESHOLDS)
