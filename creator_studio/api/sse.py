"""Fan-out of live messages to connected SSE clients, per workspace.

Publishers may be any thread (the runner's worker thread, the event bus's handler); each subscriber is an
asyncio queue on the server's loop, fed with `call_soon_threadsafe`. A client that cannot keep up loses
its oldest messages rather than slowing everyone else (the dashboard re-renders from the database anyway).
"""

from __future__ import annotations

import asyncio
import json
import threading
from collections.abc import AsyncIterator
from contextlib import suppress
from dataclasses import dataclass, field
from typing import Any

QUEUE_LIMIT = 256
HEARTBEAT_S = 15.0


@dataclass(frozen=True)
class LiveMessage:
    kind: str  # "event" (a studio event), "changed" (something the dashboard shows changed)
    data: dict[str, Any]

    def encode(self) -> str:
        return json.dumps(self.data, default=str, separators=(",", ":"))


@dataclass(eq=False)
class Subscription:
    workspace_id: str
    loop: asyncio.AbstractEventLoop
    queue: asyncio.Queue[LiveMessage] = field(default_factory=lambda: asyncio.Queue(QUEUE_LIMIT))

    def offer(self, message: LiveMessage) -> None:
        """Runs on the subscriber's loop."""
        if self.queue.full():
            with suppress(asyncio.QueueEmpty):
                self.queue.get_nowait()
        self.queue.put_nowait(message)


class Hub:
    def __init__(self) -> None:
        self._subscriptions: dict[str, set[Subscription]] = {}
        self._lock = threading.Lock()

    def subscribe(self, workspace_id: str) -> Subscription:
        subscription = Subscription(workspace_id, asyncio.get_running_loop())
        with self._lock:
            self._subscriptions.setdefault(workspace_id, set()).add(subscription)
        return subscription

    def unsubscribe(self, subscription: Subscription) -> None:
        with self._lock:
            self._subscriptions.get(subscription.workspace_id, set()).discard(subscription)

    def count(self, workspace_id: str | None = None) -> int:
        with self._lock:
            if workspace_id is not None:
                return len(self._subscriptions.get(workspace_id, ()))
            return sum(len(s) for s in self._subscriptions.values())

    def publish(self, workspace_id: str, kind: str, data: dict[str, Any]) -> int:
        """Thread-safe; returns how many subscribers it was handed to."""
        message = LiveMessage(kind, data)
        with self._lock:
            targets = list(self._subscriptions.get(workspace_id, ()))
        for subscription in targets:
            with suppress(RuntimeError):  # the loop is closing: that client is gone
                subscription.loop.call_soon_threadsafe(subscription.offer, message)
        return len(targets)

    async def listen(self, subscription: Subscription, *, heartbeat_s: float = HEARTBEAT_S
                     ) -> AsyncIterator[LiveMessage | None]:
        """Messages as they come; None every `heartbeat_s` of silence (callers send a comment to keep alive)."""
        try:
            while True:
                try:
                    yield await asyncio.wait_for(subscription.queue.get(), timeout=heartbeat_s)
                except TimeoutError:
                    yield None
        finally:
            self.unsubscribe(subscription)
