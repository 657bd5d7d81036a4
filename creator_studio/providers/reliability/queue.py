"""A priority gate per (account, platform): when calls compete, a creator's request goes before scheduled
work, which goes before background sync; equal priorities keep their arrival order.

`with gate.turn(key, Priority.SCHEDULED): ...` blocks until it is this caller's turn; at most `concurrency`
calls per key run at once.
"""

from __future__ import annotations

import heapq
import itertools
import threading
from collections.abc import Hashable, Iterator
from contextlib import contextmanager

from creator_studio.providers.reliability.budgets import Priority


class PriorityGate:
    def __init__(self, concurrency: int = 2) -> None:
        if concurrency < 1:
            raise ValueError("concurrency must be at least 1")
        self._concurrency = concurrency
        self._cond = threading.Condition()
        self._waiting: dict[Hashable, list[tuple[int, int]]] = {}
        self._running: dict[Hashable, int] = {}
        self._seq = itertools.count()

    @contextmanager
    def turn(self, key: Hashable, priority: Priority = Priority.CREATOR, timeout: float | None = None
             ) -> Iterator[None]:
        ticket = (int(priority), next(self._seq))
        with self._cond:
            heap = self._waiting.setdefault(key, [])
            heapq.heappush(heap, ticket)
            ok = self._cond.wait_for(
                lambda: heap[0] == ticket and self._running.get(key, 0) < self._concurrency, timeout)
            if not ok:
                heap.remove(ticket)
                heapq.heapify(heap)
                self._cond.notify_all()
                raise TimeoutError("waited too long for a turn to call the platform")
            heapq.heappop(heap)
            self._running[key] = self._running.get(key, 0) + 1
            self._cond.notify_all()
        try:
            yield
        finally:
            with self._cond:
                self._running[key] -= 1
                self._cond.notify_all()

    def waiting(self, key: Hashable) -> list[Priority]:
        with self._cond:
            return [Priority(p) for p, _ in sorted(self._waiting.get(key, []))]
