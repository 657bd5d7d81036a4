"""Event throughput: validate → route → audit, in-process and on Redis Streams, beside raw pipelined XADD.

    .venv/bin/python benchmarks/events.py [--quick] [--events N] [--batch B] [--redis-url URL]

Starts a throwaway redis-server on loopback (unless --redis-url is given) and a SQLite audit log in a temp
dir. Three modules subscribe to everything (plus the built-in webhooks module, with no subscriptions).
Rows:
- in-process, batched: `publish_many(B events)`: validate each, one audit transaction, deliver to handlers.
- in-process, one by one: `publish()` per event (one audit transaction each).
- redis publish: validate, audit (batched), pipelined XADD.
- redis consume: XREADGROUP per module group, validate, idempotency check, handlers, XACK.
- redis end-to-end: publish + every module group consumed, over the sum of both times.
- raw XADD: the same JSON bodies, pipelined in the same batches, on the same server, in the same run.
"""

from __future__ import annotations

import argparse
import json
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import redis

from creator_studio.events import Event, EventService
from creator_studio.events.redis_bus import RedisBus
from creator_studio.store.db import Base, Database

MODULES = ("analytics", "automation", "dashboard")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def redis_server() -> Iterator[str]:
    directory = Path(tempfile.mkdtemp(prefix="bench-redis-"))
    port = free_port()
    process = subprocess.Popen(["/usr/bin/redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", "",
                                "--appendonly", "no", "--dir", str(directory)],
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        client = redis.Redis(port=port)
        for _ in range(200):
            try:
                client.ping()
                break
            except redis.ConnectionError:
                time.sleep(0.05)
        client.close()
        yield f"redis://127.0.0.1:{port}/0"
    finally:
        process.terminate()
        process.wait(timeout=10)
        shutil.rmtree(directory, ignore_errors=True)


def make_raw(count: int) -> list[dict[str, object]]:
    return [{"type": "revenue.payment_failed", "workspace_id": f"ws{i % 4}", "source": "bench",
             "data": {"payment_id": f"pi_{i}", "amount_cents": 100 + i, "currency": "usd",
                      "customer_email": f"fan{i}@example.com"}} for i in range(count)]


def batches(items: list[dict[str, object]], size: int) -> Iterator[list[dict[str, object]]]:
    for start in range(0, len(items), size):
        yield items[start:start + size]


def fresh_service(root: Path, name: str, redis_url: str | None) -> tuple[EventService, Database, list[int]]:
    db = Database(f"sqlite:///{root / (name + '.db')}")
    Base.metadata.create_all(db.engine)
    service = EventService(db, redis_url=redis_url)
    counter = [0]

    def count(event: Event) -> None:
        counter[0] += 1

    for module in MODULES:
        service.subscribe(module, count)
    return service, db, counter


def timed(action: Callable[[], object]) -> float:
    started = time.perf_counter()
    action()
    return time.perf_counter() - started


def run(count: int, batch: int, redis_url: str) -> list[tuple[str, int, float]]:
    rows: list[tuple[str, int, float]] = []
    raw = make_raw(count)
    root = Path(tempfile.mkdtemp(prefix="bench-events-"))
    try:
        # In-process, batched.
        service, db, counter = fresh_service(root, "inproc", None)
        seconds = timed(lambda: [service.publish_many([Event.model_validate(r) for r in chunk])
                                 for chunk in batches(raw, batch)])
        assert counter[0] == count * len(MODULES), counter
        rows.append((f"in-process publish_many (batch {batch}) → {len(MODULES)} modules", count, seconds))
        service.close()
        db.dispose()

        # In-process, one transaction per event (what a tool publishing one event pays).
        single = raw[: max(count // 10, 200)]
        service, db, counter = fresh_service(root, "single", None)
        seconds = timed(lambda: [service.publish(str(r["type"]), str(r["workspace_id"]),
                                                 r["data"], source="bench")  # type: ignore[arg-type]
                                 for r in single])
        assert counter[0] == len(single) * len(MODULES)
        rows.append(("in-process publish() one by one", len(single), seconds))
        service.close()
        db.dispose()

        # Redis: publish side, then every module group drains the stream.
        client = redis.Redis.from_url(redis_url)
        client.flushdb()
        service, db, counter = fresh_service(root, "redis", redis_url)
        bus = service.bus
        assert isinstance(bus, RedisBus)
        bus.maxlen = count * 2
        bus.batch = 500
        for module in service.modules:
            bus.ensure_group(module)
        publish_s = timed(lambda: [service.publish_many([Event.model_validate(r) for r in chunk])
                                   for chunk in batches(raw, batch)])

        def consume() -> None:
            while counter[0] < count * len(MODULES):
                if service.run_consumers(consumer="bench", block_ms=10, max_batches=1) == 0:
                    break

        consume_s = timed(consume)
        assert counter[0] == count * len(MODULES), counter
        assert all(client.xpending(bus.stream, m)["pending"] == 0 for m in service.modules)
        groups = len(service.modules)
        rows.append(("redis publish: validate + audit + XADD", count, publish_s))
        rows.append((f"redis consume: {groups} groups, validate + dedupe + route + XACK", count, consume_s))
        rows.append(("redis end-to-end (publish + consume)", count, publish_s + consume_s))
        service.close()
        db.dispose()

        # Raw pipelined XADD of the same bodies in the same batches.
        client.flushdb()
        bodies = [json.dumps(Event.model_validate(r).to_record(), separators=(",", ":")) for r in raw]

        def raw_xadd() -> None:
            for start in range(0, len(bodies), batch):
                pipe = client.pipeline(transaction=False)
                for body in bodies[start:start + batch]:
                    pipe.xadd("raw:events", {"event": body}, maxlen=count * 2, approximate=True)
                pipe.execute()

        rows.append(("raw pipelined XADD (same bodies, same server)", count, timed(raw_xadd)))
        client.close()
    finally:
        shutil.rmtree(root, ignore_errors=True)
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="2,000 events (CI size)")
    parser.add_argument("--events", type=int, default=None, help="events per row (default 20,000)")
    parser.add_argument("--batch", type=int, default=500)
    parser.add_argument("--redis-url", default=None, help="use this Redis (it is FLUSHed!) instead of starting one")
    args = parser.parse_args()
    count = args.events or (2_000 if args.quick else 20_000)

    @contextmanager
    def given(url: str) -> Iterator[str]:
        yield url

    with given(args.redis_url) if args.redis_url else redis_server() as url:
        rows = run(count, args.batch, url)
    rates = {name: n / seconds for name, n, seconds in rows}
    print(f"{'path':<62} {'events':>8} {'seconds':>8} {'events/s':>10}")
    for name, n, seconds in rows:
        print(f"{name:<62} {n:>8} {seconds:>8.2f} {n / seconds:>10,.0f}")
    raw = rates["raw pipelined XADD (same bodies, same server)"]
    end_to_end = rates["redis end-to-end (publish + consume)"]
    publish = rates["redis publish: validate + audit + XADD"]
    print(f"\nredis end-to-end / raw XADD = {end_to_end / raw:.2f}x; publish side alone / raw XADD = "
          f"{publish / raw:.2f}x (goal >= 0.5x)")


if __name__ == "__main__":
    main()
