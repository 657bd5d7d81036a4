"""Events on Redis Streams: one global stream, a consumer group per module, at-least-once and idempotent.

- Publish: pipelined XADD of the event JSON, the stream trimmed to about `maxlen` entries.
- Consume (`run_consumers`, called by `studio worker`): XREADGROUP a batch per module, skip ids the
  module already processed (a `done` key per module and event id, with a TTL), run the handlers, then mark
  them done and XACK. An entry that does not parse as an event is dead-lettered and acknowledged.
- Crashed consumers: entries left pending longer than `min_idle_ms` are taken over with XAUTOCLAIM; one
  that has been delivered more than `max_deliveries` times (XPENDING's count) is dead-lettered instead of
  being tried forever (it probably kills whoever processes it).
"""

from __future__ import annotations

import json
import logging
import os
import socket
import threading
import time
from collections import OrderedDict
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import redis
from pydantic import ValidationError

from creator_studio.events.schemas import Event

if TYPE_CHECKING:
    from creator_studio.events.service import EventService

logger = logging.getLogger(__name__)

STREAM = "studio:events"


def _text(value: Any) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


class RedisBus:
    def __init__(self, client: redis.Redis, service: EventService, *, stream: str = STREAM, maxlen: int = 100_000,
                 min_idle_ms: int = 30_000, max_deliveries: int = 5, batch: int = 200,
                 dedupe_days: int = 7) -> None:
        self.client = client
        self._service = service
        self.stream = stream
        self.maxlen = maxlen
        self.min_idle_ms = min_idle_ms
        self.max_deliveries = max_deliveries
        self.batch = batch
        self.dedupe_days = dedupe_days
        self._groups: set[str] = set()
        self._parsed: OrderedDict[bytes, Event] = OrderedDict()
        self._parsed_capacity = 4 * batch

    @classmethod
    def from_url(cls, url: str, service: EventService, **options: Any) -> RedisBus:
        return cls(redis.Redis.from_url(url), service, **options)

    # -- publish --------------------------------------------------------------------------------------------
    def send(self, events: Sequence[Event]) -> None:
        self.send_raw([json.dumps(event.to_record(), separators=(",", ":")) for event in events])

    def send_raw(self, bodies: Sequence[str | bytes]) -> None:
        """XADD bodies as they are (tests and replays use this to put any payload on the stream)."""
        pipe = self.client.pipeline(transaction=False)
        for body in bodies:
            pipe.xadd(self.stream, {"event": body}, maxlen=self.maxlen, approximate=True)
        pipe.execute()

    def redeliver(self, events: Sequence[Event], *, modules: Sequence[str] | None) -> None:
        """Forget that the modules processed these events and put them on the stream again."""
        groups = list(modules) if modules is not None else [_text(g["name"]) for g in self._group_infos()]
        ids = [event.id for event in events]
        if ids:
            pipe = self.client.pipeline(transaction=False)
            for group in groups:
                pipe.zrem(self._done_key(group), *ids)
            pipe.execute()
        self.send(events)

    def _group_infos(self) -> list[dict[str, Any]]:
        try:
            return list(self.client.xinfo_groups(self.stream))
        except redis.ResponseError:
            return []

    # -- consume --------------------------------------------------------------------------------------------
    def ensure_group(self, group: str) -> None:
        if group in self._groups:
            return
        try:
            # From the start of the (trimmed) stream: events published before the first worker ran still count.
            self.client.xgroup_create(self.stream, group, id="0", mkstream=True)
        except redis.ResponseError as exc:
            if "BUSYGROUP" not in str(exc):
                raise
        self._groups.add(group)

    def _done_key(self, group: str) -> str:
        """Ids a group processed, scored by when: one ZMSCORE and one ZADD per batch instead of a command per
        event; ids older than the dedupe window are trimmed, so memory stays bounded."""
        return f"{self.stream}:done:{group}"

    def consume_once(self, group: str, consumer: str, *, block_ms: int = 0) -> int:
        """One round for one module: take over stuck entries, then read new ones. Returns entries handled."""
        self.ensure_group(group)
        handled = self._claim_stuck(group, consumer)
        response: Any = self.client.xreadgroup(group, consumer, {self.stream: ">"}, count=self.batch,
                                                block=block_ms or None)
        entries: list[tuple[Any, dict[Any, Any]]] = []
        for _stream, messages in response or []:
            entries.extend(messages)
        return handled + self._handle(group, entries)

    def _claim_stuck(self, group: str, consumer: str) -> int:
        response: Any = self.client.xautoclaim(self.stream, group, consumer, min_idle_time=self.min_idle_ms,
                                                start_id="0-0", count=self.batch)
        claimed = [entry for entry in response[1] if entry and entry[1] is not None]
        if not claimed:
            return 0
        keep: list[tuple[Any, dict[Any, Any]]] = []
        for entry_id, fields in claimed:
            info: Any = self.client.xpending_range(self.stream, group, min=entry_id, max=entry_id, count=1)
            deliveries = int(info[0]["times_delivered"]) if info else 1
            if deliveries > self.max_deliveries:
                body = fields.get(b"event", fields.get("event"))
                payload = _parse_loose(body)
                self._service.dead.record(
                    "delivery", f"not acknowledged after {deliveries - 1} deliveries to {group!r} (a consumer "
                    f"crashed or hung while processing it)", payload, module=group, attempts=deliveries - 1)
                self.client.xack(self.stream, group, entry_id)
            else:
                keep.append((entry_id, fields))
        return len(claimed) - len(keep) + self._handle(group, keep)

    def _parse(self, body: bytes | str) -> Event:
        """Each module group reads the same entry: validate its body once per process, not once per group."""
        key = body if isinstance(body, bytes) else body.encode()
        event = self._parsed.get(key)
        if event is None:
            event = Event.model_validate_json(key)
            self._parsed[key] = event
            if len(self._parsed) > self._parsed_capacity:
                self._parsed.popitem(last=False)
        return event

    def _handle(self, group: str, entries: list[tuple[Any, dict[Any, Any]]]) -> int:
        if not entries:
            return 0
        parsed: list[tuple[Any, Event | None]] = []
        for entry_id, fields in entries:
            body = fields.get(b"event", fields.get("event"))
            try:
                if body is None:
                    raise ValueError("stream entry has no 'event' field")
                parsed.append((entry_id, self._parse(body)))
            except (ValidationError, ValueError) as exc:
                from creator_studio.events.service import error_text

                self._service.dead.record("validate", error_text(exc), _parse_loose(body), module=group)
                parsed.append((entry_id, None))
        events = [(entry_id, event) for entry_id, event in parsed if event is not None]
        key = self._done_key(group)
        ids = [event.id for _, event in events]
        seen = [score is not None for score in self.client.zmscore(key, ids)] if ids else []
        done = self.client.pipeline(transaction=False)
        processed: list[str] = []
        for (_entry_id, event), already in zip(events, seen, strict=True):
            if not already and event.id not in processed:  # the same id twice in one batch runs once
                self._service.process(group, event)  # never raises: failures are dead-lettered
                processed.append(event.id)
        if processed:
            now = time.time()
            done.zadd(key, dict.fromkeys(processed, now))
            done.zremrangebyscore(key, "-inf", now - self.dedupe_days * 86_400)
        done.xack(self.stream, group, *[entry_id for entry_id, _ in parsed])
        done.execute()
        return len(parsed)

    def run_consumers(self, *, modules: Sequence[str], consumer: str | None = None,
                      stop: threading.Event | None = None, block_ms: int = 1000,
                      max_batches: int | None = None) -> int:
        """Round-robin over the modules' groups until `stop` is set (or `max_batches` rounds); entries handled.

        A lost Redis connection does not end the loop: it is logged and retried with a growing pause (up to
        5 s), so a worker survives a Redis restart; entries it had not acknowledged are claimed again later.
        """
        name = consumer or f"{socket.gethostname()}-{os.getpid()}"
        stop = stop or threading.Event()
        total, rounds, pause = 0, 0, 0.1
        while not stop.is_set() and (max_batches is None or rounds < max_batches):
            rounds += 1
            try:
                handled = sum(self.consume_once(group, name) for group in modules)
                if handled == 0 and modules:
                    # Nothing anywhere: block on the first group so an idle worker does not spin.
                    handled = self.consume_once(modules[0], name, block_ms=block_ms)
                total += handled
                pause = 0.1
            except (redis.ConnectionError, redis.TimeoutError) as exc:
                logger.warning("redis unavailable, retrying", extra={"error": str(exc), "pause_s": pause})
                stop.wait(pause)
                pause = min(pause * 2, 5.0)
            except redis.ResponseError as exc:
                if "NOGROUP" not in str(exc):
                    raise
                self._groups.clear()  # the stream or a group was deleted: create them again on the next round
        return total

    def close(self) -> None:
        self.client.close()


def _parse_loose(body: Any) -> Any:
    """A payload for the dead-letter store: the JSON if it parses, the text otherwise."""
    if body is None:
        return None
    text = _text(body)
    try:
        return json.loads(text)
    except ValueError:
        return text
