"""R3 bad input: schemathesis against the API's own OpenAPI description, in-process (ASGI, no server).

Every operation of the description gets generated requests in both modes: positive (valid by the schema) and
negative (each one breaks the schema somewhere), all sent with a valid owner token of the seeded workspace.
Every response must pass schemathesis' checks (no 5xx, a declared status, a declared content type, a body and
headers that match the declared schema, invalid data rejected, valid data accepted) plus ours: every 4xx/5xx is
an RFC 9457 problem detail (`application/problem+json` with type, title, status and detail).

Generation is derandomized (Hypothesis' derandomize): the same requests in every run, so CI is reproducible.
Failures are collected (not shrunk) and listed all at once. Knobs: RELIABILITY_FUZZ_EXAMPLES (examples per
operation and mode, default 13).

Run: .venv/bin/pytest -q -p no:cacheprovider tests/reliability/test_openapi_fuzz.py
"""

from __future__ import annotations

import contextlib
import json
import os
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Any, cast

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import Case, GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.core.failures import Failure, FailureGroup
from schemathesis.core.result import Err
from schemathesis.openapi.checks import RejectedPositiveData
from schemathesis.python import asgi
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    negative_data_rejection,
    positive_data_acceptance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from creator_studio.api.app import create_app
from creator_studio.api.tokens import TokenService
from creator_studio.runs.runner import Runner
from creator_studio.studio import Studio
from tests.reliability.figures import ARTIFACTS, report

pytestmark = pytest.mark.integration

EXAMPLES = int(os.environ.get("RELIABILITY_FUZZ_EXAMPLES", "13"))
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance,
          response_headers_conformance, negative_data_rejection, positive_data_acceptance]
PROBLEM_MEDIA_TYPE = "application/problem+json"
# Each valid goal runs the whole Command Center graph (seconds each), so POST /api/chat gets a few valid goals;
# its invalid bodies are cheap and get the full count.
FEW_POSITIVE = {"POST /api/chat": 3}
# A workflow definition is a deep recursive schema: drawing one costs ~20x a flat body, so these two get fewer.
FEWER = {"POST /api/workflows": 6, "PUT /api/workflows/{workflow_id}": 6}
# Live streams never end by themselves: the transport keeps what arrived before this read timeout.
STREAM_TIMEOUT_S = 0.3
STREAMS = {"GET /api/events/stream"}
SEMANTIC_CHECKS = {"POST /api/workflows", "PUT /api/workflows/{workflow_id}"}


@dataclass
class Tally:
    requests: int = 0
    by_status: Counter[int] = field(default_factory=Counter)
    failures: list[str] = field(default_factory=list)
    operations: int = 0


def problem_failures(status: int, content_type: str, body: bytes) -> list[str]:
    """Why a 4xx/5xx response is not a problem detail (empty when it is one)."""
    if not content_type.startswith(PROBLEM_MEDIA_TYPE):
        return [f"content type {content_type!r}, not {PROBLEM_MEDIA_TYPE}"]
    try:
        document = json.loads(body)
    except ValueError:
        return ["the body is not JSON"]
    if not isinstance(document, dict):
        return ["the body is not a JSON object"]
    wrong = [f"{key} missing or not text" for key in ("type", "title", "detail")
             if not isinstance(document.get(key), str) or not document[key]]
    if document.get("status") != status:
        wrong.append(f"status {document.get('status')!r} differs from the response's {status}")
    return wrong


def semantic_rejection(label: str, response: Any) -> bool:
    """A schema-valid workflow definition that still fails its semantic checks (a cron that never fires, a tool
    outside the catalogue or an argument it does not take, a time already past, an event namespace that does not
    exist) is a 422 that names the field inside `body.definition`. JSON Schema cannot express those checks, so
    for these operations such a 422 is the right answer to "valid" data; any other rejection still fails."""
    if label not in SEMANTIC_CHECKS or response.status_code != 422:
        return False
    errors = json.loads(response.content).get("errors") or []
    return bool(errors) and all(str(e.get("field", "")).startswith("body.definition") for e in errors)


def fuzz_operation(operation: Any, mode: GenerationMode, count: int, token: str, client: asgi.ASGIClient,
                   tally: Tally) -> None:
    label = operation.label
    timeout = STREAM_TIMEOUT_S if label in STREAMS else 30.0

    @settings(max_examples=count, derandomize=True, database=None, deadline=None, phases=[Phase.generate],
              suppress_health_check=list(HealthCheck))
    @given(case=operation.as_strategy(generation_mode=mode))
    def run(case: Case) -> None:
        response = case.call(session=client, headers={"Authorization": f"Bearer {token}"}, timeout=timeout)
        tally.requests += 1
        tally.by_status[response.status_code] += 1
        where = f"{label} [{mode.value}] {response.status_code}"
        try:
            case.validate_response(response, checks=CHECKS)
        except FailureGroup as group:
            tally.failures += [f"{where}: {failure_title(f)}\n    {case.as_curl_command()}"
                               for f in group.exceptions
                               if not (isinstance(f, RejectedPositiveData) and semantic_rejection(label, response))]
        if response.status_code >= 400:
            content_type = (response.headers.get("content-type") or [""])[0]  # schemathesis: lists
            wrong = problem_failures(response.status_code, content_type, response.content)
            if wrong:
                tally.failures.append(f"{where}: not a problem detail ({'; '.join(wrong)}): {response.text[:200]}")

    with contextlib.suppress(Unsatisfiable):  # e.g. an operation without parameters has no invalid request
        run()


def failure_title(failure: Failure) -> str:
    return f"{failure.title}: {failure.message}".replace("\n", " ")[:400]


@pytest.mark.timeout(600)  # ~45 s of CPU; on a machine shared by many test runs the wall time can triple
def test_openapi_fuzz(studio: Studio, runner: Runner) -> None:
    started = time.perf_counter()
    token = TokenService(studio.db).create("default", role="owner").token
    app = create_app(studio, runner=runner)
    # Every request carries a real owner token, so generating values for the security schemes (a bearer
    # token, the dashboard cookie) would only be overwritten: skip that work.
    config = schemathesis.Config.from_dict({"generation": {"with-security-parameters": False}})
    schema = schemathesis.openapi.from_asgi("/openapi.json", app, config=config)
    tally = Tally()
    per_operation: dict[str, float] = {}
    with asgi.get_client(cast(Any, app)) as client:
        try:
            for result in schema.get_all_operations():
                if isinstance(result, Err):
                    raise AssertionError(f"the OpenAPI description has an invalid operation: {result.err()}")
                operation = result.ok()
                tally.operations += 1
                began = time.process_time()
                examples = min(EXAMPLES, FEWER.get(operation.label, EXAMPLES))
                fuzz_operation(operation, GenerationMode.POSITIVE, FEW_POSITIVE.get(operation.label, examples),
                               token, client, tally)
                fuzz_operation(operation, GenerationMode.NEGATIVE, examples, token, client, tally)
                per_operation[operation.label] = time.process_time() - began
        finally:
            asgi.shutdown_lifespans()
    seconds = round(time.perf_counter() - started, 1)
    server_errors = sum(n for status, n in tally.by_status.items() if status >= 500)
    slowest = sorted(per_operation.items(), key=lambda item: -item[1])[:3]
    report("r3_openapi_fuzz", {
        "operations": tally.operations, "requests": tally.requests, "server_errors": server_errors,
        "check_failures": len(tally.failures), "statuses": dict(sorted(tally.by_status.items())),
        "examples_per_operation_and_mode": EXAMPLES, "seconds": seconds,
        "cpu_seconds": round(sum(per_operation.values()), 1),
        "slowest_cpu": {label: round(s, 1) for label, s in slowest},
    })
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    (ARTIFACTS / "r3_openapi_fuzz_failures.txt").write_text("\n".join(tally.failures) + "\n", encoding="utf-8")
    assert tally.operations >= 40, "the OpenAPI description lost operations"
    assert tally.requests >= 1000, f"only {tally.requests} requests were generated"
    assert not tally.failures, f"{len(tally.failures)} failures:\n" + "\n".join(tally.failures[:60])
