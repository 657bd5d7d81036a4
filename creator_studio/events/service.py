"""The event service: collect → validate → route → process → store, on the in-process bus or Redis Streams.

Publishing validates the event against its schema and makes it durable before returning. In-process that
means appending it to the hash-chained audit log, then routing it to the subscribers of each module at
once, in the publishing thread. On Redis the stream entry is the durable record: the publisher only XADDs,
and the worker (`run_consumers`) stores it in the audit log from a consumer group of its own, in large
batches, beside a consumer group per module (see redis_bus.py); if the XADD fails, the publisher appends
to the audit log itself, so an accepted event is never lost. A handler that raises is retried, then
dead-lettered with its name and error; an invalid event is dead-lettered with the reason. Neither stops the
next event.
"""

from __future__ import annotations

import logging
import threading
import time
import uuid
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Protocol

from pydantic import ValidationError
from sqlalchemy import select

from creator_studio.errors import InvalidInput
from creator_studio.events.audit import AuditLog, ChainReport, row_event
from creator_studio.events.dead_letters import DeadLetter, DeadLetterStore
from creator_studio.events.models import EventLogRow
from creator_studio.events.schemas import Event, check_pattern, matches
from creator_studio.store.db import Database, utcnow

logger = logging.getLogger(__name__)

Handler = Callable[[Event], None]
_KEYED_EVENTS = uuid.UUID("3b0e6a52-2f8e-4c1e-9a55-1d7f0c2b9e41")


class InvalidEvent(InvalidInput):
    """An event whose envelope or payload does not match its schema (it was dead-lettered too)."""

    code = "invalid_event"


@dataclass(frozen=True)
class Subscription:
    module: str
    handler: Handler
    types: tuple[str, ...] | None

    @property
    def name(self) -> str:
        handler = self.handler
        return f"{getattr(handler, '__module__', '?')}.{getattr(handler, '__qualname__', repr(handler))}"


class Bus(Protocol):
    """Carries accepted events to the modules that subscribed to them."""

    # True when the bus stores events in the audit log itself (a consumer of its own), after `send`.
    stores_events: bool

    def send(self, events: Sequence[Event]) -> None: ...

    def close(self) -> None: ...


class InProcessBus:
    """Delivers in the publishing thread. An event published by a handler waits until the current one is done."""

    stores_events = False

    def __init__(self, service: EventService) -> None:
        self._service = service
        self._local = threading.local()

    def send(self, events: Sequence[Event]) -> None:
        pending: list[Event] | None = getattr(self._local, "pending", None)
        if pending is not None:  # called from inside a handler: queue behind the event being delivered
            pending.extend(events)
            return
        self._local.pending = pending = list(events)
        try:
            while pending:
                event = pending.pop(0)
                for module in self._service.modules_for(event.type):
                    self._service.process(module, event)
        finally:
            self._local.pending = None

    def close(self) -> None:
        pass


def error_text(exc: BaseException) -> str:
    if isinstance(exc, ValidationError):
        problems = []
        for error in exc.errors():
            where = ".".join(str(part) for part in error["loc"])
            message = error["msg"].removeprefix("Value error, ")
            problems.append(f"{where}: {message}" if where else message)
        return "; ".join(problems)
    return f"{type(exc).__name__}: {exc}"


class EventService:
    def __init__(self, db: Database, *, clock: Callable[[], datetime] = utcnow, redis_url: str | None = None,
                 max_attempts: int = 3, retry_delay_s: float = 0.05, stream: str | None = None) -> None:
        self._db = db
        self._clock = clock
        self.audit = AuditLog(db)
        self.dead = DeadLetterStore(db)
        self.max_attempts = max_attempts
        self.retry_delay_s = retry_delay_s
        self._subscriptions: list[Subscription] = []
        self._handler_cache: dict[tuple[str, str], list[Subscription]] = {}
        self._lock = threading.Lock()
        self.bus: Bus
        if redis_url:
            from creator_studio.events.redis_bus import RedisBus

            self.bus = RedisBus.from_url(redis_url, self, **({"stream": stream} if stream else {}))
        else:
            self.bus = InProcessBus(self)
        # Outbound webhooks are a subscriber like any other module.
        from creator_studio.events.webhooks import WebhookService

        self.webhooks = WebhookService(db, clock=clock)
        self.subscribe("webhooks", self.webhooks.handle)

    # -- collect and validate -------------------------------------------------------------------------------
    def publish(self, type: str, workspace_id: str, data: Mapping[str, Any], *, source: str,
                correlation_id: str | None = None, version: int = 1, occurred_at: datetime | None = None,
                key: str | None = None) -> Event:
        """Validate, store and route an event. Invalid: dead-lettered, then `InvalidEvent` names the problem.

        `key` (e.g. a tool call's idempotency key) makes the event id deterministic: publishing again with the
        same key, type and workspace (a retried tool call) stores and routes the event once.
        """
        raw: dict[str, Any] = {"type": type, "version": version, "workspace_id": workspace_id, "source": source,
                               "correlation_id": correlation_id, "data": dict(data),
                               "occurred_at": occurred_at or self._clock()}
        if key is not None:
            raw["id"] = str(uuid.uuid5(_KEYED_EVENTS, f"{workspace_id}:{type}:{key}"))
        try:
            event = Event.model_validate(raw)
        except ValidationError as exc:
            reason = error_text(exc)
            self.dead.record("validate", reason, raw, module=source)
            raise InvalidEvent(f"event {type!r} was not published: {reason}") from None
        return self.publish_event(event)

    def publish_event(self, event: Event) -> Event:
        self.publish_many([event])
        return event

    def publish_many(self, events: Sequence[Event]) -> list[Event]:
        """Make all durable, then route. In-process: stored (one transaction), then routed. On Redis: XADDed;
        the audit consumer stores them. Either way a crash after this returns loses no event.

        An event id that is already stored or processed (a retried publish, a redelivered webhook) is not
        stored or routed again: in-process the audit append skips it, on Redis every consumer group dedupes by
        event id. Returns the events accepted (in-process: those not stored before).
        """
        if not events:
            return []
        if self.bus.stores_events:
            unique = list({event.id: event for event in events}.values())
            try:
                self.bus.send(unique)
                return unique
            except Exception as exc:  # the bus is down (Redis unreachable): store here, route later
                self._store_undelivered(unique, exc)
                return unique
        fresh = self.audit.append(events)
        if fresh:
            try:
                self.bus.send(fresh)
            except Exception as exc:  # the bus is down: stored, but not routed yet
                self._store_undelivered(fresh, exc, stored=True)
        return fresh

    def _store_undelivered(self, events: Sequence[Event], exc: Exception, *, stored: bool = False) -> None:
        """The bus failed: the events go to the audit log now and wait as dead letters for redelivery."""
        logger.exception("event bus unavailable", extra={"events": len(events)})
        if not stored:
            self.audit.append(events)
        for event in events:
            self.dead.record("delivery", f"stored but not routed, the bus failed: {error_text(exc)}; "
                             f"`studio events replay --dead-letter ID` routes it", event.to_record(), module="bus")

    def collect(self, raw: Any, *, source: str = "external") -> Event | None:
        """Accept untrusted input (a dict, JSON text): the event, or None after dead-lettering it with why."""
        try:
            event = Event.model_validate_json(raw) if isinstance(raw, str | bytes) else Event.model_validate(raw)
        except ValidationError as exc:
            self.dead.record("validate", error_text(exc), raw, module=source)
            return None
        return self.publish_event(event)

    # -- route and process ----------------------------------------------------------------------------------
    def subscribe(self, module: str, handler: Handler, *, types: Sequence[str] | None = None) -> Subscription:
        """Call `handler` for each event of `types` ("revenue.*", "content.published"; None = all) in `module`."""
        if not module or not module.replace("_", "").replace("-", "").isalnum():
            raise InvalidInput(f"module name {module!r} must be letters, digits, '_' or '-' (it names a consumer "
                               f"group)")
        patterns = None if types is None else tuple(check_pattern(pattern) for pattern in types)
        subscription = Subscription(module=module, handler=handler, types=patterns)
        with self._lock:
            self._subscriptions.append(subscription)
            self._handler_cache.clear()
        return subscription

    def unsubscribe(self, subscription: Subscription) -> None:
        with self._lock:
            if subscription in self._subscriptions:
                self._subscriptions.remove(subscription)
            self._handler_cache.clear()

    @property
    def modules(self) -> list[str]:
        with self._lock:
            return sorted({subscription.module for subscription in self._subscriptions})

    def modules_for(self, event_type: str) -> list[str]:
        with self._lock:
            return sorted({s.module for s in self._subscriptions if matches(event_type, s.types)})

    def _handlers(self, module: str, event_type: str) -> list[Subscription]:
        """The module's subscriptions for a type; cached, since every event of a batch asks the same question."""
        key = (module, event_type)
        handlers = self._handler_cache.get(key)  # a dict read is atomic; misses and changes take the lock
        if handlers is not None:
            return handlers
        with self._lock:
            handlers = self._handler_cache.get(key)
            if handlers is None:
                handlers = [s for s in self._subscriptions if s.module == module and matches(event_type, s.types)]
                self._handler_cache[key] = handlers
            return handlers

    def process(self, module: str, event: Event) -> bool:
        """Run the module's handlers for the event; a handler that keeps failing is dead-lettered. Never raises."""
        handlers = self._handlers(module, event.type)
        ok = True
        for subscription in handlers:
            ok = self._run_handler(subscription, event) and ok
        return ok

    def handles(self, module: str, event_type: str) -> bool:
        """Whether the module has a handler for events of this type."""
        handlers = self._handler_cache.get((module, event_type))
        return bool(handlers if handlers is not None else self._handlers(module, event_type))

    def process_many(self, module: str, events: Iterable[Event]) -> None:
        """`process` for a batch (a Redis consumer's): the handler call without retry bookkeeping until a
        handler raises; then that event takes `_run_handler`'s retries and dead-lettering. Never raises."""
        cache = self._handler_cache
        for event in events:
            handlers = cache.get((module, event.type))
            if handlers is None:
                handlers = self._handlers(module, event.type)
            for subscription in handlers:
                try:
                    subscription.handler(event)
                except Exception as exc:
                    self._run_handler(subscription, event, failed=exc)

    def _run_handler(self, subscription: Subscription, event: Event, *, failed: Exception | None = None) -> bool:
        """Call the handler up to `max_attempts` times (`failed`: the first attempt already raised this)."""
        attempt = 1
        while True:
            if failed is None:
                try:
                    subscription.handler(event)
                    return True
                except Exception as exc:
                    failed = exc
            if attempt >= self.max_attempts:
                break
            time.sleep(self.retry_delay_s * 2 ** (attempt - 1))
            attempt, failed = attempt + 1, None
        logger.error("event handler failed", exc_info=failed, extra={
            "event_id": event.id, "event_module": subscription.module, "handler": subscription.name})
        self.dead.record("handler", error_text(failed), event.to_record(), module=subscription.module,
                         handler=subscription.name, attempts=attempt)
        return False

    def run_consumers(self, *, modules: Sequence[str] | None = None, consumer: str | None = None,
                      stop: threading.Event | None = None, block_ms: int = 1000,
                      max_batches: int | None = None) -> int:
        """Process events of this process's modules from Redis until `stop` is set; returns how many.

        On the in-process bus events are processed when they are published, so there is nothing to do.
        """
        from creator_studio.events.redis_bus import RedisBus

        if not isinstance(self.bus, RedisBus):
            return 0
        return self.bus.run_consumers(modules=modules or self.modules, consumer=consumer, stop=stop,
                                      block_ms=block_ms, max_batches=max_batches)

    # -- store and read -------------------------------------------------------------------------------------
    def query(self, workspace_id: str, *, types: Sequence[str] | None = None, since: datetime | None = None,
              correlation_id: str | None = None, limit: int = 100, after_position: int | None = None,
              ) -> list[Event]:
        """Stored events of a workspace, oldest first (the newest `limit` when nothing else narrows it)."""
        return [event for _, event in self.query_positions(
            workspace_id, types=types, since=since, correlation_id=correlation_id, limit=limit,
            after_position=after_position)]

    def query_positions(self, workspace_id: str, *, types: Sequence[str] | None = None,
                        since: datetime | None = None, correlation_id: str | None = None, limit: int = 100,
                        after_position: int | None = None) -> list[tuple[int, Event]]:
        self._catch_up()
        query = select(EventLogRow).where(EventLogRow.workspace_id == workspace_id)
        if since is not None:
            query = query.where(EventLogRow.occurred_at >= since.astimezone(UTC))
        if correlation_id is not None:
            query = query.where(EventLogRow.correlation_id == correlation_id)
        if after_position is not None:
            query = query.where(EventLogRow.position > after_position)
        patterns = None if types is None else tuple(types)
        exact = None if patterns is None or any(p == "*" or p.endswith(".*") for p in patterns) else patterns
        if exact is not None:
            query = query.where(EventLogRow.type.in_(exact))
        newest_first = after_position is None and since is None
        query = query.order_by(EventLogRow.position.desc() if newest_first else EventLogRow.position)
        found: list[tuple[int, Event]] = []
        with self._db.transaction() as session:
            for row in session.scalars(query.execution_options(yield_per=500)):
                if matches(row.type, patterns):
                    found.append((row.position, row_event(row)))
                    if len(found) >= limit:
                        break
        return sorted(found, key=lambda item: item[0])

    def get(self, event_id: str) -> Event:
        self._catch_up()
        with self._db.transaction() as session:
            row = session.scalars(select(EventLogRow).where(EventLogRow.event_id == event_id)).first()
            if row is None:
                raise InvalidInput(f"no stored event {event_id!r}; `studio events list` shows event ids")
            return row_event(row)

    def dead_letters(self, workspace_id: str | None = None, *, limit: int = 100) -> list[DeadLetter]:
        return self.dead.list(workspace_id, limit=limit)

    def verify_audit(self, workspace_id: str | None = None) -> list[ChainReport]:
        self._catch_up()
        return self.audit.verify(workspace_id)

    def _catch_up(self) -> None:
        """On Redis the audit consumer stores events after `publish` returns: a read first stores what is on
        the stream up to now, so a caller reads its own writes (and those of every publisher before it)."""
        from creator_studio.events.redis_bus import RedisBus

        if isinstance(self.bus, RedisBus):
            self.bus.store_backlog()

    # -- replay ---------------------------------------------------------------------------------------------
    def replay(self, event_ids: Iterable[str], *, modules: Sequence[str] | None = None) -> int:
        """Deliver stored events again (to `modules` only, if given). On Redis, the worker processes them."""
        events = [self.get(event_id) for event_id in event_ids]
        from creator_studio.events.redis_bus import RedisBus

        if isinstance(self.bus, RedisBus):
            self.bus.redeliver(events, modules=modules)
            return len(events)
        for event in events:
            for module in self.modules_for(event.type):
                if modules is None or module in modules:
                    self.process(module, event)
        return len(events)

    def replay_dead_letter(self, dead_letter_id: str) -> Event | None:
        """Try a dead letter again: re-validate raw input, or re-deliver the event to the module that failed."""
        letter = self.dead.get(dead_letter_id)
        result: Event | None
        if letter.stage == "validate":
            result = self.collect(letter.payload, source=letter.module or "replay")
        else:
            event = Event.model_validate(letter.payload)
            # "bus": routing itself failed, so every module is owed the event; otherwise the one that failed.
            only = [letter.module] if letter.module and letter.module != "bus" else None
            from creator_studio.events.redis_bus import RedisBus

            if isinstance(self.bus, RedisBus):
                # On the stream again, the module's done mark removed; the audit consumer stores it if it
                # is not stored yet (and skips it if it is).
                self.bus.redeliver([event], modules=only)
            elif not self._stored(event.id):  # a dead letter of an event never stored (e.g. from another bus)
                self.publish_many([event])
            else:
                self.replay([event.id], modules=only)
            result = event
        self.dead.mark_replayed(dead_letter_id)
        return result

    def redeliver_after_outage(self, *, limit: int = 500) -> int:
        """Re-send events that were stored while the bus was down (dead letters of stage "delivery" from
        module "bus"), oldest first. Stops at the first failure (the bus is still down) and returns how many
        went out; the worker calls this on every tick, so an outage heals without anyone replaying by hand."""
        pending = [letter for letter in self.dead.list(None, limit=limit, include_replayed=False)
                   if letter.stage == "delivery" and letter.module == "bus"]
        sent = 0
        for letter in sorted(pending, key=lambda item: (item.created_at, item.id)):
            try:
                self.replay_dead_letter(letter.id)
            except Exception as exc:  # still down: try again on the next tick
                logger.info("bus still unavailable, %d events wait for redelivery: %s", len(pending) - sent, exc)
                break
            sent += 1
        return sent

    def _stored(self, event_id: str) -> bool:
        with self._db.transaction() as session:
            return session.scalars(select(EventLogRow.seq).where(EventLogRow.event_id == event_id)).first() is not None

    def close(self) -> None:
        self.bus.close()
        self.webhooks.close()
