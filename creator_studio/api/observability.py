"""Prometheus metrics for the API: one registry per app, so tests can build many apps in one process."""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable

from fastapi import FastAPI, Request, Response
from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram


class ApiMetrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.requests = Counter("studio_http_requests_total", "HTTP requests by route, method and status.",
                                ["route", "method", "status"], registry=self.registry)
        self.latency = Histogram("studio_http_request_seconds", "HTTP request latency by route.",
                                 ["route", "method"], registry=self.registry)
        self.sse_clients = Gauge("studio_sse_clients", "Connected live (SSE) clients.", registry=self.registry)
        self.runs = Counter("studio_api_runs_total", "Runs started through the API, by final status.",
                            ["status"], registry=self.registry)


def install(app: FastAPI, metrics: ApiMetrics) -> None:
    app.state.metrics = metrics

    @app.middleware("http")
    async def _measure(request: Request, call_next: Callable[[Request], Awaitable[Response]]) -> Response:
        started = time.perf_counter()
        response = await call_next(request)
        route = request.scope.get("route")
        # The route template, not the raw path: ids would make one time series per resource.
        label = getattr(route, "path", "unmatched")
        metrics.requests.labels(label, request.method, str(response.status_code)).inc()
        metrics.latency.labels(label, request.method).observe(time.perf_counter() - started)
        return response
