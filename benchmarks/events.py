"""Event throughput: validate → route → audit, in-process and on Redis Streams, beside raw pipelined XADD.

    .venv/bin/python benchmarks/events.py [--quick] [--events N] [--batch B] [--workers 1,2] [--redis-url URL]

Starts a throwaway redis-server on loopback (unless --redis-url is given) and a SQLite audit log in a temp
dir. Three modules subscribe to everything (plus the built-in webhooks module, with no subscriptions).
Rows:
- in-process, batched: `publish_many(B events)`: validate each, one audit transaction, deliver to handlers.
- in-process, one by one: `publish()` per event (one audit transaction each).
- redis publish alone: validate + pipelined XADD with no worker running (the publish hot path by itself).
- redis, as production runs it: this process publishes (validate + pipelined XADD, B per batch) while N
  worker processes (this script with --consume: `run_consumers`, as `studio worker` runs it) consume the
  audit group (batched, hash-chained append, ack after commit) and the 4 module groups (validate once per
  process, dedupe by id, handlers, XACK). "end-to-end" is events / (first publish → the moment every group
  has acknowledged the last entry), polled on Redis; then the handler calls and the audit log (count +
  `verify`) are checked.
- raw XADD: the same JSON bodies, pipelined in the same batches, on the same server, in the same run.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import redis
from sqlalchemy import func, select

from creator_studio import gc_policy
from creator_studio.events import Event, EventService
from creator_studio.events.models import EventLogRow
from creator_studio.events.redis_bus import AUDIT_GROUP, RedisBus, encode
from creator_studio.store.db import Base, Database

MODULES = ("analytics", "automation", "dashboard")
RAW_ROW = "raw pipelined XADD (same bodies, same server)"
# CPU seconds per process kind for the Redis rows (where the cores went): label -> (publisher or client,
# worker processes together, redis-server, events, wall seconds).
CPU_ROWS: list[tuple[str, float, float, float, int, float]] = []


def redis_cpu(client: redis.Redis) -> float:
    """redis-server's own CPU seconds so far (user + system), from INFO."""
    info: Any = client.info("cpu")
    return float(info["used_cpu_user"]) + float(info["used_cpu_sys"])


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


def start_workers(n: int, db_path: Path, redis_url: str, stream: str) -> list[subprocess.Popen[str]]:
    """`studio worker`-like consumer processes (audit group + module groups), ready before the first publish."""
    workers = [subprocess.Popen([sys.executable, __file__, "--consume", "--db", str(db_path), "--redis-url", redis_url,
                                 "--stream", stream, "--worker-id", f"w{i}"],
                                stdout=subprocess.PIPE, text=True) for i in range(n)]
    for worker in workers:
        assert worker.stdout is not None and worker.stdout.readline().strip() == "ready", "worker did not start"
    return workers


def stop_workers(workers: list[subprocess.Popen[str]]) -> tuple[int, float]:
    """SIGTERM each (it finishes its round and exits); returns the handler calls they made together and the CPU
    seconds they used from "ready" on."""
    calls, cpu = 0, 0.0
    for worker in workers:
        worker.send_signal(signal.SIGTERM)
        out, _ = worker.communicate(timeout=60)
        made, used = out.split()[-2:]
        calls, cpu = calls + int(made), cpu + float(used)
    return calls, cpu


def all_groups_done(client: redis.Redis, stream: str, groups: list[str], last_id: Any) -> bool:
    """Every group (audit log + modules) has read up to the last entry and acknowledged everything."""
    found: Any = client.xinfo_groups(stream)
    infos = {(g["name"].decode() if isinstance(g["name"], bytes) else g["name"]): g for g in found}
    return all(name in infos and infos[name]["pending"] == 0 and infos[name]["last-delivered-id"] == last_id
               for name in groups)


def events_on_stream(client: redis.Redis, stream: str) -> int:
    """Events on the stream: an `event` entry is one, an `events` entry (a pack) is its array's length."""
    entries: Any = client.xrange(stream)
    return sum(len(json.loads(fields[b"events"])) if b"events" in fields else 1 for _, fields in entries)


def redis_run(raw: list[dict[str, object]], batch: int, redis_url: str, root: Path, workers_n: int
              ) -> tuple[float, float]:
    """Publish everything while `workers_n` consumer processes run. Returns (publish seconds, seconds from the
    first publish until the last group acknowledged the last entry)."""
    count = len(raw)
    client = redis.Redis.from_url(redis_url)
    client.flushdb()
    name = f"redis{workers_n}"
    service, db, _ = fresh_service(root, name, redis_url)
    bus = service.bus
    assert isinstance(bus, RedisBus)
    bus.maxlen = count * 2
    groups = [AUDIT_GROUP, *service.modules]
    for group in groups:
        bus.ensure_group(group)
    if workers_n == 0:  # the publish hot path alone (a backlog for workers that are not running)
        seconds = timed(lambda: [service.publish_many([Event.model_validate(r) for r in chunk])
                                 for chunk in batches(raw, batch)])
        assert events_on_stream(client, bus.stream) == count
        service.close()
        db.dispose()
        client.close()
        return seconds, float("nan")
    workers = start_workers(workers_n, root / f"{name}.db", redis_url, bus.stream)
    try:
        redis_started = redis_cpu(client)
        started, cpu_started = time.perf_counter(), time.process_time()
        for chunk in batches(raw, batch):
            service.publish_many([Event.model_validate(r) for r in chunk])
        published, publisher_cpu = time.perf_counter(), time.process_time() - cpu_started
        newest: Any = client.xrevrange(bus.stream, count=1)
        last_id = newest[0][0]
        deadline = published + 600
        while not all_groups_done(client, bus.stream, groups, last_id):
            assert time.perf_counter() < deadline, "the workers did not catch up"
            time.sleep(0.005)
        finished = time.perf_counter()
        redis_used = redis_cpu(client) - redis_started
    finally:
        calls, workers_cpu = stop_workers(workers)
    CPU_ROWS.append((f"end-to-end, {workers_n} worker{'s' if workers_n > 1 else ''}", publisher_cpu, workers_cpu,
                     redis_used, count, finished - started))
    assert calls == count * len(MODULES), (calls, count)
    with db.transaction() as session:
        assert session.scalar(select(func.count()).select_from(EventLogRow)) == count
    assert all(report.ok for report in service.verify_audit())
    service.close()
    db.dispose()
    client.close()
    return published - started, finished - started


def run(count: int, batch: int, redis_url: str, workers: list[int]) -> list[tuple[str, int, float]]:
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

        # Redis: the publish path alone, then the publisher (validate + XADD) and worker processes (audit
        # group + module groups) at once.
        publish_s, _ = redis_run(raw, batch, redis_url, root, 0)
        rows.append(("redis publish alone: validate + XADD (no worker running)", count, publish_s))
        for n in workers:
            publish_s, total_s = redis_run(raw, batch, redis_url, root, n)
            rows.append((f"redis publish: validate + XADD ({n} worker{'s' if n > 1 else ''} running)",
                         count, publish_s))
            rows.append((f"redis end-to-end, {n} worker{'s' if n > 1 else ''}: first publish → last ack",
                         count, total_s))

        # Raw pipelined XADD of the same bodies in the same batches.
        client = redis.Redis.from_url(redis_url)
        client.flushdb()
        bodies = [encode(Event.model_validate(r)) for r in raw]  # byte for byte what the bus XADDs

        raw_redis_started, raw_cpu_started = redis_cpu(client), time.process_time()

        def raw_xadd() -> None:
            for start in range(0, len(bodies), batch):
                pipe = client.pipeline(transaction=False)
                for body in bodies[start:start + batch]:
                    pipe.xadd("raw:events", {"event": body}, maxlen=count * 2, approximate=True)
                pipe.execute()

        raw_seconds = timed(raw_xadd)
        CPU_ROWS.append(("raw pipelined XADD", time.process_time() - raw_cpu_started, 0.0,
                         redis_cpu(client) - raw_redis_started, count, raw_seconds))
        rows.append((RAW_ROW, count, raw_seconds))
        client.close()
    finally:
        shutil.rmtree(root, ignore_errors=True)
    return rows


def consume(db_path: str, redis_url: str, stream: str, worker_id: str) -> None:
    """The worker side (`--consume`): what `studio worker` runs for events, with the benchmark's handlers."""
    db = Database(f"sqlite:///{db_path}")
    service = EventService(db, redis_url=redis_url)
    bus = service.bus
    assert isinstance(bus, RedisBus)
    bus.stream = stream
    calls = [0]

    def count(event: Event) -> None:
        calls[0] += 1

    for module in MODULES:
        service.subscribe(module, count)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    gc_policy.tune_for_worker()  # as `studio worker` does
    print("ready", flush=True)
    cpu_started = time.process_time()
    service.run_consumers(consumer=worker_id, stop=stop, block_ms=50)
    service.close()
    db.dispose()
    print(calls[0], time.process_time() - cpu_started, flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="2,000 events (CI size)")
    parser.add_argument("--events", type=int, default=None, help="events per row (default 20,000)")
    parser.add_argument("--batch", type=int, default=500)
    parser.add_argument("--workers", default="1,2", help="worker process counts to measure, e.g. 1,2")
    parser.add_argument("--redis-url", default=None, help="use this Redis (it is FLUSHed!) instead of starting one")
    parser.add_argument("--consume", action="store_true", help=argparse.SUPPRESS)  # a worker process
    parser.add_argument("--db", help=argparse.SUPPRESS)
    parser.add_argument("--stream", help=argparse.SUPPRESS)
    parser.add_argument("--worker-id", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.consume:
        consume(args.db, args.redis_url, args.stream, args.worker_id)
        return
    count = args.events or (2_000 if args.quick else 20_000)
    workers = [int(n) for n in args.workers.split(",")]

    @contextmanager
    def given(url: str) -> Iterator[str]:
        yield url

    with given(args.redis_url) if args.redis_url else redis_server() as url:
        rows = run(count, args.batch, url, workers)
    rates = {name: n / seconds for name, n, seconds in rows}
    print(f"{'path':<62} {'events':>8} {'seconds':>8} {'events/s':>10} {'× raw':>6}")
    raw = rates[RAW_ROW]
    for name, n, seconds in rows:
        print(f"{name:<62} {n:>8} {seconds:>8.2f} {n / seconds:>10,.0f} {n / seconds / raw:>6.2f}")
    print("\ngoal: redis end-to-end >= 0.5x raw pipelined XADD (same bodies, same server, same run)")
    print(f"\nwhere the cores went (CPU µs per event; {os.cpu_count()} cores):")
    print(f"{'run':<26} {'publisher':>10} {'workers':>8} {'redis':>6} {'total':>6} {'wall':>6} {'cores busy':>10}")
    for label, publisher, workers_cpu, redis_used, n, wall in CPU_ROWS:
        total = publisher + workers_cpu + redis_used
        print(f"{label:<26} {publisher / n * 1e6:>10.1f} {workers_cpu / n * 1e6:>8.1f} {redis_used / n * 1e6:>6.1f} "
              f"{total / n * 1e6:>6.1f} {wall / n * 1e6:>6.1f} {total / wall:>10.2f}")


if __name__ == "__main__":
    main()
