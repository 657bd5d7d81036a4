"""`studio worker`: one loop that turns time and events into jobs and runs the jobs it claims.

Each pass: the scheduler queues what became due (cron/one-off workflows, scheduled posts, a threshold
check), then the worker claims a batch of due jobs under a lease and runs them one by one; a heartbeat
thread keeps the leases of a long job alive. Event triggers come through the event service: in-process they
are handled as events are published in this process, on Redis a consumer thread reads the module's group.
Run as many workers as you like, on PostgreSQL (+ Redis): each due job fires exactly once.
"""

from __future__ import annotations

import os
import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from creator_studio.automation.engine import WorkflowEngine
from creator_studio.automation.jobs import Job, JobStore
from creator_studio.automation.scheduler import Scheduler
from creator_studio.automation.triggers import TriggerRouter
from creator_studio.errors import StudioError
from creator_studio.events.schemas import Event
from creator_studio.logs import get_logger

if TYPE_CHECKING:
    from creator_studio.studio import Studio

log = get_logger("automation.worker")

EVENT_MODULE = "automation"
COMPLETE_EVERY_S = 0.5


def default_worker_id() -> str:
    return f"{socket.gethostname()}-{os.getpid()}"


@dataclass
class WorkerOptions:
    worker_id: str = field(default_factory=default_worker_id)
    poll_interval_s: float = 0.25
    batch: int = 20
    lease: timedelta = timedelta(seconds=30)
    threshold_interval: timedelta = timedelta(minutes=1)
    consume_events: bool = True
    tick_interval_s: float = 0.2
    # False: only run jobs already queued, never tick the scheduler (a driver that queues its own runs).
    schedule: bool = True


@dataclass
class WorkerStats:
    jobs_done: int = 0
    jobs_failed: int = 0
    passes: int = 0


class Worker:
    def __init__(self, studio: Studio, options: WorkerOptions | None = None) -> None:
        self.studio = studio
        self.options = options or WorkerOptions()
        self.jobs = JobStore(studio.db)
        metrics = studio.automation.metrics
        self.engine = WorkflowEngine(studio, self.jobs, metrics)
        self.triggers = TriggerRouter(studio, self.jobs, metrics)
        self.scheduler = Scheduler(studio, self.jobs, threshold_interval=self.options.threshold_interval)
        self.stop_event = threading.Event()
        self.stats = WorkerStats()
        self._current: list[Job] = []
        self._lock = threading.Lock()
        self._threads: list[threading.Thread] = []
        self._last_tick = float("-inf")

    # Lifecycle --------------------------------------------------------------------------------------
    def start_background(self) -> None:
        """Subscribe to events (and consume them from Redis) and start the lease heartbeat."""
        if self.options.consume_events:
            self.studio.events.subscribe(EVENT_MODULE, self._on_event)
            # Every module that consumes events subscribes when first used; touch them so this worker's
            # consumer groups cover analytics and outbound webhooks too, not only the workflow triggers.
            _ = self.studio.analytics, self.studio.events.webhooks
            if self.studio.settings.redis_url:
                self._spawn("events", lambda: self.studio.events.run_consumers(
                    consumer=self.options.worker_id, stop=self.stop_event, block_ms=500))
        self._spawn("heartbeat", self._heartbeat)

    def _spawn(self, name: str, target: Any) -> None:
        thread = threading.Thread(target=target, name=f"worker-{name}", daemon=True)
        thread.start()
        self._threads.append(thread)

    def run(self, *, max_seconds: float | None = None) -> WorkerStats:
        """Loop until stopped (SIGTERM/SIGINT via `stop()`), or for `max_seconds`."""
        self.start_background()
        deadline = None if max_seconds is None else time.monotonic() + max_seconds
        log.info("worker started", extra={"worker": self.options.worker_id})
        try:
            while not self.stop_event.is_set() and (deadline is None or time.monotonic() < deadline):
                if self.run_once() == 0:
                    self.stop_event.wait(self.options.poll_interval_s)
        finally:
            self.stop()
        log.info("worker stopped", extra={"worker": self.options.worker_id, "jobs_done": self.stats.jobs_done})
        return self.stats

    def stop(self) -> None:
        self.stop_event.set()
        for thread in self._threads:
            thread.join(timeout=5)
        self._threads.clear()
        self.engine.close()

    # One pass ---------------------------------------------------------------------------------------
    def run_once(self) -> int:
        """Tick the scheduler (at most every `tick_interval_s`), then claim and run one batch. Returns how many
        jobs ran. Finished jobs are marked done together every `COMPLETE_EVERY_S` and at the end of the batch:
        a job whose worker dies before that runs again elsewhere, which every job kind tolerates (runs are
        keyed, posts go through the ledger), and its effect row is still written once."""
        self.stats.passes += 1
        if self.options.schedule and time.monotonic() - self._last_tick >= self.options.tick_interval_s:
            self._last_tick = time.monotonic()
            try:
                self.scheduler.tick(self.studio.now())
            except Exception:
                log.exception("scheduler tick failed", extra={"worker": self.options.worker_id})
        claimed = self.jobs.claim(worker=self.options.worker_id, now=self.studio.now(), limit=self.options.batch,
                                  lease=self.options.lease)
        with self._lock:
            self._current = list(claimed)
        finished: list[tuple[Job, dict[str, Any] | None]] = []
        flushed_at = time.monotonic()
        for index, job in enumerate(claimed):
            if self.stop_event.is_set():
                self.jobs.release(claimed[index:])  # stopping: others take what this worker did not start
                break
            result = self._attempt(job)
            if result is not None:
                finished.append((job, result))
            if time.monotonic() - flushed_at >= COMPLETE_EVERY_S:
                self._complete(finished)
                finished, flushed_at = [], time.monotonic()
        self._complete(finished)
        with self._lock:
            self._current = []
        return len(claimed)

    def run_to_end(self, run_id: str, *, advance_to: Callable[[datetime], None], max_passes: int = 10_000) -> str:
        """Run the queued jobs until workflow run `run_id` ends; when nothing is due yet (the run waits), call
        `advance_to(due)` to move the clock there: the simulated world's clock, where a month takes seconds.
        Returns the run's final status."""
        for _ in range(max_passes):
            if self.run_once() == 0:
                status = self.engine.status(run_id)
                if status not in ("queued", "running", "waiting"):
                    return status
                due = self.jobs.next_due()
                if due is None:
                    raise StudioError(f"workflow run {run_id} is {status} but no job is queued to continue it")
                advance_to(due)
        raise StudioError(f"workflow run {run_id} did not finish within {max_passes} worker passes")

    def _complete(self, finished: list[tuple[Job, dict[str, Any] | None]]) -> None:
        if finished:
            self.stats.jobs_done += self.jobs.complete_many(finished, worker=self.options.worker_id,
                                                            now=self.studio.now())

    def _attempt(self, job: Job) -> dict[str, Any] | None:
        """Run one job; None when it failed (it is then due again later, or failed for good)."""
        try:
            return self.execute(job)
        except Exception as exc:
            if not isinstance(exc, StudioError):
                log.exception("job failed", extra={"job_id": job.id, "kind": job.kind})
            self.jobs.fail(job, error=f"{type(exc).__name__}: {exc}", now=self.studio.now())
            self.stats.jobs_failed += 1
            return None

    def execute(self, job: Job) -> dict[str, Any]:
        if job.kind == "workflow_run":
            payload = job.payload
            run_id = payload.get("run_id") or self.engine.open_run(
                workspace_id=job.workspace_id, workflow_id=payload["workflow_id"], trigger=payload["trigger"],
                key=job.key, context=payload.get("context"), now=self.studio.now())
            return {"run_id": run_id, "status": self.engine.execute(run_id)}
        if job.kind == "scheduled_post":
            return self._publish_post(job)
        if job.kind == "threshold_check":
            return {"queued": self.triggers.check_thresholds(self.studio.now())}
        if job.kind == "mail_due":
            return self._send_due_mail()
        if job.kind == "probe":  # the scheduler benchmark's job: its effect row (with lateness) is the result
            return {}
        raise StudioError(f"unknown job kind {job.kind!r}")

    def _publish_post(self, job: Job) -> dict[str, Any]:
        post_id = job.payload["scheduled_post_id"]
        ws = self.studio.workspaces.get(job.workspace_id)
        # Through the ledger under the post's own key: a job run twice (its worker died) publishes once.
        outcome = self.studio.ledger.execute(
            key=f"scheduled_post:{post_id}", workspace_id=ws.id, run_id=None, tool="publish_post",
            arguments={"scheduled_post_id": post_id},
            perform=lambda: self.studio.content.publish_scheduled(ws, post_id).model_dump(mode="json"))
        post = outcome.result
        self.studio.events.publish("content.published", ws.id,
                                   {"post_id": post["remote_post_id"], "platform": post["platform"],
                                    "draft_id": post["draft_id"], "scheduled_post_id": post_id},
                                   source="automation", correlation_id=post_id)
        return {"scheduled_post_id": post_id, "post_id": post["remote_post_id"]}

    def _send_due_mail(self) -> dict[str, Any]:
        now = self.studio.now()
        campaigns = steps = 0
        provider = self.studio.email_provider
        # Both providers send scheduled campaigns; drip steps exist on the SMTP provider only.
        send_campaigns = getattr(provider, "send_due_campaigns", None)
        send_steps = getattr(provider, "send_due_sequence_steps", None)
        for workspace_id in self.studio.workspaces.ids():
            if send_campaigns is not None:
                campaigns += len(send_campaigns(workspace_id, now))
            if send_steps is not None:
                steps += send_steps(workspace_id, now)
        return {"campaigns": campaigns, "sequence_steps": steps}

    # Background -------------------------------------------------------------------------------------
    def _on_event(self, event: Event) -> None:
        self.triggers.on_event(event)

    def _heartbeat(self) -> None:
        interval = max(self.options.lease.total_seconds() / 3, 0.2)
        while not self.stop_event.wait(interval):
            if self.options.consume_events and self.studio.settings.redis_url:
                try:
                    self.studio.events.redeliver_after_outage()
                except Exception:
                    log.exception("redelivery after a bus outage failed", extra={"worker": self.options.worker_id})
            with self._lock:
                current = list(self._current)
            if current:
                try:
                    self.jobs.extend(current, until=self.studio.now() + self.options.lease)
                except Exception:
                    log.exception("lease heartbeat failed", extra={"worker": self.options.worker_id})
