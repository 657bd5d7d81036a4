"""Scheduler lateness: how late N due jobs fire with several `studio worker` processes sharing them.

    .venv/bin/python benchmarks/scheduler.py [--quick] [--jobs N] [--workers W] [--rate R] [--sqlite]
                                             [--database-url URL] [--record]

Starts a throwaway PostgreSQL cluster on loopback (unless --sqlite or --database-url is given), queues N
probe jobs due at R per second starting 2 s from now, and starts W worker processes (the real `Worker`
loop: scheduler tick, lease claim with SKIP LOCKED, fenced completion with an effect row). Lateness is the
effect row's `ran_at - due_at` of each job. Bounded: it stops after the last due time + 60 s whatever
happened, and reports what ran (and checks each job ran exactly once).
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
os.environ.setdefault("HF_HUB_OFFLINE", "1")

from sqlalchemy import func, select  # noqa: E402

from benchmarks.common import machine_line, percentile, write_section  # noqa: E402
from creator_studio.automation.jobs import JobStore, NewJob  # noqa: E402
from creator_studio.automation.models import JobEffectRow, JobRow  # noqa: E402
from creator_studio.settings import Settings  # noqa: E402
from creator_studio.store.db import Database  # noqa: E402
from creator_studio.store.models import Base  # noqa: E402


@contextmanager
def postgres() -> Iterator[str]:
    from tests.servers import _as_postgres, _postgres_bin, free_port

    bin_dir = _postgres_bin()
    if bin_dir is None:
        raise SystemExit("PostgreSQL is not installed: use --sqlite or --database-url")
    directory = Path(tempfile.mkdtemp(prefix="bench-pg-"))
    if os.geteuid() == 0:
        shutil.chown(directory, "postgres", "postgres")
    port = free_port()
    _as_postgres([str(bin_dir / "initdb"), "-D", str(directory / "data"), "-U", "postgres", "--auth=trust",
                  "--no-sync"])
    options = f"-p {port} -c listen_addresses=127.0.0.1 -k {directory} -c fsync=off -c full_page_writes=off"
    try:
        _as_postgres([str(bin_dir / "pg_ctl"), "-D", str(directory / "data"), "-l", str(directory / "log"), "-o",
                      options, "-w", "-t", "60", "start"])
        _as_postgres([str(bin_dir / "createdb"), "-h", "127.0.0.1", "-p", str(port), "-U", "postgres", "bench"])
        yield f"postgresql+psycopg://postgres@127.0.0.1:{port}/bench"
    finally:
        subprocess.run(["runuser", "-u", "postgres", "--"] * (os.geteuid() == 0)
                       + [str(bin_dir / "pg_ctl"), "-D", str(directory / "data"), "-m", "immediate", "stop"],
                       capture_output=True, timeout=60)
        shutil.rmtree(directory, ignore_errors=True)


def work(url: str, home: str, name: str, ready: Any, stop: Any) -> None:
    """One worker process: the real Worker loop (without event consumers) until `stop` is set."""
    from creator_studio.automation.worker import Worker, WorkerOptions
    from creator_studio.studio import Studio

    studio = Studio.open(Settings(home=Path(home), database_url=url, model="offline", log_level="ERROR"),
                         migrate_schema=False)
    worker = Worker(studio, WorkerOptions(worker_id=name, poll_interval_s=0.01, batch=100,
                                          lease=timedelta(seconds=30), consume_events=False))

    def relay_stop() -> None:
        stop.wait()
        worker.stop_event.set()

    threading.Thread(target=relay_stop, daemon=True).start()
    ready.set()
    worker.run()
    studio.close()


def run(url: str, jobs: int, workers: int, rate: float, home: Path) -> dict[str, float]:
    db = Database(url)
    Base.metadata.create_all(db.engine)
    context = multiprocessing.get_context("spawn")
    stop = context.Event()
    readies = [context.Event() for _ in range(workers)]
    processes = [context.Process(target=work, args=(url, str(home), f"bench-{n}", readies[n], stop))
                 for n in range(workers)]
    for process in processes:
        process.start()
    try:
        for ready in readies:  # imports on a busy machine can take a while: jobs are queued once all listen
            if not ready.wait(timeout=300):
                raise SystemExit("a worker process did not start within 300 s")
        start = datetime.now(UTC) + timedelta(seconds=2)
        last_due = start + timedelta(seconds=jobs / rate)
        JobStore(db).enqueue([NewJob(workspace_id="bench", kind="probe", key=f"probe:{i}", payload={},
                                     due_at=start + timedelta(seconds=i / rate)) for i in range(jobs)],
                             now=datetime.now(UTC))
        until = last_due.timestamp() + 60
        while time.time() < until:
            with db.transaction() as session:
                done = session.scalar(select(func.count()).select_from(JobRow).where(JobRow.status == "done")) or 0
            if done >= jobs:
                break
            time.sleep(0.2)
    finally:
        stop.set()
        for process in processes:
            process.join(timeout=30)
            if process.is_alive():
                process.terminate()
                process.join(timeout=10)
    with db.transaction() as session:
        effects = session.execute(select(JobEffectRow.job_id, JobEffectRow.lateness_ms, JobEffectRow.ran_at)
                                  .where(JobEffectRow.kind == "probe")).all()
    db.dispose()
    if len({e.job_id for e in effects}) != len(effects):
        raise SystemExit("a job ran twice: the exactly-once guarantee is broken")
    late = [e.lateness_ms / 1000 for e in effects]
    finished = max(e.ran_at for e in effects) if effects else start
    return {"jobs": jobs, "ran": len(effects), "p50": percentile(late, 50) if late else float("nan"),
            "p99": percentile(late, 99) if late else float("nan"), "max": max(late, default=float("nan")),
            "seconds": (finished - start).total_seconds()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="1,000 jobs (CI size)")
    parser.add_argument("--jobs", type=int, default=None, help="jobs (default 10,000)")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--rate", type=float, default=1000.0, help="jobs falling due per second")
    parser.add_argument("--sqlite", action="store_true", help="a SQLite file instead of PostgreSQL")
    parser.add_argument("--database-url", default=None, help="an empty database to use instead")
    parser.add_argument("--record", action="store_true", help="write the figures into BENCHMARKS.md")
    args = parser.parse_args()
    jobs = args.jobs or (1_000 if args.quick else 10_000)
    if jobs < 1 or args.workers < 1 or args.rate <= 0:
        raise SystemExit("--jobs, --workers and --rate must be positive")
    home = Path(tempfile.mkdtemp(prefix="bench-sched-"))

    @contextmanager
    def given(url: str) -> Iterator[str]:
        yield url

    if args.database_url:
        database = given(args.database_url)
    elif args.sqlite:
        database = given(f"sqlite:///{home / 'bench.db'}")
    else:
        database = postgres()
    with database as url:
        result = run(url, jobs, args.workers, args.rate, home)
    shutil.rmtree(home, ignore_errors=True)
    backend = "sqlite" if url.startswith("sqlite") else "postgresql"
    header = (f"{'backend':<11} {'workers':>7} {'jobs':>7} {'ran':>7} {'due/s':>7} {'p50 s':>7} {'p99 s':>7} "
              f"{'max s':>7}")
    row = (f"{backend:<11} {args.workers:>7} {jobs:>7} {int(result['ran']):>7} {args.rate:>7.0f} "
           f"{result['p50']:>7.3f} {result['p99']:>7.3f} {result['max']:>7.3f}")
    print(header)
    print(row)
    load = os.getloadavg()[0]
    print(f"goal: p99 < 1 s -> {'met' if result['p99'] < 1 else 'NOT met'}; throughput "
          f"{result['ran'] / max(result['seconds'], 1e-9):.0f} jobs/s; load average {load:.1f}")
    if args.record:
        command = " ".join(["benchmarks/scheduler.py", *sys.argv[1:]]).replace(" --record", "")
        write_section("Scheduler (issue 7)", f"`.venv/bin/python {command}` ({machine_line()})\n\n"
                      f"```\n{header}\n{row}\n```\n\nLoad average during the run: {load:.1f}. "
                      f"Lateness = effect row `ran_at - due_at` per job (probe jobs: claim with SKIP "
                      f"LOCKED/compare-and-set + fenced completion); every job ran exactly once.")


if __name__ == "__main__":
    main()
