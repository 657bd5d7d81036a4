"""The exactly-once outbox's decisions, with a scripted sender (the real server is in the integration tests)."""

from __future__ import annotations

from email.message import EmailMessage

import pytest
from sqlalchemy import select

from creator_studio.providers.email.message import OutgoingEmail
from creator_studio.providers.email.models import EmailDeliveryRow
from creator_studio.providers.email.outbox import Outbox
from creator_studio.providers.email.smtp import SmtpConfig, SmtpSender, SmtpSendError
from creator_studio.store.db import Database

pytestmark = pytest.mark.unit


class ScriptedSender(SmtpSender):
    """Answers each send with the next scripted outcome (None = accepted) and records what was handed over."""

    def __init__(self, script: list[SmtpSendError | None]) -> None:
        super().__init__(SmtpConfig(host="mail.test", port=25, from_address="maya@maya.test"))
        self.script = script
        self.handed_over: list[str] = []

    def send(self, message: EmailMessage, recipient: str) -> None:
        outcome = self.script.pop(0)
        if outcome is None or outcome.kind == "unknown":
            self.handed_over.append(str(message["Message-ID"]))
        if outcome is not None:
            raise outcome


def email(key: str = "k1") -> OutgoingEmail:
    return OutgoingEmail(idempotency_key=key, workspace_id="ws", to_email="ada@readers.test", subject="Hi", body="x")


def test_temporary_failures_are_retried_then_sent_once(db: Database) -> None:
    sender = ScriptedSender([SmtpSendError("temporary", "421 busy"), None])
    outbox = Outbox(db, sender, sleep=lambda _s: None)
    first = outbox.deliver(email())
    again = outbox.deliver(email())
    assert (first.status, first.attempts, again.status) == ("sent", 2, "sent")
    assert len(sender.handed_over) == 1 and outbox.stats.skipped_already_sent == 1


def test_permanent_failure_and_giving_up_are_reported(db: Database) -> None:
    sender = ScriptedSender([SmtpSendError("permanent", "550 no such user"), *[SmtpSendError("temporary", "451")] * 3])
    outbox = Outbox(db, sender, max_attempts=3, sleep=lambda _s: None)
    assert outbox.deliver(email("a")).last_error == "550 no such user"
    gave_up = outbox.deliver(email("b"))
    assert gave_up.status == "failed" and "gave up after 3 attempts" in (gave_up.last_error or "")


def test_unknown_outcome_is_not_resent_unless_the_operator_chooses(db: Database) -> None:
    sender = ScriptedSender([SmtpSendError("unknown", "timed out after DATA"), None])
    outbox = Outbox(db, sender, sleep=lambda _s: None)
    assert outbox.deliver(email()).status == "unknown"
    assert outbox.deliver(email()).status == "unknown"  # a retry does not resend
    assert len(sender.handed_over) == 1
    resent = outbox.resend_unknown(email())
    assert resent.status == "sent" and sender.handed_over[0] == sender.handed_over[1]  # same Message-ID


def test_a_send_interrupted_by_a_crash_is_reported_unknown(db: Database) -> None:
    sender = ScriptedSender([])
    outbox = Outbox(db, sender, sleep=lambda _s: None)
    outbox._claim(email())
    with db.transaction() as session:  # the process died after marking `sending`, before the result
        row = session.scalar(select(EmailDeliveryRow))
        assert row is not None
        row.status = "sending"
    recovered = outbox.deliver(email())
    assert recovered.status == "unknown" and "interrupted" in (recovered.last_error or "")
    assert sender.handed_over == []
