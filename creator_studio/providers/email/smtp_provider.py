"""The real email provider for a studio that sends through its own mail server (STUDIO_SMTP_URL).

The studio is the list host here: subscribers, campaigns, sequences and the sent log are the same records
the sandbox keeps (the same tables), and every message recorded in the sent log is then delivered for real
through the exactly-once outbox (outbox.py), with a per-subscriber one-click unsubscribe link and headers.
Suppression (unsubscribes, hard bounces, complaints) is the subscriber status: only `subscribed` addresses
are ever mailed.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from creator_studio.errors import InvalidInput, NotFound
from creator_studio.providers.email.base import Campaign, EnrolmentBatch, Subscriber
from creator_studio.providers.email.bounces import DeliveryReport, parse_report
from creator_studio.providers.email.message import OutgoingEmail, UnsubscribeLinks
from creator_studio.providers.email.outbox import Delivery, Outbox
from creator_studio.providers.email.sandbox import (
    SandboxCampaignRow,
    SandboxEmailProvider,
    SandboxEnrolmentRow,
    SandboxMessageRow,
    SandboxSequenceRow,
    SandboxSubscriberRow,
    _subscriber,
)
from creator_studio.store.db import Database, new_id


class SmtpEmailProvider(SandboxEmailProvider):
    def __init__(self, db: Database, outbox: Outbox, links: UnsubscribeLinks) -> None:
        super().__init__(db)
        self.outbox = outbox
        self.links = links

    # Sending ----------------------------------------------------------------------------------------
    def create_campaign(
        self,
        workspace_id: str,
        subject: str,
        body: str,
        segment: str,
        *,
        send_at: datetime | None,
        idempotency_key: str,
        at: datetime | None = None,
    ) -> Campaign:
        campaign = super().create_campaign(
            workspace_id, subject, body, segment, send_at=send_at, idempotency_key=idempotency_key, at=at
        )
        if campaign.status == "sent":
            # A retry of the same request lands here too: messages already delivered are skipped by key.
            self.deliver_recorded(workspace_id, campaign_id=campaign.id)
        return campaign

    def send_due_campaigns(self, workspace_id: str, now: datetime) -> list[Campaign]:
        campaigns = super().send_due_campaigns(workspace_id, now)
        for campaign in campaigns:
            self.deliver_recorded(workspace_id, campaign_id=campaign.id)
        return campaigns

    def enrol(
        self,
        workspace_id: str,
        sequence_id: str,
        subscriber_ids: list[str],
        *,
        idempotency_key: str,
        at: datetime | None = None,
    ) -> EnrolmentBatch:
        batch = super().enrol(workspace_id, sequence_id, subscriber_ids, idempotency_key=idempotency_key, at=at)
        self.deliver_recorded(workspace_id, sequence_id=batch.sequence.id)
        return batch

    def send_due_sequence_steps(self, workspace_id: str, now: datetime) -> int:
        """Record and deliver every sequence step whose delay has passed (the drip schedule); returns how many
        steps were recorded. Safe to run as often as wanted: a (sequence, step, subscriber) is recorded once."""
        recorded = 0
        with self._session() as session:
            enrolments = session.scalars(
                select(SandboxEnrolmentRow).where(SandboxEnrolmentRow.workspace_id == workspace_id)
            ).all()
            for enrolment in enrolments:
                sequence = session.get(SandboxSequenceRow, enrolment.sequence_id)
                subscriber = session.get(SandboxSubscriberRow, enrolment.subscriber_id)
                if sequence is None or subscriber is None or subscriber.status != "subscribed":
                    continue
                for index in range(enrolment.steps_sent, len(sequence.steps)):
                    step = sequence.steps[index]
                    if enrolment.enrolled_at + timedelta(days=int(str(step["delay_days"]))) > now:
                        break
                    session.add(SandboxMessageRow(
                        id=new_id("msg"), workspace_id=workspace_id, subscriber_id=subscriber.id,
                        to_email=subscriber.email, subject=str(step["subject"]), sequence_id=sequence.id,
                        step=index, sent_at=now,
                    ))
                    enrolment.steps_sent = index + 1
                    recorded += 1
        self.deliver_recorded(workspace_id)
        return recorded

    def deliver_recorded(
        self, workspace_id: str, *, campaign_id: str | None = None, sequence_id: str | None = None
    ) -> list[Delivery]:
        """Deliver every recorded message (of one campaign or sequence, or all) through the outbox."""
        with self._session() as session:
            query = select(SandboxMessageRow).where(SandboxMessageRow.workspace_id == workspace_id)
            if campaign_id is not None:
                query = query.where(SandboxMessageRow.campaign_id == campaign_id)
            if sequence_id is not None:
                query = query.where(SandboxMessageRow.sequence_id == sequence_id)
            emails = [self._outgoing(row, session) for row in session.scalars(query)]
        return [self.outbox.deliver(email) for email in emails if email is not None]

    def _outgoing(self, row: SandboxMessageRow, session: Session) -> OutgoingEmail | None:
        subscriber = session.get(SandboxSubscriberRow, row.subscriber_id)
        if subscriber is None:
            return None
        if row.campaign_id is not None:
            campaign = session.get(SandboxCampaignRow, row.campaign_id)
            if campaign is None:
                return None
            key, body = f"{row.workspace_id}:campaign:{campaign.id}:{subscriber.id}", campaign.body
        else:
            sequence = session.get(SandboxSequenceRow, row.sequence_id)
            if sequence is None or row.step is None:
                return None
            key = f"{row.workspace_id}:sequence:{sequence.id}:{row.step}:{subscriber.id}"
            body = str(sequence.steps[row.step]["body"])
        url = self.links.url(row.workspace_id, subscriber.id)
        return OutgoingEmail(
            idempotency_key=key, workspace_id=row.workspace_id, to_email=subscriber.email, to_name=subscriber.name,
            subject=row.subject, body=f"{body}\n\n--\nUnsubscribe: {url}\n",
            headers=self.links.headers(row.workspace_id, subscriber.id),
        )

    def send_one(self, email: OutgoingEmail) -> Delivery:
        """A single transactional message (a confirmation, a receipt) through the same outbox."""
        return self.outbox.deliver(email)

    def deliveries(self, workspace_id: str) -> list[Delivery]:
        return self.outbox.list(workspace_id)

    # Suppression ------------------------------------------------------------------------------------
    def unsubscribe_with_token(self, workspace_id: str, subscriber_id: str, token: str) -> Subscriber:
        """The one-click link (GET or RFC 8058 POST): a wrong token is refused, so links cannot be forged."""
        if not self.links.verify(workspace_id, subscriber_id, token):
            raise InvalidInput("This unsubscribe link is not valid (it may have been changed or cut short).")
        return self.unsubscribe(workspace_id, subscriber_id)

    def suppress(self, workspace_id: str, email: str, status: str) -> Subscriber | None:
        """Stop mailing an address: `bounced` for a hard bounce, `unsubscribed` for a complaint."""
        if status not in ("bounced", "unsubscribed"):
            raise InvalidInput(f"suppression status must be bounced or unsubscribed (got {status!r}).")
        with self._session() as session:
            row = self._subscriber_by_email(session, workspace_id, email.strip().lower())
            if row is None:
                return None
            row.status = status
            return _subscriber(row)

    def subscriber_by_email(self, workspace_id: str, email: str) -> Subscriber:
        with self._session() as session:
            row = self._subscriber_by_email(session, workspace_id, email.strip().lower())
            if row is None:
                raise NotFound(f"No email subscriber {email!r} in this workspace.")
            return _subscriber(row)

    def handle_report(self, workspace_id: str, raw: bytes) -> list[DeliveryReport]:
        """Apply a bounce or complaint message: hard bounces become `bounced`, complaints `unsubscribed`."""
        reports = parse_report(raw)
        for report in reports:
            if report.kind == "hard_bounce":
                self.suppress(workspace_id, report.recipient, "bounced")
            elif report.kind == "complaint":
                self.suppress(workspace_id, report.recipient, "unsubscribed")
        return reports

    def resubscribe(self, workspace_id: str, subscriber_id: str) -> Subscriber:
        """A confirmed opt-in from an address that had unsubscribed (never from a hard bounce's own doing)."""
        with self._session() as session:
            row = self._subscriber_row(session, workspace_id, subscriber_id)
            row.status = "subscribed"
            return _subscriber(row)
