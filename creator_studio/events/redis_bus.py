"""Events on Redis Streams: one global stream, a consumer group per module, at-least-once and idempotent.

- Publish: pipelined XADD. One event is one entry (`event`: its JSON); a batch (`publish_many`) goes as
  entries of up to `pack_size` events each (`events`: a JSON array), like a Kafka record batch: every
  consumer group then reads, acknowledges and dedupes a pack with a handful of Redis commands instead of a
  few per event. Events keep their own ids, so dedupe, the audit log and dead letters stay per event. The
  publisher does not trim the stream: see "Store" below.
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
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import redis
from pydantic import TypeAdapter, ValidationError
from sqlalchemy.exc import SQLAlchemyError

from creator_studio.events.schemas import PAYLOAD_CHECKED, Event

if TYPE_CHECKING:
    from creator_studio.events.service import EventService

logger = logging.getLogger(__name__)

STREAM = "studio:events"
# The audit log's consumer group. ':' cannot occur in a module name, so no module can take this group.
AUDIT_GROUP = "audit:log"
# Entry fields: one event's JSON, or a JSON array of events (a pack).
EVENT_FIELD = "event"
PACK_FIELD = "events"
# Set by `send`, which only carries validated `Event`s: consumers then check the envelope and that the
# (type, version) is registered, not the payload again (a version's payload schema never changes). Entries
# without it (`send_raw`, anything else that writes to the stream) are validated in full.
VALIDATED_FIELD = "validated"
VALIDATED = b"v1"
# A pack's size in bytes before it is split: far below Redis' 512 MB limit, small enough that one slow pack
# does not hold up a consumer's round.
PACK_MAX_BYTES = 1 << 20
_EVENT_LIST: TypeAdapter[list[Event]] = TypeAdapter(list[Event])

# A module group's dedupe marks, a batch at a time: event ids are UUIDs (never a ','), so a batch's ids
# travel as one joined argument and the server splits them, instead of one argument per id (ZMSCORE) or two
# (ZADD) that the client would encode one by one. KEYS[1] is the group's done key (see `_done_key`).
_SEEN_SCRIPT = """
local ids = {}
for id in string.gmatch(ARGV[1], '[^,]+') do ids[#ids + 1] = id end
local flags = {}
for first = 1, #ids, 1000 do
  local scores = redis.call('ZMSCORE', KEYS[1], unpack(ids, first, math.min(first + 999, #ids)))
  for i = 1, #scores do flags[#flags + 1] = scores[i] and '1' or '0' end
end
return table.concat(flags)
"""
# ARGV: the joined ids, their score (now), the score below which marks are forgotten.
_MARK_SCRIPT = """
local args = {}
for id in string.gmatch(ARGV[1], '[^,]+') do
  args[#args + 1] = ARGV[2]
  args[#args + 1] = id
  if #args >= 2000 then redis.call('ZADD', KEYS[1], unpack(args)); args = {} end
end
if #args > 0 then redis.call('ZADD', KEYS[1], unpack(args)) end
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', ARGV[3])
return 0
"""


def _text(value: Any) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


def encode(event: Event) -> str:
    """The stream body: the event's JSON, serialized by pydantic-core in one call (the fields of `to_record`;
    the time is spelled `...Z`, which `Event.model_validate_json` reads back to the same instant, and the
    audit hash is computed from the parsed event, so the spelling never reaches the chain)."""
    return event.model_dump_json()


def encode_pack(events: Sequence[Event]) -> bytes:
    """A pack's stream body: the events' JSON objects (as `encode` spells them) in one array, in one call."""
    return _EVENT_LIST.dump_json(list(events))


@dataclass
class Parsed:
    """A stream entry read back: its events, and the problems of what did not parse ((reason, payload) each,
    dead-lettered for every group that reads the entry)."""

    events: list[Event]
    problems: list[tuple[str, Any]]


class RedisBus:
    # The publisher only XADDs: the audit group's consumer stores each event (EventService.publish_many).
    stores_events = True

    def __init__(self, client: redis.Redis, service: EventService, *, stream: str = STREAM, maxlen: int = 100_000,
                 min_idle_ms: int = 30_000, max_deliveries: int = 5, batch: int = 500,
                 dedupe_days: int = 7, audit_min_idle_ms: int = 2_000, pack_size: int = 100) -> None:
        self.client = client
        self._service = service
        self.stream = stream
        self.maxlen = maxlen
        self.min_idle_ms = min_idle_ms
        self.max_deliveries = max_deliveries
        self.batch = batch
        self.dedupe_days = dedupe_days
        self.audit_min_idle_ms = audit_min_idle_ms
        self.pack_size = pack_size
        self._groups: set[str] = set()
        # Parsed entries, shared by the groups of this process; bounded in events (a pack holds many).
        self._parsed: OrderedDict[tuple[bytes, bool], Parsed] = OrderedDict()
        self._parsed_events = 0
        self._parsed_capacity = 40 * batch
        self._seen = client.register_script(_SEEN_SCRIPT)
        self._mark = client.register_script(_MARK_SCRIPT)

    @classmethod
    def from_url(cls, url: str, service: EventService, **options: Any) -> RedisBus:
        return cls(redis.Redis.from_url(url), service, **options)

    # -- publish --------------------------------------------------------------------------------------------
    def send(self, events: Sequence[Event]) -> None:
        """XADD the events: one alone as an `event` entry, more as packs of up to `pack_size` (`events`).

        No MAXLEN here: trimming at publish time could drop entries the audit log has not stored yet."""
        pipe = self.client.pipeline(transaction=False)
        if len(events) == 1:
            pipe.xadd(self.stream, {EVENT_FIELD: encode(events[0]), VALIDATED_FIELD: VALIDATED})
        else:
            for start in range(0, len(events), self.pack_size):
                for body in _packs(events[start:start + self.pack_size]):
                    pipe.xadd(self.stream, {PACK_FIELD: body, VALIDATED_FIELD: VALIDATED})
        pipe.execute()

    def send_raw(self, bodies: Sequence[str | bytes], *, field: str = EVENT_FIELD) -> None:
        """XADD bodies as they are, one entry each (tests and replays use this to put any payload on the
        stream; `field=PACK_FIELD` for packs)."""
        pipe = self.client.pipeline(transaction=False)
        for body in bodies:
            pipe.xadd(self.stream, {field: body})
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
        Returns the events handled (a pack counts its events; an entry dead-lettered after too many deliveries
        counts as one)."""
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
                reason = (f"not acknowledged after {deliveries - 1} deliveries to {group!r} (a consumer crashed "
                          f"or hung while processing it)")
                for payload in _payloads_loose(fields):  # a pack: one dead letter per event, each replayable
                    self._service.dead.record("delivery", reason, payload, module=group, attempts=deliveries - 1)
                self.client.xack(self.stream, group, entry_id)
            else:
                keep.append((entry_id, fields))
        return len(claimed) - len(keep) + self._dispatch(group, keep)

    def _parse(self, fields: dict[Any, Any]) -> Parsed:
        """An entry's events. Each group reads the same entry: it is validated once per process, not per group."""
        body = fields.get(b"event", fields.get(EVENT_FIELD))
        pack = body is None
        if pack:
            body = fields.get(b"events", fields.get(PACK_FIELD))
        if body is None:
            return Parsed([], [("stream entry has neither an 'event' nor an 'events' field", _decoded(fields))])
        validated = fields.get(b"validated", fields.get(VALIDATED_FIELD)) in (VALIDATED, VALIDATED.decode())
        body_bytes = body if isinstance(body, bytes) else str(body).encode()
        key = (body_bytes, validated)
        parsed = self._parsed.get(key)
        if parsed is None:
            context = {PAYLOAD_CHECKED: True} if validated else None
            parsed = _parse_pack(body_bytes, context) if pack else _parse_one(body_bytes, context)
            self._parsed[key] = parsed
            self._parsed_events += len(parsed.events) + len(parsed.problems)
            while self._parsed_events > self._parsed_capacity and len(self._parsed) > 1:
                _, evicted = self._parsed.popitem(last=False)
                self._parsed_events -= len(evicted.events) + len(evicted.problems)
        return parsed

    def _parse_entries(self, group: str, entries: list[tuple[Any, dict[Any, Any]]]) -> tuple[list[Event], int]:
        """The entries' events in stream order, and how many events they carried (valid or not); what does not
        parse is dead-lettered for `group` with why."""
        events: list[Event] = []
        invalid = 0
        for _entry_id, fields in entries:
            parsed = self._parse(fields)
            events.extend(parsed.events)
            invalid += len(parsed.problems)
            for reason, payload in parsed.problems:
                self._service.dead.record("validate", reason, payload, module=group)
        return events, len(events) + invalid

    def _store(self, entries: list[tuple[Any, dict[Any, Any]]]) -> int:
        """The audit group: append the batch (one transaction), then XACK, then trim what is stored.

        Acknowledged only after the commit: a crash in between redelivers the entries, and the append skips
        ids already stored, so every event is in the log exactly once."""
        if not entries:
            return 0
        events, carried = self._parse_entries("audit", entries)
        self._service.audit.append(events)
        self.client.xack(self.stream, AUDIT_GROUP, *[entry_id for entry_id, _ in entries])
        self._trim_stored()
        return carried

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
        # Only events this module has handlers for: there is nothing to do (or to do twice) for the rest.
        read, carried = self._parse_entries(group, entries)
        events = [event for event in read if self._service.handles(group, event.type)]
        key = self._done_key(group)
        ids = [event.id for event in events]
        seen = _flags(self._seen(keys=[key], args=[",".join(ids)])) if ids else b""
        done = self.client.pipeline(transaction=False)
        processed: dict[str, Event] = {}  # ordered: the same id twice in one batch runs once
        for event, already in zip(events, seen, strict=True):
            if already == _NOT_SEEN and event.id not in processed:
                processed[event.id] = event
        self._service.process_many(group, processed.values())  # never raises: failures are dead-lettered
        if processed:
            now = time.time()
            self._mark(keys=[key], args=[",".join(processed), repr(now), repr(now - self.dedupe_days * 86_400)],
                       client=done)
        done.xack(self.stream, group, *[entry_id for entry_id, _ in entries])
        done.execute()
        return carried

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


_NOT_SEEN = ord("0")


def _flags(reply: Any) -> bytes:
    """The seen-script's reply ('0' / '1' per id) as bytes, whatever the client's decode_responses."""
    return reply.encode() if isinstance(reply, str) else bytes(reply)


def _packs(events: Sequence[Event]) -> Iterator[bytes]:
    """Pack bodies for `events`, halved until each is at most PACK_MAX_BYTES (a single event always fits)."""
    body = encode_pack(events)
    if len(body) <= PACK_MAX_BYTES or len(events) == 1:
        yield body
        return
    middle = len(events) // 2
    yield from _packs(events[:middle])
    yield from _packs(events[middle:])


def _parse_one(body: bytes, context: dict[str, Any] | None) -> Parsed:
    try:
        return Parsed([Event.model_validate_json(body, context=context)], [])
    except (ValidationError, ValueError) as exc:
        from creator_studio.events.service import error_text

        return Parsed([], [(error_text(exc), _parse_loose(body))])


def _parse_pack(body: bytes, context: dict[str, Any] | None) -> Parsed:
    """All events of a pack in one call; if any is invalid, each element on its own, so only the bad ones are
    dead-lettered (each with its own reason) and the rest go on."""
    try:
        return Parsed(_EVENT_LIST.validate_json(body, context=context), [])
    except (ValidationError, ValueError):
        pass
    from creator_studio.events.service import error_text

    items = _parse_loose(body)
    if not isinstance(items, list):
        return Parsed([], [("a pack ('events' field) must be a JSON array of events", items)])
    parsed = Parsed([], [])
    for item in items:
        try:
            parsed.events.append(Event.model_validate(item, context=context))
        except (ValidationError, ValueError) as exc:
            parsed.problems.append((error_text(exc), item))
    return parsed


def _payloads_loose(fields: dict[Any, Any]) -> list[Any]:
    """What an entry carries, for dead letters: a pack's elements one by one, otherwise its one body."""
    pack = fields.get(b"events", fields.get(PACK_FIELD))
    if pack is not None:
        items = _parse_loose(pack)
        return items if isinstance(items, list) and items else [items]
    body = fields.get(b"event", fields.get(EVENT_FIELD))
    return [_parse_loose(body) if body is not None else _decoded(fields)]


def _decoded(fields: dict[Any, Any]) -> dict[str, Any]:
    return {_text(name): _parse_loose(value) for name, value in fields.items()}


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
