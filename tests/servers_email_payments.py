"""Real stand-in servers for the email and payments adapters: aiosmtpd and localstripe on free loopback ports.

Import the fixtures into a test module (`from tests.servers_email_payments import smtp_server`).
"""

from __future__ import annotations

import asyncio
import json
import os
import random
import re
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import httpx
import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Mailbox:
    """What the SMTP server accepted: the server's own state, for exactly-once assertions."""

    messages: list[EmailMessage] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def by_message_id(self) -> dict[str, int]:
        counts: dict[str, int] = {}
        with self.lock:
            for message in self.messages:
                key = str(message["Message-ID"])
                counts[key] = counts.get(key, 0) + 1
        return counts

    def to(self, address: str) -> list[EmailMessage]:
        with self.lock:
            return [m for m in self.messages if address in str(m["To"])]


@dataclass
class FaultPlan:
    """Seeded faults the SMTP handler injects, a bounded number of times.

    rcpt_busy: answer 450 to RCPT TO (nothing sent); temporary: answer 451 at end of DATA (not stored);
    slow: wait a little, then store;
    lost_reply: store the message, then wait past the client's timeout (the client cannot know it was stored).
    """

    rate: float = 0.0
    seed: int = 7
    max_faults: int = 10_000
    slow_s: float = 0.05
    lost_reply_s: float = 1.5
    kinds: tuple[str, ...] = ("rcpt_busy", "temporary", "slow", "lost_reply")
    injected: dict[str, int] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self._random = random.Random(self.seed)

    def draw(self) -> str | None:
        if sum(self.injected.values()) >= self.max_faults or self._random.random() >= self.rate:
            return None
        kind = self._random.choice(self.kinds)
        self.injected[kind] = self.injected.get(kind, 0) + 1
        return kind


class CapturingHandler:
    def __init__(self, mailbox: Mailbox) -> None:
        self.mailbox = mailbox
        self.faults = FaultPlan()

    async def handle_RCPT(self, server: SMTP, session: Session, envelope: Envelope, address: str,
                          rcpt_options: list[str]) -> str:
        # One draw per message: a RCPT fault here, or the DATA fault it stands for, remembered on the session.
        fault = self.faults.draw()
        if fault == "rcpt_busy":
            return "450 4.2.1 Mailbox busy, try again later"
        session.studio_fault = fault  # type: ignore[attr-defined]
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        fault = getattr(session, "studio_fault", None)
        if fault == "temporary":
            return "451 4.3.0 Temporary failure, try again later"
        if fault == "slow":
            await asyncio.sleep(self.faults.slow_s)
        content = envelope.original_content or envelope.content or b""
        raw = content if isinstance(content, bytes) else content.encode()
        message = message_from_bytes(raw, policy=policy.default)
        assert isinstance(message, EmailMessage)
        with self.mailbox.lock:
            self.mailbox.messages.append(message)
        if fault == "lost_reply":
            await asyncio.sleep(self.faults.lost_reply_s)
        return "250 2.0.0 OK queued"


@dataclass
class SmtpServer:
    host: str
    port: int
    mailbox: Mailbox
    handler: CapturingHandler

    def url(self, sender: str = "studio@maya.test", **query: object) -> str:
        extra = "".join(f"&{k}={v}" for k, v in query.items())
        return f"smtp://{self.host}:{self.port}?from={sender}{extra}"


@pytest.fixture
def smtp_server() -> Iterator[SmtpServer]:
    """A real aiosmtpd server on a free loopback port; accepted messages land in `mailbox`."""
    mailbox = Mailbox()
    handler = CapturingHandler(mailbox)
    port = free_port()
    controller = Controller(handler, hostname="127.0.0.1", port=port, ready_timeout=10)
    controller.start()
    try:
        yield SmtpServer("127.0.0.1", port, mailbox, handler)
    finally:
        controller.stop()


# localstripe ------------------------------------------------------------------------------------------

@dataclass
class LocalStripe:
    url: str
    port: int
    api_key: str = "sk_test_studio_localstripe"

    def flush(self) -> None:
        httpx.delete(f"{self.url}/_config/data", timeout=10).raise_for_status()

    def register_webhook(self, webhook_id: str, url: str, secret: str, events: list[str] | None = None) -> None:
        data: dict[str, Any] = {"url": url, "secret": secret}
        if events:
            data.update({f"events[{i}]": e for i, e in enumerate(events)})
        httpx.post(f"{self.url}/_config/webhooks/{webhook_id}", data=data, timeout=10).raise_for_status()


@pytest.fixture(scope="session")
def localstripe(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalStripe]:
    """localstripe (stateful fake Stripe) started from scratch on a free port, stopped at the end.

    It listens on all interfaces; tests only ever talk to it on 127.0.0.1.
    """
    binary = Path(sys.executable).with_name("localstripe")
    if not binary.exists():
        pytest.fail(f"localstripe is not installed in the venv ({binary}).")
    port = free_port()
    workdir = tmp_path_factory.mktemp("localstripe")
    log = (workdir / "localstripe.log").open("wb")
    process = subprocess.Popen(
        [str(binary), "--from-scratch", "--port", str(port)],
        cwd=workdir, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
        env={**os.environ, "TMPDIR": str(workdir)},
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    try:
        while True:
            if process.poll() is not None:
                pytest.fail(f"localstripe exited early: {(workdir / 'localstripe.log').read_text()[-2000:]}")
            try:
                httpx.get(f"{url}/v1/customers", headers={"Authorization": "Bearer sk_test_x"}, timeout=1)
                break
            except httpx.TransportError:
                if time.monotonic() > deadline:
                    pytest.fail("localstripe did not start within 30 s")
                time.sleep(0.2)
        yield LocalStripe(url, port)
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=10)
        log.close()


# HTTP faults and contract fakes (Kit, Listmonk) ---------------------------------------------------------

class HttpFaults:
    """Seeded faults around a fake server's handler, a bounded number of times.

    Before the handler runs (nothing happens): 429 without Retry-After, 429 with Retry-After, 502, 503,
    a refused connection. After it runs (it happened, the client can't tell): a read timeout, a 500. Slow: a
    short delay, then a normal answer.
    """

    BEFORE = ("429", "429_retry_after", "502", "503", "connect")
    AFTER = ("timeout_after", "500_after")
    kinds: tuple[str, ...] = (*BEFORE, *AFTER, "slow")

    def __init__(self, rate: float = 0.3, seed: int = 11, max_faults: int = 1000, slow_s: float = 0.01) -> None:
        self.rate, self.max_faults, self.slow_s = rate, max_faults, slow_s
        self._random = random.Random(seed)
        # Which faults happen is seeded; their kinds take turns (shuffled), so every kind is exercised.
        self._order = list(self.kinds)
        self._random.shuffle(self._order)
        self.injected: dict[str, int] = {}
        self.requests = 0
        self._lock = threading.Lock()

    def _draw(self) -> str | None:
        with self._lock:
            self.requests += 1
            if sum(self.injected.values()) >= self.max_faults or self._random.random() >= self.rate:
                return None
            kind = self._order[sum(self.injected.values()) % len(self._order)]
            self.injected[kind] = self.injected.get(kind, 0) + 1
            return kind

    def wrap(self, handler: Any) -> Any:
        def faulty(request: httpx.Request, **kwargs: Any) -> httpx.Response:
            kind = self._draw()
            if kind == "429":
                return httpx.Response(429, json={"errors": ["Rate limit exceeded"]})
            if kind == "429_retry_after":
                return httpx.Response(429, headers={"Retry-After": "1"}, json={"message": "Too many requests"})
            if kind in ("502", "503"):
                return httpx.Response(int(kind), text="<html>Bad gateway</html>")
            if kind == "connect":
                raise httpx.ConnectError("connection refused", request=request)
            if kind == "slow":
                time.sleep(self.slow_s)
            response: httpx.Response = handler(request, **kwargs)
            if kind == "timeout_after":
                raise httpx.ReadTimeout("timed out reading the response", request=request)
            if kind == "500_after":
                return httpx.Response(500, json={"message": "Internal server error"})
            return response

        return faulty

    @property
    def total(self) -> int:
        return sum(self.injected.values())


def _now_iso() -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())


class FakeKit:
    """Kit v4's documented behaviour as state behind respx routes (developers.kit.com/v4 shapes)."""

    API = "https://api.kit.com"

    def __init__(self, router: Any, api_key: str = "kit_test_key", faults: HttpFaults | None = None) -> None:
        self.api_key = api_key
        self.subscribers: dict[str, dict[str, Any]] = {}
        self.tags: dict[int, dict[str, Any]] = {}
        self.taggings: set[tuple[int, str]] = set()
        self.sequences: dict[int, dict[str, Any]] = {7: {"id": 7, "name": "Welcome", "hold": False,
                                                         "repeat": False, "created_at": _now_iso()}}
        self.sequence_members: set[tuple[int, str]] = set()
        self.broadcasts: dict[int, dict[str, Any]] = {}
        self._ids = iter(range(100, 10**6))
        wrap = faults.wrap if faults else (lambda h: h)
        base = f"{self.API}/v4"
        router.post(f"{base}/subscribers").mock(side_effect=wrap(self.post_subscriber))
        router.get(f"{base}/subscribers").mock(side_effect=wrap(self.get_subscribers))
        router.post(url__regex=rf"{base}/subscribers/(?P<sid>\d+)/unsubscribe").mock(side_effect=wrap(self.unsub))
        router.post(f"{base}/tags").mock(side_effect=wrap(self.post_tag))
        router.get(f"{base}/tags").mock(side_effect=wrap(lambda r: self.page(r, "tags", self.tags)))
        router.post(url__regex=rf"{base}/tags/(?P<tid>\d+)/subscribers").mock(side_effect=wrap(self.tag))
        router.get(f"{base}/sequences").mock(side_effect=wrap(lambda r: self.page(r, "sequences", self.sequences)))
        router.post(url__regex=rf"{base}/sequences/(?P<qid>\d+)/subscribers").mock(side_effect=wrap(self.enrol))
        router.post(f"{base}/broadcasts").mock(side_effect=wrap(self.post_broadcast))
        router.get(f"{base}/broadcasts").mock(side_effect=wrap(lambda r: self.page(r, "broadcasts", self.broadcasts)))

    def _auth(self, request: httpx.Request) -> httpx.Response | None:
        if request.headers.get("X-Kit-Api-Key") != self.api_key:
            return httpx.Response(401, json={"errors": ["The access token is invalid"]})
        return None

    def post_subscriber(self, request: httpx.Request) -> httpx.Response:
        if (denied := self._auth(request)) is not None:
            return denied
        body = json.loads(request.content)
        email = str(body.get("email_address") or "").lower()
        if "@" not in email:
            return httpx.Response(422, json={"errors": ["Email address is invalid"]})
        existing = self.subscribers.get(email)
        if existing is not None:
            existing["first_name"] = body.get("first_name", existing["first_name"])
            return httpx.Response(200, json={"subscriber": existing})
        self.subscribers[email] = {"id": next(self._ids), "first_name": body.get("first_name"),
                                   "email_address": email, "state": body.get("state", "active"),
                                   "created_at": _now_iso(), "fields": {}}
        return httpx.Response(201, json={"subscriber": self.subscribers[email]})

    def get_subscribers(self, request: httpx.Request) -> httpx.Response:
        if (denied := self._auth(request)) is not None:
            return denied
        email = request.url.params.get("email_address")
        found = [s for s in self.subscribers.values() if email is None or s["email_address"] == email.lower()]
        return httpx.Response(200, json={"subscribers": found, "pagination": _pagination(len(found))})

    def unsub(self, request: httpx.Request, sid: str) -> httpx.Response:
        for subscriber in self.subscribers.values():
            if subscriber["id"] == int(sid):
                subscriber["state"] = "cancelled"
                return httpx.Response(204)
        return httpx.Response(404, json={"errors": ["Not Found"]})

    def post_tag(self, request: httpx.Request) -> httpx.Response:
        if (denied := self._auth(request)) is not None:
            return denied
        name = json.loads(request.content).get("name")
        if not name:
            return httpx.Response(422, json={"errors": ["Name can't be blank"]})
        for tag in self.tags.values():
            if tag["name"] == name:
                return httpx.Response(200, json={"tag": tag})
        tag_id = next(self._ids)
        self.tags[tag_id] = {"id": tag_id, "name": name, "created_at": _now_iso()}
        return httpx.Response(201, json={"tag": self.tags[tag_id]})

    def tag(self, request: httpx.Request, tid: str) -> httpx.Response:
        email = json.loads(request.content).get("email_address", "").lower()
        if int(tid) not in self.tags or email not in self.subscribers:
            return httpx.Response(404, json={"errors": ["Not Found"]})
        status = 200 if (int(tid), email) in self.taggings else 201
        self.taggings.add((int(tid), email))
        return httpx.Response(status, json={"subscriber": {**self.subscribers[email], "tagged_at": _now_iso()}})

    def enrol(self, request: httpx.Request, qid: str) -> httpx.Response:
        email = json.loads(request.content).get("email_address", "").lower()
        if int(qid) not in self.sequences or email not in self.subscribers:
            return httpx.Response(404, json={"errors": ["Not Found"]})
        status = 200 if (int(qid), email) in self.sequence_members else 201
        self.sequence_members.add((int(qid), email))
        return httpx.Response(status, json={"subscriber": {**self.subscribers[email], "added_at": _now_iso()}})

    def post_broadcast(self, request: httpx.Request) -> httpx.Response:
        if (denied := self._auth(request)) is not None:
            return denied
        body = json.loads(request.content)
        broadcast_id = next(self._ids)
        self.broadcasts[broadcast_id] = {
            "id": broadcast_id, "publication_id": broadcast_id, "created_at": _now_iso(),
            "subject": body.get("subject"), "preview_text": body.get("preview_text"),
            "description": body.get("description"), "content": body.get("content"), "public": body.get("public"),
            "published_at": None, "send_at": body.get("send_at"), "thumbnail_alt": None, "thumbnail_url": None,
            "email_address": "maya@maya.test", "email_template": {"id": 6, "name": "Text Only"},
            "subscriber_filter": body.get("subscriber_filter"),
        }
        return httpx.Response(201, json={"broadcast": self.broadcasts[broadcast_id]})

    def page(self, request: httpx.Request, key: str, items: dict[int, dict[str, Any]]) -> httpx.Response:
        if (denied := self._auth(request)) is not None:
            return denied
        # Cursor pagination, two per page, so the client's cursor handling is exercised.
        ordered = sorted(items.values(), key=lambda item: item["id"])
        after = request.url.params.get("after")
        start = 0 if after is None else next(i for i, item in enumerate(ordered) if str(item["id"]) == after) + 1
        chunk = ordered[start:start + 2]
        has_next = start + 2 < len(ordered)
        return httpx.Response(200, json={key: chunk, "pagination": {
            "has_previous_page": start > 0, "has_next_page": has_next,
            "start_cursor": str(chunk[0]["id"]) if chunk else None,
            "end_cursor": str(chunk[-1]["id"]) if chunk else None, "per_page": 2}})


def _pagination(count: int) -> dict[str, Any]:
    return {"has_previous_page": False, "has_next_page": False, "start_cursor": None, "end_cursor": None,
            "per_page": max(count, 1)}


class FakeListmonk:
    """listmonk's documented API behaviour as state behind respx routes (listmonk.app/docs/apis shapes)."""

    URL = "http://listmonk.test:9000"

    def __init__(self, router: Any, user: str = "studio", token: str = "lm_token",
                 faults: HttpFaults | None = None) -> None:
        self.auth = f"token {user}:{token}"
        self.lists: dict[int, dict[str, Any]] = {}
        self.subscribers: dict[str, dict[str, Any]] = {}
        self.campaigns: dict[int, dict[str, Any]] = {}
        self.tx: list[dict[str, Any]] = []
        self._ids = iter(range(1, 10**6))
        wrap = faults.wrap if faults else (lambda h: h)
        api = f"{self.URL}/api"
        router.get(f"{api}/lists").mock(side_effect=wrap(lambda r: self.results(r, self.lists.values())))
        router.post(f"{api}/lists").mock(side_effect=wrap(self.post_list))
        router.get(f"{api}/subscribers").mock(side_effect=wrap(self.get_subscribers))
        router.post(f"{api}/subscribers").mock(side_effect=wrap(self.post_subscriber))
        router.put(f"{api}/subscribers/blocklist").mock(side_effect=wrap(self.blocklist))
        router.get(f"{api}/campaigns").mock(side_effect=wrap(lambda r: self.results(r, self.campaigns.values())))
        router.post(f"{api}/campaigns").mock(side_effect=wrap(self.post_campaign))
        router.put(url__regex=rf"{api}/campaigns/(?P<cid>\d+)/status").mock(side_effect=wrap(self.status))
        router.post(f"{api}/tx").mock(side_effect=wrap(self.post_tx))

    def _denied(self, request: httpx.Request) -> httpx.Response | None:
        if request.headers.get("Authorization") != self.auth:
            return httpx.Response(403, json={"message": "Invalid API credentials"})
        return None

    def results(self, request: httpx.Request, items: Any) -> httpx.Response:
        if (denied := self._denied(request)) is not None:
            return denied
        rows = list(items)
        return httpx.Response(200, json={"data": {"results": rows, "query": "", "total": len(rows),
                                                  "per_page": len(rows), "page": 1}})

    def post_list(self, request: httpx.Request) -> httpx.Response:
        if (denied := self._denied(request)) is not None:
            return denied
        body = json.loads(request.content)
        if body.get("optin") not in ("single", "double") or not body.get("name"):
            return httpx.Response(400, json={"message": "Invalid list options."})
        list_id = next(self._ids)
        self.lists[list_id] = {"id": list_id, "uuid": f"uuid-list-{list_id}", "name": body["name"],
                               "type": body.get("type", "private"), "optin": body["optin"],
                               "tags": body.get("tags") or [], "subscriber_count": 0,
                               "created_at": "2026-11-25T14:00:00.000000Z", "updated_at": "2026-11-25T14:00:00Z"}
        return httpx.Response(200, json={"data": self.lists[list_id]})

    def get_subscribers(self, request: httpx.Request) -> httpx.Response:
        query = request.url.params.get("query", "")
        match = re.search(r"subscribers\.email = '(.+)'", query)
        rows = [s for s in self.subscribers.values() if match is None or s["email"] == match.group(1)]
        return self.results(request, rows)

    def post_subscriber(self, request: httpx.Request) -> httpx.Response:
        if (denied := self._denied(request)) is not None:
            return denied
        body = json.loads(request.content)
        email = str(body.get("email", "")).lower()
        if "@" not in email:
            return httpx.Response(400, json={"message": "Invalid email."})
        if email in self.subscribers:
            return httpx.Response(409, json={"message": "E-mail already exists."})
        sub_id = next(self._ids)
        status = "confirmed" if body.get("preconfirm_subscriptions") else "unconfirmed"
        self.subscribers[email] = {
            "id": sub_id, "uuid": f"uuid-sub-{sub_id}", "email": email, "name": body.get("name", ""),
            "attribs": body.get("attribs") or {}, "status": body.get("status", "enabled"),
            "lists": [{"id": i, "name": self.lists[i]["name"], "subscription_status": status}
                      for i in body.get("lists", []) if i in self.lists],
            "created_at": "2026-11-25T14:00:00.000000Z", "updated_at": "2026-11-25T14:00:00.000000Z",
        }
        return httpx.Response(200, json={"data": self.subscribers[email]})

    def blocklist(self, request: httpx.Request) -> httpx.Response:
        ids = set(json.loads(request.content).get("ids") or [])
        for subscriber in self.subscribers.values():
            if subscriber["id"] in ids:
                subscriber["status"] = "blocklisted"
        return httpx.Response(200, json={"data": True})

    def post_campaign(self, request: httpx.Request) -> httpx.Response:
        if (denied := self._denied(request)) is not None:
            return denied
        body = json.loads(request.content)
        if not body.get("lists"):
            return httpx.Response(400, json={"message": "Select at least one list."})
        campaign_id = next(self._ids)
        self.campaigns[campaign_id] = {
            "id": campaign_id, "uuid": f"uuid-camp-{campaign_id}", "name": body["name"], "subject": body["subject"],
            "status": "draft", "tags": body.get("tags") or [], "send_at": body.get("send_at"),
            "lists": [{"id": i} for i in body["lists"]], "body": body.get("body"),
            "content_type": body.get("content_type"), "type": body.get("type"),
            "created_at": "2026-11-25T14:00:00.000000Z", "updated_at": "2026-11-25T14:00:00.000000Z",
        }
        return httpx.Response(200, json={"data": self.campaigns[campaign_id]})

    def status(self, request: httpx.Request, cid: str) -> httpx.Response:
        campaign = self.campaigns.get(int(cid))
        if campaign is None:
            return httpx.Response(400, json={"message": "Campaign not found."})
        campaign["status"] = json.loads(request.content)["status"]
        return httpx.Response(200, json={"data": campaign})

    def post_tx(self, request: httpx.Request) -> httpx.Response:
        body = json.loads(request.content)
        if body.get("subscriber_email", "").lower() not in self.subscribers:
            return httpx.Response(400, json={"message": "Subscriber not found."})
        self.tx.append(body)
        return httpx.Response(200, json={"data": True})
