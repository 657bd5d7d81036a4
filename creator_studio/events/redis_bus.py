"""Events on Redis Streams: one global stream, a consumer group per module, at-least-once and idempotent.

- Publish: pipelined XADD of the event JSON. The publisher does not trim the stream: see "Store" below.
- Store: the audit log is a consumer group of its own (`AUDIT_GROUP`): it appends a whole batch to the
  hash-chained log in one transaction and acknowledges the entries only after the commit, so a crash
  redelivers them and the log's unique event id makes the second append a no-op (stored exactly once).
  Only this consumer trims the stream, and never past the oldest entry it has not stored yet: an entry
  leaves Redis after it is in the audit log, and at most `maxlen` entries are kept beyond that.
- Consume (`run_consumers`, called by `studio worker`): XREADGROUP a batch per module, skip ids the
  module already processed (a `done` key per module and event id, with a TTL), run the handlers, then mark
  them done and XACK. An entry that does not parse as an event is dead-lettered and acknowledged.
- Crashed consumers: entries left pending longer than `min_idle_ms` are taken over with XAUTOCLAIM; one
  that has been delivered more than `max_deliveries` times (XPENDING's count) is dead-lettered instead of
  being tried forever (it probably kills whoever processes it). The audit group takes over sooner
  (`audit_min_idle_ms`): appending twice is harmless there, a late audit log is not.
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
from sqlalchemy.exc import SQLAlchemyError

from creator_studio.events.schemas import Event

if TYPE_CHECKING:
    from creator_studio.events.service import EventService

logger = logging.getLogger(__name__)

STREAM = "studio:events"
# The audit log's consumer group. ':' cannot occur in a module name, so no module can take this group.
AUDIT_GROUP = "audit:log"


def _text(value: Any) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


def encode(event: Event) -> str:
    """The stream body: the event's JSON, serialized by pydantic-core in one call (the fields of `to_record`;
    the time is spelled `...Z`, which `Event.model_validate_json` reads back to the same instant, and the
    audit hash is computed from the parsed event, so the spelling never reaches the chain)."""
    return event.model_dump_json()


class RedisBus:
    # The publisher only XADDs: the audit group's consumer stores each event (EventService.publish_many).
    stores_events = True

    def __init__(self, client: redis.Redis, service: EventService, *, stream: str = STREAM, maxlen: int = 100_000,
                 min_idle_ms: int = 30_000, max_deliveries: int = 5, batch: int = 500,
                 dedupe_days: int = 7, audit_min_idle_ms: int = 2_000) -> None:
        self.client = client
        self._service = service
        self.stream = stream
        self.maxlen = maxlen
        self.min_idle_ms = min_idle_ms
        self.max_deliveries = max_deliveries
        self.batch = batch
        self.dedupe_days = dedupe_days
        self.audit_min_idle_ms = audit_min_idle_ms
        self._groups: set[str] = set()
        self._parsed: OrderedDict[bytes, Event] = OrderedDict()
        self._parsed_capacity = 4 * batch

    @classmethod
    def from_url(cls, url: str, service: EventService, **options: Any) -> RedisBus:
        return cls(redis.Redis.from_url(url), service, **options)

    # -- publish --------------------------------------------------------------------------------------------
    def send(self, events: Sequence[Event]) -> None:
        self.send_raw([encode(event) for event in events])

    def send_raw(self, bodies: Sequence[str | bytes]) -> None:
        """XADD bodies as they are (tests and replays use this to put any payload on the stream).

        No MAXLEN here: trimming at publish time could drop entries the audit log has not stored yet."""
        pipe = self.client.pipeline(transaction=False)
        for body in bodies:
            pipe.xadd(self.stream, {"event": body})
        pipe.execute()

    def redeliver(self, events: Sequence[Event], *, modules: Sequence[str] | None) -> None:
        """Forget that the modules processed these events and put them on the stream again."""
        groups = list(modules) if modules is not None else [
            name for name in (_text(g["name"]) for g in self._group_infos()) if name != AUDIT_GROUP]
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
        """One round for one group (a module, or the audit log): take over stuck entries, then read new ones.
        Returns entries handled."""
        self.ensure_group(group)
        handled = self._claim_stuck(group, consumer)
        response: Any = self.client.xreadgroup(group, consumer, {self.stream: ">"}, count=self.batch,
                                                block=block_ms or None)
        entries: list[tuple[Any, dict[Any, Any]]] = []
        for _stream, messages in response or []:
            entries.extend(messages)
        return handled + self._dispatch(group, entries)

    def _dispatch(self, group: str, entries: list[tuple[Any, dict[Any, Any]]]) -> int:
        return self._store(entries) if group == AUDIT_GROUP else self._handle(group, entries)

    def _claim_stuck(self, group: str, consumer: str) -> int:
        idle = self.audit_min_idle_ms if group == AUDIT_GROUP else self.min_idle_ms
        response: Any = self.client.xautoclaim(self.stream, group, consumer, min_idle_time=idle,
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
        return len(claimed) - len(keep) + self._dispatch(group, keep)

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

    def _parse_entries(self, group: str, entries: list[tuple[Any, dict[Any, Any]]]
                       ) -> list[tuple[Any, Event | None]]:
        """Each entry's event, or None for one that does not parse (dead-lettered for `group` with why)."""
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
        return parsed

    def _store(self, entries: list[tuple[Any, dict[Any, Any]]]) -> int:
        """The audit group: append the batch (one transaction), then XACK, then trim what is stored.

        Acknowledged only after the commit: a crash in between redelivers the entries, and the append skips
        ids already stored, so every event is in the log exactly once."""
        if not entries:
            return 0
        parsed = self._parse_entries("audit", entries)
        self._service.audit.append([event for _, event in parsed if event is not None])
        self.client.xack(self.stream, AUDIT_GROUP, *[entry_id for entry_id, _ in parsed])
        self._trim_stored()
        return len(parsed)

    def _trim_stored(self) -> None:
        """Keep about `maxlen` entries, but never drop one the audit log has not stored yet."""
        length = int(self.client.xlen(self.stream))
        if length <= self.maxlen:
            return
        floor = self._audit_floor()  # every entry with a smaller id is stored
        if floor is None:
            return
        # The oldest (length - maxlen) entries may go, as far as the floor allows.
        excess = length - self.maxlen
        older: Any = self.client.xrange(self.stream, "-", floor, count=excess + 1)
        cut = older[-1][0] if len(older) > excess else floor
        self.client.xtrim(self.stream, minid=cut, approximate=True)

    def _audit_floor(self) -> Any | None:
        """The id below which the audit group has acknowledged everything (None: it has read nothing)."""
        group = next((g for g in self._group_infos() if _text(g["name"]) == AUDIT_GROUP), None)
        if group is None:
            return None
        if int(group["pending"]):
            summary: Any = self.client.xpending(self.stream, AUDIT_GROUP)
            return summary["min"]
        last = group["last-delivered-id"]
        return None if _text(last) == "0-0" else last

    def store_backlog(self, consumer: str | None = None, *, timeout_s: float = 5.0) -> None:
        """Read-your-writes for readers of the audit log: before a read, everything on the stream up to now is
        stored. Entries nobody has read yet are stored here; entries another consumer holds are waited for
        (up to `timeout_s`) or taken over once idle. With Redis unreachable the read goes ahead without."""
        name = consumer or f"{socket.gethostname()}-{os.getpid()}-reader"
        try:
            newest: Any = self.client.xrevrange(self.stream, count=1)
            if not newest:
                return
            target = _stream_id(newest[0][0])
            deadline = time.monotonic() + timeout_s
            while True:
                self.consume_once(AUDIT_GROUP, name)
                group = next((g for g in self._group_infos() if _text(g["name"]) == AUDIT_GROUP), None)
                if group is not None and _stream_id(group["last-delivered-id"]) >= target:
                    oldest = self._audit_floor() if int(group["pending"]) else None
                    if oldest is None or _stream_id(oldest) > target:
                        return
                if time.monotonic() >= deadline:
                    logger.warning("audit log not caught up with the stream; reading what is stored",
                                   extra={"stream": self.stream})
                    return
                time.sleep(0.01)
        except redis.RedisError as exc:
            logger.warning("redis unavailable, reading the audit log as stored", extra={"error": str(exc)})

    def _handle(self, group: str, entries: list[tuple[Any, dict[Any, Any]]]) -> int:
        if not entries:
            return 0
        parsed = self._parse_entries(group, entries)
        events = [(entry_id, event) for entry_id, event in parsed if event is not None]
        key = self._done_key(group)
        ids = [event.id for _, event in events]
        seen = [score is not None for score in self.client.zmscore(key, ids)] if ids else []
        done = self.client.pipeline(transaction=False)
        processed: dict[str, None] = {}  # ordered set: the same id twice in one batch runs once
        for (_entry_id, event), already in zip(events, seen, strict=True):
            if not already and event.id not in processed:
                self._service.process(group, event)  # never raises: failures are dead-lettered
                processed[event.id] = None
        if processed:
            now = time.time()
            done.zadd(key, dict.fromkeys(processed, repr(now).encode()))  # bytes: encoded once, not per id
            done.zremrangebyscore(key, "-inf", now - self.dedupe_days * 86_400)
        done.xack(self.stream, group, *[entry_id for entry_id, _ in parsed])
        done.execute()
        return len(parsed)

    def run_consumers(self, *, modules: Sequence[str], consumer: str | None = None,
                      stop: threading.Event | None = None, block_ms: int = 1000,
                      max_batches: int | None = None) -> int:
        """Round-robin over the audit group and the modules' groups until `stop` is set (or `max_batches`
        rounds); entries handled. On `stop` the audit group is flushed once more (`_flush_audit`).

        A lost Redis connection does not end the loop: it is logged and retried with a growing pause (up to
        5 s), so a worker survives a Redis restart; entries it had not acknowledged are claimed again later.
        """
        name = consumer or f"{socket.gethostname()}-{os.getpid()}"
        stop = stop or threading.Event()
        groups = [AUDIT_GROUP, *modules]  # every consumer also stores: the audit log is nobody's module
        total, rounds, pause = 0, 0, 0.1
        while not stop.is_set() and (max_batches is None or rounds < max_batches):
            rounds += 1
            try:
                handled = sum(self.consume_once(group, name) for group in groups)
                if handled == 0:
                    # Nothing anywhere: block on the audit group so an idle worker does not spin.
                    handled = self.consume_once(AUDIT_GROUP, name, block_ms=block_ms)
                total += handled
                pause = 0.1
            except (redis.ConnectionError, redis.TimeoutError, SQLAlchemyError) as exc:
                # Redis or the database is away: entries stay pending (unacknowledged) and are taken again.
                logger.warning("redis or database unavailable, retrying",
                               extra={"error": str(exc), "pause_s": pause})
                stop.wait(pause)
                pause = min(pause * 2, 5.0)
            except redis.ResponseError as exc:
                if "NOGROUP" not in str(exc):
                    raise
                self._groups.clear()  # the stream or a group was deleted: create them again on the next round
        if stop.is_set():
            total += self._flush_audit(name)
        return total

    def _flush_audit(self, consumer: str, *, seconds: float = 5.0) -> int:
        """On shutdown, store what is already on the stream, so the audit log is current when the worker stops."""
        deadline, total = time.monotonic() + seconds, 0
        while time.monotonic() < deadline:
            try:
                handled = self.consume_once(AUDIT_GROUP, consumer)
            except (redis.RedisError, SQLAlchemyError) as exc:
                logger.warning("audit flush on shutdown stopped", extra={"error": str(exc)})
                break
            if handled == 0:
                break
            total += handled
        return total

    def close(self) -> None:
        self.client.close()


def _stream_id(value: Any) -> tuple[int, int]:
    """A stream entry id ("1733500000000-3") as numbers, so ids compare in stream order."""
    milliseconds, _, sequence = _text(value).partition("-")
    return int(milliseconds), int(sequence or 0)


def _parse_loose(body: Any) -> Any:
    """A payload for the dead-letter store: the JSON if it parses, the text otherwise."""
    if body is None:
        return None
    # Not `_text`: a body that is not UTF-8 must still be stored (decoding it strictly crashed the consumer).
    text = body.decode("utf-8", errors="replace") if isinstance(body, bytes) else str(body)
    try:
        return json.loads(text)
    except ValueError:
        return text
