"""Fault injection: every email, broadcast, campaign and charge driven through the real adapters while 30% of
the server's answers are 429s, 5xx, timeouts (some after the server acted) or slow. Each intended action must
happen exactly once in the server's own state, or end reported as failed with the reason (and, when the
reason is "outcome unknown", have happened at most once). Figures are printed.

Run: .venv/bin/pytest -q -p no:cacheprovider tests/reliability/test_adapter_faults.py
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
import respx
import stripe

from creator_studio.providers.email.kit import KitClient, broadcast_marker
from creator_studio.providers.email.listmonk import ListmonkClient, campaign_tag
from creator_studio.providers.email.message import UnsubscribeLinks
from creator_studio.providers.email.outbox import Outbox
from creator_studio.providers.email.smtp import SmtpConfig, SmtpSender
from creator_studio.providers.email.smtp_provider import SmtpEmailProvider
from creator_studio.providers.payments.stripe import KEY, StripePaymentsProvider, make_client
from creator_studio.providers.reliability.budgets import BudgetBook
from creator_studio.providers.reliability.client import ReliableClient, RetryPolicy
from creator_studio.providers.reliability.errors import OutcomeUnknown, ProviderError
from creator_studio.store.db import Database
from creator_studio.store.models import Base
from tests.servers_email_payments import (  # noqa: F401
    FakeKit,
    FakeListmonk,
    HttpFaults,
    LocalStripe,
    SmtpServer,
    localstripe,
    smtp_server,
)

pytestmark = pytest.mark.integration

FAULT_RATE = 0.3


def report(capsys: pytest.CaptureFixture[str], name: str, figures: dict[str, Any]) -> None:
    with capsys.disabled():
        print(f"\n[faults] {name}: " + ", ".join(f"{k}={v}" for k, v in figures.items()))


def check_outcomes(outcomes: dict[str, Any], server_counts: Counter[str]) -> dict[str, int]:
    """outcomes: key -> result or the ProviderError it ended with; server_counts: key -> times it happened."""
    done = failed = unknown = 0
    for key, outcome in outcomes.items():
        happened = server_counts.get(key, 0)
        assert happened <= 1, f"{key} happened {happened} times"
        if isinstance(outcome, OutcomeUnknown):
            unknown += 1
            assert outcome.message, key
        elif isinstance(outcome, ProviderError):
            failed += 1
            assert happened == 0, f"{key} was reported as not done ({outcome.message}) but it happened"
            assert outcome.message, key
        else:
            done += 1
            assert happened == 1, f"{key} was reported done but happened {happened} times"
    assert not set(server_counts) - set(outcomes), "the server did something nobody asked for"
    return {"done_once": done, "reported_failed": failed, "reported_unknown": unknown,
            "duplicates": sum(max(0, n - 1) for n in server_counts.values())}


# SMTP ---------------------------------------------------------------------------------------------------

@pytest.fixture
def database(tmp_path: Path) -> Iterator[Database]:
    db = Database(f"sqlite:///{tmp_path / 'faults.db'}")
    Base.metadata.create_all(db.engine)
    yield db
    db.dispose()


def test_smtp_campaign_under_faults(
    database: Database, smtp_server: SmtpServer, capsys: pytest.CaptureFixture[str]  # noqa: F811
) -> None:
    recipients = 40
    faults = smtp_server.handler.faults
    faults.rate, faults.seed, faults.max_faults, faults.lost_reply_s = FAULT_RATE, 2026, 30, 0.8
    faults.__post_init__()
    config = SmtpConfig.from_url(smtp_server.url(timeout=0.3, rate=500, burst=50))
    outbox = Outbox(database, SmtpSender(config), max_attempts=5, backoff_s=0.001, sleep=lambda _s: None)
    provider = SmtpEmailProvider(database, outbox, UnsubscribeLinks(b"k" * 32, "https://studio.test"))
    for n in range(recipients):
        provider.add_subscriber("ws", f"reader{n}@readers.test", f"Reader {n}")

    provider.create_campaign("ws", "Launch", "It is out", "all", send_at=None, idempotency_key="launch")
    provider.create_campaign("ws", "Launch", "It is out", "all", send_at=None, idempotency_key="launch")  # retry

    deliveries = provider.deliveries("ws")
    assert len(deliveries) == recipients
    by_id = smtp_server.mailbox.by_message_id()
    outcomes: dict[str, Any] = {}
    for d in deliveries:
        if d.status == "sent":
            outcomes[d.message_id] = d
        elif d.status == "unknown":
            outcomes[d.message_id] = OutcomeUnknown("smtp", f"the email to {d.to_email}")
            assert d.last_error
        else:
            assert d.status == "failed" and d.last_error
            outcomes[d.message_id] = ProviderError(d.last_error, platform="smtp")
    figures = check_outcomes(outcomes, Counter(by_id))
    figures.update(intended=recipients, faults=dict(faults.injected), attempts=outbox.stats.attempts,
                   retries=outbox.stats.retries)
    report(capsys, "smtp (aiosmtpd)", figures)
    assert figures["done_once"] >= recipients * 0.8
    assert sum(faults.injected.values()) > 0


# Stripe (localstripe) -----------------------------------------------------------------------------------

class _FaultyTransport(httpx.BaseTransport):
    def __init__(self, faults: HttpFaults) -> None:
        self._inner = httpx.HTTPTransport()

        def forward(request: httpx.Request) -> httpx.Response:
            response = self._inner.handle_request(request)
            response.read()
            return response

        self._handle = faults.wrap(forward)

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        response: httpx.Response = self._handle(request)
        return response


class _InjectedHTTPXClient(stripe.HTTPXClient):
    """stripe's httpx client, on an httpx.Client we give it (here: one with a fault-injecting transport)."""

    def __init__(self, client: httpx.Client) -> None:
        super().__init__(timeout=5, allow_sync_methods=True)
        self._client = client


def test_stripe_charges_under_faults(localstripe: LocalStripe, capsys: pytest.CaptureFixture[str]) -> None:  # noqa: F811
    customers_n, charges_n = 8, 24
    faults = HttpFaults(rate=FAULT_RATE, seed=99, max_faults=200)
    http = _InjectedHTTPXClient(httpx.Client(transport=_FaultyTransport(faults)))
    client = make_client(localstripe.api_key, api_base=localstripe.url, http_client=http)
    # honours_idempotency_keys=True is Stripe's real behaviour; localstripe ignores the header, so a duplicate
    # could only be avoided by the adapter's read-back after an unknown outcome: exactly what is under test.
    payments = StripePaymentsProvider(client, legacy_plans=True, test_mode=True, backoff_s=0.001,
                                      sleep=lambda _s: None, seed=1)

    outcomes: dict[str, Any] = {}
    customers = []
    for n in range(customers_n):
        key = f"fault-cus-{n}"
        try:
            customers.append(payments.create_customer("ws-faults", f"c{n}@readers.test", f"C{n}",
                                                      idempotency_key=key))
            outcomes[key] = customers[-1]
        except ProviderError as exc:
            outcomes[key] = exc
    assert customers, "no customer could be created at all"
    for n in range(charges_n):
        key = f"fault-charge-{n}"
        try:
            outcomes[key] = payments.create_charge("ws-faults", customers[n % len(customers)].id, 1000 + n, "usd",
                                                   idempotency_key=key)
        except ProviderError as exc:
            outcomes[key] = exc

    clean: Any = make_client(localstripe.api_key, api_base=localstripe.url).v1
    server: Counter[str] = Counter()
    for service in (clean.customers, clean.payment_intents):
        for obj in service.list(params={"limit": 100}).auto_paging_iter():
            key = (obj.to_dict().get("metadata") or {}).get(KEY, "")
            if key.startswith("fault-"):
                server[key] += 1
    figures = check_outcomes(outcomes, server)
    figures.update(intended=customers_n + charges_n, faults=dict(faults.injected), requests=faults.requests,
                   attempts=payments.stats.attempts, retries=payments.stats.retries,
                   read_back_hits=payments.stats.read_back_hits)
    report(capsys, "stripe (localstripe)", figures)
    assert figures["done_once"] >= (customers_n + charges_n) * 0.8


# Kit and listmonk (respx fakes with the published shapes) -----------------------------------------------

class FakeClock:
    """Simulated time for the rate budgets and backoff: waits are counted, not slept."""

    def __init__(self) -> None:
        self.current = datetime(2026, 11, 25, 14, 0, tzinfo=UTC)
        self.waits: list[float] = []

    def now(self) -> datetime:
        return self.current

    def sleep(self, seconds: float) -> None:
        self.waits.append(seconds)
        self.current += timedelta(seconds=seconds)


def _reliable(platform: str, headers: dict[str, str], clock: FakeClock) -> ReliableClient:
    return ReliableClient(platform=platform, account="acct", http=httpx.Client(timeout=5),
                          budgets=BudgetBook(clock=clock.now), policy=RetryPolicy(attempts=5, base_delay=0.5),
                          sleep=clock.sleep, auth_headers=lambda: headers)


def test_kit_broadcasts_under_faults(capsys: pytest.CaptureFixture[str]) -> None:
    intended = 30
    faults = HttpFaults(rate=FAULT_RATE, seed=5, max_faults=200)
    clock = FakeClock()
    with respx.mock(assert_all_called=False) as router:
        fake = FakeKit(router, faults=faults)
        kit = KitClient(_reliable("kit", KitClient.headers(fake.api_key), clock))
        outcomes: dict[str, Any] = {}
        for n in range(intended):
            key = f"broadcast-{n}"
            try:
                outcomes[key] = kit.create_broadcast(f"Issue {n}", "<p>news</p>", idempotency_key=key, send_at=None)
            except ProviderError as exc:
                outcomes[key] = exc
        markers = {broadcast_marker(k): k for k in outcomes}
        server = Counter(markers[b["description"]] for b in fake.broadcasts.values())
    figures = check_outcomes(outcomes, server)
    figures.update(intended=intended, faults=dict(faults.injected), requests=faults.requests,
                   waits=len(clock.waits), simulated_wait_s=round(sum(clock.waits), 1))
    report(capsys, "kit (contract fake)", figures)
    assert figures["done_once"] >= intended * 0.8


def test_listmonk_subscribers_and_campaigns_under_faults(capsys: pytest.CaptureFixture[str]) -> None:
    subscribers_n, campaigns_n = 20, 20
    faults = HttpFaults(rate=FAULT_RATE, seed=17, max_faults=200)
    clock = FakeClock()
    with respx.mock(assert_all_called=False) as router:
        fake = FakeListmonk(router, faults=faults)
        listmonk = ListmonkClient(_reliable("listmonk", ListmonkClient.headers("studio", "lm_token"), clock), fake.URL)
        faults.rate = 0.0
        weekly = listmonk.create_list("Weekly")
        faults.rate = FAULT_RATE
        outcomes: dict[str, Any] = {}
        for n in range(subscribers_n):
            key = f"sub-{n}@readers.test"
            try:
                outcomes[key] = listmonk.add_subscriber(key, f"Reader {n}", [weekly.id])
            except ProviderError as exc:
                outcomes[key] = exc
        for n in range(campaigns_n):
            key = f"campaign-{n}"
            try:
                outcomes[key] = listmonk.create_campaign(f"Issue {n}", "News", "Hello", [weekly.id],
                                                         idempotency_key=key)
            except ProviderError as exc:
                outcomes[key] = exc
        tags = {campaign_tag(k): k for k in outcomes if k.startswith("campaign-")}
        server = Counter(tags[c["tags"][0]] for c in fake.campaigns.values())
        server.update(fake.subscribers.keys())
    figures = check_outcomes(outcomes, server)
    figures.update(intended=subscribers_n + campaigns_n, faults=dict(faults.injected), requests=faults.requests,
                   waits=len(clock.waits), simulated_wait_s=round(sum(clock.waits), 1))
    report(capsys, "listmonk (contract fake)", figures)
    assert figures["done_once"] >= (subscribers_n + campaigns_n) * 0.8


# Social: Mastodon (the platform de-duplicates statuses by Idempotency-Key for an hour) -------------------

class FakeMastodon:
    """A Mastodon instance's documented behaviour: `/api/v2/instance` limits, `POST /api/v1/statuses` with
    `Idempotency-Key` (the same key again returns the first status instead of posting twice)."""

    URL = "https://mastodon.test"

    def __init__(self, router: respx.MockRouter, faults: HttpFaults) -> None:
        self.statuses: dict[str, dict[str, Any]] = {}
        self.by_key: dict[str, str] = {}
        self._ids = iter(range(110_000_000, 120_000_000))
        router.get(f"{self.URL}/api/v2/instance").mock(return_value=httpx.Response(200, json={
            "domain": "mastodon.test", "configuration": {"statuses": {"max_characters": 500,
                                                                      "max_media_attachments": 4}}}))
        router.post(f"{self.URL}/api/v1/statuses").mock(side_effect=faults.wrap(self.post_status))

    def post_status(self, request: httpx.Request) -> httpx.Response:
        key = request.headers.get("Idempotency-Key")
        if key and key in self.by_key:
            return httpx.Response(200, json=self.statuses[self.by_key[key]])
        status_id = str(next(self._ids))
        body = json.loads(request.content)
        self.statuses[status_id] = {"id": status_id, "created_at": "2026-11-25T14:00:00.000Z",
                                    "url": f"{self.URL}/@maya/{status_id}", "uri": f"{self.URL}/s/{status_id}",
                                    "content": f"<p>{body['status']}</p>", "visibility": "public",
                                    "in_reply_to_id": body.get("in_reply_to_id"), "_key": key}
        if key:
            self.by_key[key] = status_id
        return httpx.Response(200, json=self.statuses[status_id])


def test_mastodon_posts_under_faults(capsys: pytest.CaptureFixture[str]) -> None:
    from creator_studio.providers.social.platforms.mastodon import MastodonAdapter

    intended = 30
    faults = HttpFaults(rate=FAULT_RATE, seed=23, max_faults=200)
    clock = FakeClock()
    with respx.mock(assert_all_called=False) as router:
        fake = FakeMastodon(router, faults)
        adapter = MastodonAdapter(FakeMastodon.URL, "token", handle="maya", account_id="1",
                                  http=httpx.Client(base_url=FakeMastodon.URL, timeout=5),
                                  budgets=BudgetBook(clock=clock.now), sleep=clock.sleep)
        outcomes: dict[str, Any] = {}
        for n in range(intended):
            key = f"post-{n}"
            try:
                outcomes[key] = adapter.publish(f"Post number {n}", idempotency_key=key)
            except ProviderError as exc:
                outcomes[key] = exc
        server = Counter(str(s["_key"]) for s in fake.statuses.values())
    figures = check_outcomes(outcomes, server)
    figures.update(intended=intended, faults=dict(faults.injected), requests=faults.requests,
                   waits=len(clock.waits), simulated_wait_s=round(sum(clock.waits), 1))
    report(capsys, "mastodon (contract fake)", figures)
    assert figures["done_once"] >= intended * 0.8
