"""Bounce (RFC 3464 DSN) and complaint (ARF, RFC 5965) parsing, and the suppressions they cause."""

from __future__ import annotations

from pathlib import Path

import pytest

from creator_studio.providers.email.bounces import parse_report
from creator_studio.providers.email.message import UnsubscribeLinks
from creator_studio.providers.email.outbox import Outbox
from creator_studio.providers.email.smtp import SmtpConfig, SmtpSender
from creator_studio.providers.email.smtp_provider import SmtpEmailProvider
from creator_studio.store.db import Database
from creator_studio.store.models import Base

pytestmark = pytest.mark.unit

DSN = b"""From: MAILER-DAEMON@mx.readers.test
To: studio@maya.test
Subject: Undelivered Mail Returned to Sender
MIME-Version: 1.0
Content-Type: multipart/report; report-type=delivery-status; boundary="B"

--B
Content-Type: text/plain

Your message could not be delivered.

--B
Content-Type: message/delivery-status

Reporting-MTA: dns; mx.readers.test
Arrival-Date: Wed, 25 Nov 2026 14:00:00 +0000

Final-Recipient: rfc822; gone@readers.test
Original-Recipient: rfc822;gone@readers.test
Action: failed
Status: 5.1.1
Diagnostic-Code: smtp; 550 5.1.1 <gone@readers.test>: Recipient address rejected: User unknown

Final-Recipient: rfc822; full@readers.test
Action: delayed
Status: 4.2.2
Diagnostic-Code: smtp; 452 4.2.2 Mailbox full

--B
Content-Type: text/rfc822-headers

From: studio@maya.test
To: gone@readers.test
Subject: Launch day
Message-ID: <abc123@maya.test>

--B--
"""

ARF = b"""From: fbl@isp.test
To: abuse@maya.test
Subject: FW: Launch day
MIME-Version: 1.0
Content-Type: multipart/report; report-type=feedback-report; boundary="F"

--F
Content-Type: text/plain

This is an email abuse report.

--F
Content-Type: message/feedback-report

Feedback-Type: abuse
User-Agent: SomeFBL/1.0
Version: 1
Original-Mail-From: <studio@maya.test>
Original-Rcpt-To: <angry@readers.test>

--F
Content-Type: message/rfc822

From: studio@maya.test
To: angry@readers.test
Subject: Launch day
Message-ID: <def456@maya.test>

Hello
--F--
"""


def test_dsn_gives_a_hard_and_a_soft_bounce() -> None:
    reports = parse_report(DSN)
    assert [(r.kind, r.recipient, r.status) for r in reports] == [
        ("hard_bounce", "gone@readers.test", "5.1.1"),
        ("soft_bounce", "full@readers.test", "4.2.2"),
    ]
    assert reports[0].original_message_id == "<abc123@maya.test>"
    assert "User unknown" in (reports[0].diagnostic or "")


def test_arf_gives_a_complaint() -> None:
    [report] = parse_report(ARF)
    assert (report.kind, report.recipient, report.diagnostic) == ("complaint", "angry@readers.test", "abuse")
    assert report.original_message_id == "<def456@maya.test>"


def test_an_ordinary_message_is_not_a_report() -> None:
    assert parse_report(b"From: a@b.test\nTo: c@d.test\nSubject: hi\n\nhello\n") == []


def test_reports_suppress_the_addresses(tmp_path: Path) -> None:
    db = Database(f"sqlite:///{tmp_path / 'mail.db'}")
    Base.metadata.create_all(db.engine)
    sender = SmtpSender(SmtpConfig.from_url("smtp://127.0.0.1:9?from=studio@maya.test"))
    provider = SmtpEmailProvider(db, Outbox(db, sender), UnsubscribeLinks(b"x" * 16, "https://s.test"))
    for address in ("gone@readers.test", "full@readers.test", "angry@readers.test"):
        provider.add_subscriber("ws", address, address.split("@")[0])

    provider.handle_report("ws", DSN)
    provider.handle_report("ws", ARF)

    statuses = {s.email: s.status for s in provider.list_subscribers("ws")}
    assert statuses == {"gone@readers.test": "bounced", "full@readers.test": "subscribed",
                        "angry@readers.test": "unsubscribed"}
    assert [s.email for s in provider.segment_members("ws", "all")] == ["full@readers.test"]
    db.dispose()
