"""API benchmark: requests/s and latency of `GET /api/metrics`, and SSE fan-out latency from a published
event to N connected `/api/events/stream` clients. Loopback only, bounded in time.

    .venv/bin/python benchmarks/api.py            # 20 s of load, 200 SSE clients, 20 events
    .venv/bin/python benchmarks/api.py --quick    # 5 s of load, 200 SSE clients, 5 events
    .venv/bin/python benchmarks/api.py --uncached # the same, computing the summary on every request

`/api/metrics` is measured twice: with no events (every request after the first is a cache hit) and while
4 events/s arrive (each one drops the cached summary, so the next request recomputes it).

The server (uvicorn, the real app over a seeded sandbox workspace in a temp STUDIO_HOME) runs in this
process; the load and the SSE clients run in a child process so they do not share its interpreter lock.
An event carries the wall-clock time it was published; each client notes when it arrived.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def percentile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q / 100 * len(ordered)) - 1))]


# -- child process: load generator and SSE clients ---------------------------------------------------------
async def load(url: str, token: str, path: str, seconds: float, concurrency: int) -> dict[str, Any]:
    latencies: list[float] = []
    errors = 0
    deadline = time.perf_counter() + seconds
    headers = {"Authorization": f"Bearer {token}"}
    async with httpx.AsyncClient(base_url=url, headers=headers, timeout=30,
                                 limits=httpx.Limits(max_connections=concurrency)) as client:
        async def worker() -> None:
            nonlocal errors
            while time.perf_counter() < deadline:
                started = time.perf_counter()
                try:
                    response = await client.get(path)
                except httpx.TransportError:  # e.g. a keep-alive connection the loaded server closed: counted
                    errors += 1
                    continue
                if response.status_code == 200:
                    latencies.append((time.perf_counter() - started) * 1000)
                else:
                    errors += 1

        started = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        elapsed = time.perf_counter() - started
    return {"requests": len(latencies), "errors": errors, "seconds": elapsed,
            "rps": len(latencies) / elapsed, "p50_ms": percentile(latencies, 50), "p99_ms": percentile(latencies, 99)}


async def fan_out(url: str, token: str, clients: int, events: int, timeout_s: float) -> dict[str, Any]:
    latencies: list[float] = []
    connected = 0
    headers = {"Authorization": f"Bearer {token}"}
    ready = asyncio.Event()

    async def client(http: httpx.AsyncClient) -> int:
        nonlocal connected
        got = 0
        async with http.stream("GET", "/api/events/stream", params={"types": "audience.*"}) as response:
            connected += 1
            if connected == clients:
                ready.set()
            async for line in response.aiter_lines():
                if line.startswith("data:"):
                    arrived = time.time()
                    sent = json.loads(line[5:])["data"]["sent_at"]
                    latencies.append((arrived - sent) * 1000)
                    got += 1
                    if got == events:
                        return got
        return got

    async with httpx.AsyncClient(base_url=url, headers=headers, timeout=httpx.Timeout(timeout_s, read=None),
                                 limits=httpx.Limits(max_connections=clients + 10)) as http:
        tasks = [asyncio.create_task(client(http)) for _ in range(clients)]
        await asyncio.wait_for(ready.wait(), timeout=timeout_s)
        print("ready", flush=True)  # the parent publishes now
        done, pending = await asyncio.wait(tasks, timeout=timeout_s)
        for task in pending:
            task.cancel()
    delivered = sum(t.result() for t in done if not t.cancelled() and t.exception() is None)
    return {"clients": clients, "events": events, "delivered": delivered, "expected": clients * events,
            "p50_ms": percentile(latencies, 50), "p99_ms": percentile(latencies, 99),
            "max_ms": max(latencies) if latencies else float("nan")}


def child(args: argparse.Namespace) -> None:
    if args.mode == "load":
        result = asyncio.run(load(args.url, args.token, args.path, args.seconds, args.concurrency))
    else:
        result = asyncio.run(fan_out(args.url, args.token, args.clients, args.events, args.timeout))
    print("result " + json.dumps(result), flush=True)


# -- parent: the server, the publisher, the table ----------------------------------------------------------
def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def run_child(extra: list[str], *, on_ready: Any = None, timeout_s: float = 300) -> dict[str, Any]:
    process = subprocess.Popen([sys.executable, __file__, "--child", *extra], stdout=subprocess.PIPE, text=True)
    assert process.stdout is not None
    result: dict[str, Any] = {}
    try:
        for line in process.stdout:
            if line.startswith("ready") and on_ready is not None:
                threading.Thread(target=on_ready, daemon=True).start()
            elif line.startswith("result "):
                result = json.loads(line.removeprefix("result "))
        process.wait(timeout=timeout_s)
    finally:
        if process.poll() is None:
            process.kill()
    if process.returncode != 0 or not result:
        raise RuntimeError(f"benchmark client failed (exit {process.returncode})")
    return result


class Uncached:
    """Stands in for the API's summary cache: computes every time (what /api/metrics did before it)."""

    def get(self, workspace_id: str, variant: str, compute: Any) -> bytes:
        return bytes(compute())

    def invalidate(self, workspace_id: str) -> None:
        pass


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="CI-size run (about 30 s in all).")
    parser.add_argument("--clients", type=int, default=200, help="SSE clients (default 200).")
    parser.add_argument("--concurrency", type=int, default=16, help="Concurrent requests for the load test.")
    parser.add_argument("--uncached", action="store_true",
                        help="Compute the /api/metrics summary on every request (the figures before the cache).")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--mode", choices=["load", "fanout"], help=argparse.SUPPRESS)
    parser.add_argument("--url", help=argparse.SUPPRESS)
    parser.add_argument("--token", help=argparse.SUPPRESS)
    parser.add_argument("--path", default="/api/metrics", help=argparse.SUPPRESS)
    parser.add_argument("--seconds", type=float, default=5, help=argparse.SUPPRESS)
    parser.add_argument("--events", type=int, default=5, help=argparse.SUPPRESS)
    parser.add_argument("--timeout", type=float, default=60, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args)
        return

    import uvicorn

    from creator_studio.api.app import create_app
    from creator_studio.api.tokens import TokenService
    from creator_studio.sandbox.bootstrap import create_workspace
    from creator_studio.settings import Settings
    from creator_studio.studio import Studio

    seconds, events = (5.0, 5) if args.quick else (20.0, 20)
    with tempfile.TemporaryDirectory(prefix="studio-bench-") as home:
        studio = Studio.open(Settings(home=Path(home), model="offline", log_level="ERROR"))
        create_workspace(studio, "default")
        token = TokenService(studio.db).create("default", role="viewer", name="bench").token
        app = create_app(studio)
        if args.uncached:
            app.state.api.summaries = Uncached()
        port = free_port()
        server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="error",
                                               timeout_graceful_shutdown=1, backlog=4096))
        thread = threading.Thread(target=server.run, daemon=True)
        thread.start()
        url = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 30
        while not server.started:
            if time.monotonic() > deadline:
                raise SystemExit("the server did not start in 30 s")
            time.sleep(0.05)
        try:
            loaded = run_child(["--mode", "load", "--url", url, "--token", token, "--seconds", str(seconds),
                                "--concurrency", str(args.concurrency)])
            stop_events = threading.Event()

            def trickle() -> None:  # 4 events/s, each invalidating the workspace's cached summary
                while not stop_events.wait(0.25):
                    studio.events.publish("audience.follower_gained", "default",
                                          {"platform": "x", "count": 1, "sent_at": time.time()}, source="bench")

            publisher = threading.Thread(target=trickle, daemon=True)
            publisher.start()
            try:
                churned = run_child(["--mode", "load", "--url", url, "--token", token, "--seconds", str(seconds / 2),
                                     "--concurrency", str(args.concurrency)])
            finally:
                stop_events.set()
                publisher.join(timeout=5)
            # The same load on a route that does no work: what the HTTP stack itself costs here.
            baseline = run_child(["--mode", "load", "--url", url, "--token", token, "--path", "/healthz",
                                  "--seconds", str(seconds / 2), "--concurrency", str(args.concurrency)])

            def publish() -> None:
                for _ in range(events):
                    time.sleep(0.25)
                    studio.events.publish("audience.follower_gained", "default",
                                          {"platform": "x", "count": 1, "sent_at": time.time()}, source="bench")

            fanned = run_child(["--mode", "fanout", "--url", url, "--token", token, "--clients", str(args.clients),
                                "--events", str(events), "--timeout", "60"], on_ready=publish)
        finally:
            server.should_exit = True
            thread.join(timeout=10)
            app.state.api.runner.close()
            studio.close()

    cache = "uncached" if args.uncached else "cached"
    print(f"\nAPI benchmark ({'quick' if args.quick else 'full'}, /api/metrics {cache}; loopback, server in-process, "
          f"clients in a child process; {os.cpu_count()} CPUs, load average "
          f"{' '.join(f'{x:.1f}' for x in os.getloadavg())} at the end)")
    print(f"{'measure':<44}{'value':>14}")
    print(f"{'GET /api/metrics requests/s (' + str(args.concurrency) + ' concurrent)':<44}{loaded['rps']:>14.1f}")
    print(f"{'GET /api/metrics p50 ms':<44}{loaded['p50_ms']:>14.1f}")
    print(f"{'GET /api/metrics p99 ms':<44}{loaded['p99_ms']:>14.1f}")
    counted = f"{loaded['requests']} ({loaded['errors']})"
    print(f"{'GET /api/metrics requests (errors)':<44}{counted:>14}")
    print(f"{'... while 4 events/s arrive: requests/s':<44}{churned['rps']:>14.1f}")
    print(f"{'... while 4 events/s arrive: p50 ms':<44}{churned['p50_ms']:>14.1f}")
    print(f"{'... while 4 events/s arrive: p99 ms':<44}{churned['p99_ms']:>14.1f}")
    print(f"{'GET /healthz requests/s (baseline)':<44}{baseline['rps']:>14.1f}")
    print(f"{'GET /healthz p99 ms (baseline)':<44}{baseline['p99_ms']:>14.1f}")
    print(f"{'SSE clients connected':<44}{fanned['clients']:>14}")
    print(f"{'SSE events delivered / expected':<44}{str(fanned['delivered']) + '/' + str(fanned['expected']):>14}")
    print(f"{'SSE fan-out latency p50 ms':<44}{fanned['p50_ms']:>14.1f}")
    print(f"{'SSE fan-out latency p99 ms':<44}{fanned['p99_ms']:>14.1f}")
    print(f"{'SSE fan-out latency max ms':<44}{fanned['max_ms']:>14.1f}")
    if fanned["delivered"] != fanned["expected"]:
        raise SystemExit("some events were not delivered to every client")


if __name__ == "__main__":
    main()
