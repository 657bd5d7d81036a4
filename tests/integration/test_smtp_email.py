"""The SMTP email provider against a real aiosmtpd server: campaigns, unsubscribe headers and links, double
opt-in, sequences, and exactly-once delivery when the server fails."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest

from creator_studio.errors import InvalidInput
from creator_studio.providers.email.base import SequenceStep
from creator_studio.providers.email.message import UnsubscribeLinks
from creator_studio.providers.email.optin import DoubleOptIn
from creator_studio.providers.email.outbox import Outbox
from creator_studio.providers.email.ratelimit import TokenBucket
from creator_studio.providers.email.smtp import SmtpConfig, SmtpSender
from creator_studio.providers.email.smtp_provider import SmtpEmailProvider
from creator_studio.sandbox.seed import DEFAULT_BRAND, DEFAULT_TIMEZONE
from creator_studio.store.db import Database
from creator_studio.store.models import Base
from creator_studio.studio import Studio
from tests.conftest import make_settings
from tests.servers_email_payments import SmtpServer, smtp_server  # noqa: F401

pytestmark = pytest.mark.integration

WS = "ws-mail"
NOW = datetime(2026, 11, 25, 14, 0, tzinfo=UTC)


@pytest.fixture
def database(tmp_path: Path) -> Iterator[Database]:
    db = Database(f"sqlite:///{tmp_path / 'mail.db'}")
    Base.metadata.create_all(db.engine)
    yield db
    db.dispose()


def make_provider(db: Database, server: SmtpServer, *, timeout: float = 5.0) -> SmtpEmailProvider:
    config = SmtpConfig.from_url(server.url(timeout=timeout, rate=200, burst=20))
    outbox = Outbox(db, SmtpSender(config), backoff_s=0.01, sleep=lambda _s: None)
    links = UnsubscribeLinks(b"0123456789abcdef-secret", "https://studio.maya.test", mailto_domain="maya.test")
    return SmtpEmailProvider(db, outbox, links)


def test_campaign_is_delivered_once_per_subscriber_with_unsubscribe_headers(
    database: Database, smtp_server: SmtpServer  # noqa: F811
) -> None:
    provider = make_provider(database, smtp_server)
    ada = provider.add_subscriber(WS, "ada@readers.test", "Ada", tags=["vip"])
    provider.add_subscriber(WS, "bob@readers.test", "Bob", tags=["vip"])
    provider.add_subscriber(WS, "cy@readers.test", "Cy", tags=["free"])

    campaign = provider.create_campaign(WS, "Launch day", "It is out!", "vip", send_at=None, idempotency_key="k1")
    again = provider.create_campaign(WS, "Launch day", "It is out!", "vip", send_at=None, idempotency_key="k1")

    assert again.id == campaign.id and campaign.recipients == 2
    received = smtp_server.mailbox.messages
    assert sorted(str(m["To"]) for m in received) == ["Ada <ada@readers.test>", "Bob <bob@readers.test>"]
    assert all(count == 1 for count in smtp_server.mailbox.by_message_id().values())
    to_ada = smtp_server.mailbox.to("ada@readers.test")[0]
    assert to_ada["Subject"] == "Launch day"
    assert to_ada["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    unsubscribe = str(to_ada["List-Unsubscribe"])
    assert unsubscribe.startswith("<https://studio.maya.test/email/unsubscribe?")
    assert "<mailto:unsubscribe+" in unsubscribe
    assert re.fullmatch(r"<[0-9a-f]{40}@maya\.test>", str(to_ada["Message-ID"]))
    assert "It is out!" in to_ada.get_content()

    # The link in the header unsubscribes Ada; a forged token does not.
    query = parse_qs(urlsplit(unsubscribe.split(",")[0].strip("<> ")).query)
    with pytest.raises(InvalidInput, match="not valid"):
        provider.unsubscribe_with_token(WS, query["s"][0], "0" * 32)
    assert provider.unsubscribe_with_token(WS, query["s"][0], query["t"][0]).status == "unsubscribed"
    assert query["s"][0] == ada.id

    provider.create_campaign(WS, "Second", "More news", "vip", send_at=None, idempotency_key="k2")
    assert [str(m["To"]) for m in smtp_server.mailbox.messages[2:]] == ["Bob <bob@readers.test>"]
    assert [d.status for d in provider.deliveries(WS)] == ["sent", "sent", "sent"]


def test_double_opt_in_subscribes_only_after_the_link_is_opened(
    database: Database, smtp_server: SmtpServer  # noqa: F811
) -> None:
    provider = make_provider(database, smtp_server)
    optin = DoubleOptIn(database, provider, "https://studio.maya.test")

    request = optin.request(WS, "New@Readers.test", "Nia", tags=["Weekly"], list_name="Maya's weekly", now=NOW)

    assert request.delivery.status == "sent"
    assert provider.list_subscribers(WS) == []  # not on the list until confirmed
    [confirmation] = smtp_server.mailbox.to("new@readers.test")
    assert confirmation["Subject"] == "Please confirm your subscription to Maya's weekly"
    link = re.search(r"https://\S+/email/confirm\?token=\S+", confirmation.get_content())
    assert link is not None and link.group(0) == request.confirm_url
    token = parse_qs(urlsplit(link.group(0)).query)["token"][0]

    with pytest.raises(InvalidInput, match="not valid"):
        optin.confirm(token + "x", now=NOW)
    subscriber = optin.confirm(token, now=NOW + timedelta(hours=1))
    assert (subscriber.email, subscriber.status, subscriber.tags) == ("new@readers.test", "subscribed", ["weekly"])
    assert optin.confirm(token, now=NOW + timedelta(days=30)).id == subscriber.id  # confirming twice is harmless

    late = optin.request(WS, "late@readers.test", "Lee", now=NOW)
    late_token = parse_qs(urlsplit(late.confirm_url).query)["token"][0]
    with pytest.raises(InvalidInput, match="expired"):
        optin.confirm(late_token, now=NOW + timedelta(days=8))


def test_sequence_steps_are_sent_when_due_and_only_once(database: Database, smtp_server: SmtpServer) -> None:  # noqa: F811
    provider = make_provider(database, smtp_server)
    reader = provider.add_subscriber(WS, "ada@readers.test", "Ada", subscribed_at=NOW - timedelta(days=1))
    sequence = provider.create_sequence(WS, "welcome", [
        SequenceStep(delay_days=0, subject="Welcome", body="Hi"),
        SequenceStep(delay_days=2, subject="Day two", body="Tips"),
    ])
    provider.enrol(WS, sequence.id, [reader.id], idempotency_key="enrol-1", at=NOW)
    assert [m["Subject"] for m in smtp_server.mailbox.messages] == ["Welcome"]

    assert provider.send_due_sequence_steps(WS, NOW + timedelta(days=1)) == 0
    assert provider.send_due_sequence_steps(WS, NOW + timedelta(days=2)) == 1
    assert provider.send_due_sequence_steps(WS, NOW + timedelta(days=3)) == 0
    assert [m["Subject"] for m in smtp_server.mailbox.messages] == ["Welcome", "Day two"]


def test_a_refused_message_is_retried_and_a_lost_reply_is_not_resent(
    database: Database, smtp_server: SmtpServer  # noqa: F811
) -> None:
    provider = make_provider(database, smtp_server, timeout=0.5)
    provider.add_subscriber(WS, "ada@readers.test", "Ada")
    smtp_server.handler.faults.rate, smtp_server.handler.faults.kinds = 1.0, ("temporary",)
    smtp_server.handler.faults.max_faults = 2

    provider.create_campaign(WS, "Refused twice", "Body", "all", send_at=None, idempotency_key="t1")
    [delivery] = provider.deliveries(WS)
    assert (delivery.status, delivery.attempts) == ("sent", 3)
    assert "451" in (delivery.last_error or "")
    assert len(smtp_server.mailbox.messages) == 1

    # The server stores the message but its reply never arrives in time: outcome unknown, never resent.
    smtp_server.handler.faults.kinds, smtp_server.handler.faults.max_faults = ("lost_reply",), 3
    provider.create_campaign(WS, "Lost reply", "Body", "all", send_at=None, idempotency_key="t2")
    provider.create_campaign(WS, "Lost reply", "Body", "all", send_at=None, idempotency_key="t2")  # a retry
    unknown = [d for d in provider.deliveries(WS) if d.subject == "Lost reply"]
    assert [(d.status, d.attempts) for d in unknown] == [("unknown", 1)]
    assert len([m for m in smtp_server.mailbox.messages if m["Subject"] == "Lost reply"]) == 1


def test_smtp_url_and_token_bucket() -> None:
    config = SmtpConfig.from_url("smtps://user%40maya.test:p%40ss@mail.maya.test?rate=2&burst=3")
    assert (config.host, config.port, config.use_ssl, config.username, config.password) == (
        "mail.maya.test", 465, True, "user@maya.test", "p@ss")
    assert (config.from_address, config.rate_per_s, config.burst) == ("user@maya.test", 2.0, 3)
    with pytest.raises(Exception, match="needs the sender"):
        SmtpConfig.from_url("smtp://mail.maya.test:25")

    clock = [0.0]
    bucket = TokenBucket(2.0, 3, clock=lambda: clock[0], sleep=lambda s: clock.__setitem__(0, clock[0] + s))
    waits = [bucket.acquire() for _ in range(7)]
    assert waits[:3] == [0.0, 0.0, 0.0]  # the burst
    assert waits[3:] == pytest.approx([0.5, 0.5, 0.5, 0.5])  # then 2 per second
    assert clock[0] == pytest.approx(2.0)


def test_the_studio_sends_revenue_campaigns_through_the_mail_server_when_providers_are_real(
    tmp_path: Path, smtp_server: SmtpServer  # noqa: F811
) -> None:
    settings = make_settings(tmp_path / "home", providers="real", secret_key="k" * 32,
                             smtp_url=smtp_server.url(rate=100, burst=10))
    studio = Studio.open(settings, migrate_schema=False)
    try:
        ws = studio.workspaces.create("maya", "Maya Chen Studio", DEFAULT_TIMEZONE, DEFAULT_BRAND)
        assert isinstance(studio.email_provider, SmtpEmailProvider)
        for name in ("ada", "bob"):
            studio.email_provider.add_subscriber(ws.id, f"{name}@readers.test", name.title(), tags=["fans"])

        campaign = studio.revenue.send_email_campaign(
            ws, draft_id=None, subject="Studio news", body="Hello fans", segment="fans", send_at=None,
            now=NOW, idempotency_key="run-1:send_email_campaign")
        studio.revenue.send_email_campaign(  # the run is retried: nobody gets it twice
            ws, draft_id=None, subject="Studio news", body="Hello fans", segment="fans", send_at=None,
            now=NOW, idempotency_key="run-1:send_email_campaign")
    finally:
        studio.close()

    assert campaign.recipients == 2
    assert sorted(str(m["To"]) for m in smtp_server.mailbox.messages) == ["Ada <ada@readers.test>",
                                                                         "Bob <bob@readers.test>"]
    assert all(m["List-Unsubscribe"].startswith("<http://127.0.0.1:8400/email/unsubscribe?")
               for m in smtp_server.mailbox.messages)
