"""The sandbox email platform: subscribers, campaigns and sequences kept in the workspace database.

Sending means recording one message per recipient in the sent log; a campaign's idempotency key and a
unique (campaign, subscriber) pair make sure nobody gets the same campaign twice. Methods take a few extra
keyword arguments a real platform does not have (`at`, `status`, ...) so the sandbox world can be seeded
with history.
"""

from __future__ import annotations

from contextlib import AbstractContextManager
from datetime import datetime

from sqlalchemy import JSON, Integer, String, Text, UniqueConstraint, or_, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from creator_studio.errors import Conflict, InvalidInput, NotFound
from creator_studio.providers.email.base import (
    ALL_SUBSCRIBERS,
    Campaign,
    Enrolment,
    EnrolmentBatch,
    Segment,
    SentMessage,
    Sequence,
    SequenceStep,
    Subscriber,
    SubscriberStatus,
)
from creator_studio.store.batching import BatchableSessions
from creator_studio.store.db import Base, Database, UTCDateTime, new_id, utcnow


class SandboxSubscriberRow(Base):
    __tablename__ = "sandbox_email_subscribers"
    __table_args__ = (UniqueConstraint("workspace_id", "email"),)

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    workspace_id: Mapped[str] = mapped_column(String(64), index=True)
    email: Mapped[str] = mapped_column(String(320))
    name: Mapped[str] = mapped_column(String(200))
    tags: Mapped[list[str]] = mapped_column(JSON, default=list)
    status: Mapped[str] = mapped_column(String(16))  # subscribed | unsubscribed | bounced
    subscribed_at: Mapped[datetime] = mapped_column(UTCDateTime())


class SandboxCampaignRow(Base):
    __tablename__ = "sandbox_email_campaigns"
    __table_args__ = (UniqueConstraint("workspace_id", "idempotency_key"),)

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    workspace_id: Mapped[str] = mapped_column(String(64), index=True)
    subject: Mapped[str] = mapped_column(String(300))
    body: Mapped[str] = mapped_column(Text)
    segment: Mapped[str] = mapped_column(String(100))
    status: Mapped[str] = mapped_column(String(16))  # scheduled | sent
    send_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    recipients: Mapped[int] = mapped_column(Integer, default=0)
    created: Mapped[datetime] = mapped_column(UTCDateTime())
    idempotency_key: Mapped[str] = mapped_column(String(128))


class SandboxSequenceRow(Base):
    __tablename__ = "sandbox_email_sequences"
    __table_args__ = (UniqueConstraint("workspace_id", "name"),)

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    workspace_id: Mapped[str] = mapped_column(String(64), index=True)
    name: Mapped[str] = mapped_column(String(100))
    steps: Mapped[list[dict[str, object]]] = mapped_column(JSON, default=list)


class SandboxEnrolmentRow(Base):
    __tablename__ = "sandbox_email_enrolments"
    __table_args__ = (UniqueConstraint("sequence_id", "subscriber_id"),)

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    workspace_id: Mapped[str] = mapped_column(String(64), index=True)
    sequence_id: Mapped[str] = mapped_column(String(64), index=True)
    subscriber_id: Mapped[str] = mapped_column(String(64))
    enrolled_at: Mapped[datetime] = mapped_column(UTCDateTime())
    steps_sent: Mapped[int] = mapped_column(Integer, default=0)
    idempotency_key: Mapped[str] = mapped_column(String(128), index=True)


class SandboxMessageRow(Base):
    __tablename__ = "sandbox_email_messages"
    # One campaign message and one message per sequence step per subscriber, whatever retries happen.
    __table_args__ = (
        UniqueConstraint("campaign_id", "subscriber_id"),
        UniqueConstraint("sequence_id", "step", "subscriber_id"),
    )

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    workspace_id: Mapped[str] = mapped_column(String(64), index=True)
    subscriber_id: Mapped[str] = mapped_column(String(64), index=True)
    to_email: Mapped[str] = mapped_column(String(320))
    subject: Mapped[str] = mapped_column(String(300))
    campaign_id: Mapped[str | None] = mapped_column(String(64), nullable=True, index=True)
    sequence_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    step: Mapped[int | None] = mapped_column(Integer, nullable=True)
    sent_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
    opened_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    clicked_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)


class SandboxEmailProvider:
    def __init__(self, db: Database) -> None:
        self._db = db
        self._sessions = BatchableSessions(db, "email")

    def batch(self) -> AbstractContextManager[None]:
        """Run many writes as one transaction (seeding a world): all or nothing, and much faster."""
        return self._sessions.batch()

    def _session(self) -> AbstractContextManager[Session]:
        return self._sessions.session()

    # Subscribers and segments -----------------------------------------------------------------------
    def add_subscriber(
        self,
        workspace_id: str,
        email: str,
        name: str,
        *,
        tags: list[str] | None = None,
        status: SubscriberStatus = "subscribed",
        subscribed_at: datetime | None = None,
    ) -> Subscriber:
        """One subscriber per address: adding a known address merges its tags instead of duplicating it."""
        address = email.strip().lower()
        if "@" not in address or address.startswith("@") or address.endswith("@"):
            raise InvalidInput(f"{email!r} is not an email address.")
        clean_tags = _tags(tags)
        with self._session() as session:
            row = self._subscriber_by_email(session, workspace_id, address)
            if row is None:
                row = SandboxSubscriberRow(
                    id=new_id("subscriber"),
                    workspace_id=workspace_id,
                    email=address,
                    name=name.strip(),
                    tags=clean_tags,
                    status=status,
                    subscribed_at=subscribed_at or utcnow(),
                )
                _add(session, row)
            else:
                row.tags = sorted(set(row.tags) | set(clean_tags))
            return _subscriber(row)

    def get_subscriber(self, workspace_id: str, subscriber_id: str) -> Subscriber:
        with self._session() as session:
            return _subscriber(self._subscriber_row(session, workspace_id, subscriber_id))

    def list_subscribers(
        self, workspace_id: str, *, tag: str | None = None, status: SubscriberStatus | None = None
    ) -> list[Subscriber]:
        with self._session() as session:
            return [_subscriber(r) for r in self._subscriber_rows(session, workspace_id, tag=tag, status=status)]

    def unsubscribe(self, workspace_id: str, subscriber_id: str) -> Subscriber:
        with self._session() as session:
            row = self._subscriber_row(session, workspace_id, subscriber_id)
            if row.status == "subscribed":
                row.status = "unsubscribed"
            return _subscriber(row)

    def segment_members(self, workspace_id: str, segment: str, *, subscribed_only: bool = True) -> list[Subscriber]:
        with self._session() as session:
            rows = self._segment_rows(session, workspace_id, segment, subscribed_only=subscribed_only)
            return [_subscriber(r) for r in rows]

    def segments(self, workspace_id: str) -> list[Segment]:
        counts: dict[str, list[int]] = {}
        for subscriber in self.list_subscribers(workspace_id):
            for tag in subscriber.tags:
                subscribed, total = counts.setdefault(tag, [0, 0])
                counts[tag] = [subscribed + (subscriber.status == "subscribed"), total + 1]
        return [
            Segment(name=tag, subscribed=subscribed, total=total) for tag, (subscribed, total) in sorted(counts.items())
        ]

    # Campaigns --------------------------------------------------------------------------------------
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
        """send_at None sends now (or at `at`, for seeding history) to the segment's subscribed members."""
        if not subject.strip() or not body.strip():
            raise InvalidInput("A campaign needs a subject and a body.")
        with self._session() as session:
            existing = session.scalar(
                select(SandboxCampaignRow).where(
                    SandboxCampaignRow.workspace_id == workspace_id,
                    SandboxCampaignRow.idempotency_key == idempotency_key,
                )
            )
            if existing is not None:
                return _campaign(existing)
            now = at or utcnow()
            if not self._segment_rows(session, workspace_id, segment, subscribed_only=True, joined_by=now):
                raise InvalidInput(f"The segment {segment!r} has no subscribed members, so there is nobody to send to.")
            row = SandboxCampaignRow(
                id=new_id("campaign"),
                workspace_id=workspace_id,
                subject=subject.strip(),
                body=body,
                segment=segment,
                status="scheduled",
                send_at=send_at,
                recipients=0,
                created=now,
                idempotency_key=idempotency_key,
            )
            _add(session, row)
            if send_at is None:
                self._send(session, row, now)
            return _campaign(row)

    def send_due_campaigns(self, workspace_id: str, now: datetime) -> list[Campaign]:
        """Send scheduled campaigns whose time has come (a real platform does this on its own)."""
        with self._session() as session:
            rows = session.scalars(
                select(SandboxCampaignRow).where(
                    SandboxCampaignRow.workspace_id == workspace_id,
                    SandboxCampaignRow.status == "scheduled",
                    SandboxCampaignRow.send_at <= now,
                )
            ).all()
            for row in rows:
                self._send(session, row, now)
            return [_campaign(r) for r in rows]

    def get_campaign(self, workspace_id: str, campaign_id: str) -> Campaign:
        with self._session() as session:
            row = session.get(SandboxCampaignRow, campaign_id)
            if row is None or row.workspace_id != workspace_id:
                raise NotFound(f"No email campaign {campaign_id!r} in this workspace.")
            return _campaign(row)

    def list_campaigns(self, workspace_id: str) -> list[Campaign]:
        with self._session() as session:
            query = select(SandboxCampaignRow).where(SandboxCampaignRow.workspace_id == workspace_id)
            return [_campaign(r) for r in session.scalars(query.order_by(SandboxCampaignRow.created))]

    def _send(self, session: Session, campaign: SandboxCampaignRow, now: datetime) -> None:
        if campaign.status == "sent":  # a campaign goes out once
            return
        members = self._segment_rows(
            session, campaign.workspace_id, campaign.segment, subscribed_only=True, joined_by=now
        )
        _add(
            session,
            *[
                SandboxMessageRow(
                    id=new_id("msg"),
                    workspace_id=campaign.workspace_id,
                    subscriber_id=m.id,
                    to_email=m.email,
                    subject=campaign.subject,
                    campaign_id=campaign.id,
                    sent_at=now,
                )
                for m in members
            ],
        )
        campaign.status, campaign.sent_at, campaign.recipients = "sent", now, len(members)

    # Sequences --------------------------------------------------------------------------------------
    def create_sequence(self, workspace_id: str, name: str, steps: list[SequenceStep]) -> Sequence:
        """One sequence per name: creating a known name returns the existing sequence unchanged."""
        if not name.strip() or not steps:
            raise InvalidInput("A sequence needs a name and at least one step.")
        with self._session() as session:
            row = self._sequence_row(session, workspace_id, name.strip(), missing_ok=True)
            if row is None:
                row = SandboxSequenceRow(
                    id=new_id("seq"),
                    workspace_id=workspace_id,
                    name=name.strip(),
                    steps=[s.model_dump() for s in steps],
                )
                _add(session, row)
            return _sequence(row)

    def get_sequence(self, workspace_id: str, name_or_id: str) -> Sequence:
        with self._session() as session:
            row = self._sequence_row(session, workspace_id, name_or_id.strip())
            assert row is not None
            return _sequence(row)

    def list_sequences(self, workspace_id: str) -> list[Sequence]:
        with self._session() as session:
            query = select(SandboxSequenceRow).where(SandboxSequenceRow.workspace_id == workspace_id)
            return [_sequence(r) for r in session.scalars(query.order_by(SandboxSequenceRow.name))]

    def enrol(
        self,
        workspace_id: str,
        sequence_id: str,
        subscriber_ids: list[str],
        *,
        idempotency_key: str,
        at: datetime | None = None,
    ) -> EnrolmentBatch:
        """Enrol subscribers once each; steps due at once (delay 0) are sent at enrolment."""
        now = at or utcnow()
        with self._session() as session:
            sequence_row = self._sequence_row(session, workspace_id, sequence_id)
            assert sequence_row is not None
            sequence = _sequence(sequence_row)
            subscribers = [self._subscriber_row(session, workspace_id, s) for s in dict.fromkeys(subscriber_ids)]
            known = {
                e.subscriber_id: e
                for e in session.scalars(
                    select(SandboxEnrolmentRow).where(
                        SandboxEnrolmentRow.sequence_id == sequence.id,
                        SandboxEnrolmentRow.subscriber_id.in_([s.id for s in subscribers]),
                    )
                )
            }
            enrolled: list[SandboxEnrolmentRow] = []
            already: list[str] = []
            not_subscribed: list[str] = []
            for subscriber in subscribers:
                existing = known.get(subscriber.id)
                if existing is not None:
                    # The same request again reports what it did the first time.
                    if existing.idempotency_key == idempotency_key:
                        enrolled.append(existing)
                    else:
                        already.append(subscriber.id)
                elif subscriber.status != "subscribed":
                    not_subscribed.append(subscriber.id)
                else:
                    enrolled.append(self._enrol_one(session, sequence, subscriber, now, idempotency_key))
            return EnrolmentBatch(
                sequence=sequence,
                enrolled=[_enrolment(e) for e in enrolled],
                already_enrolled=already,
                not_subscribed=not_subscribed,
            )

    @staticmethod
    def _enrol_one(
        session: Session, sequence: Sequence, subscriber: SandboxSubscriberRow, now: datetime, idempotency_key: str
    ) -> SandboxEnrolmentRow:
        enrolment = SandboxEnrolmentRow(
            id=new_id("enrol"),
            workspace_id=subscriber.workspace_id,
            sequence_id=sequence.id,
            subscriber_id=subscriber.id,
            enrolled_at=now,
            steps_sent=0,
            idempotency_key=idempotency_key,
        )
        _add(session, enrolment)
        for index, step in enumerate(sequence.steps):
            if step.delay_days > 0:  # later steps are the platform's drip schedule
                break
            _add(
                session,
                SandboxMessageRow(
                    id=new_id("msg"),
                    workspace_id=subscriber.workspace_id,
                    subscriber_id=subscriber.id,
                    to_email=subscriber.email,
                    subject=step.subject,
                    sequence_id=sequence.id,
                    step=index,
                    sent_at=now,
                ),
            )
            enrolment.steps_sent = index + 1
        return enrolment

    def enrolments(self, workspace_id: str, *, sequence_id: str | None = None) -> list[Enrolment]:
        with self._session() as session:
            query = select(SandboxEnrolmentRow).where(SandboxEnrolmentRow.workspace_id == workspace_id)
            if sequence_id is not None:
                query = query.where(SandboxEnrolmentRow.sequence_id == sequence_id)
            return [_enrolment(r) for r in session.scalars(query.order_by(SandboxEnrolmentRow.enrolled_at))]

    # The sent log -----------------------------------------------------------------------------------
    def messages(
        self,
        workspace_id: str,
        *,
        campaign_id: str | None = None,
        subscriber_id: str | None = None,
        since: datetime | None = None,
    ) -> list[SentMessage]:
        with self._session() as session:
            query = select(SandboxMessageRow).where(SandboxMessageRow.workspace_id == workspace_id)
            if campaign_id is not None:
                query = query.where(SandboxMessageRow.campaign_id == campaign_id)
            if subscriber_id is not None:
                query = query.where(SandboxMessageRow.subscriber_id == subscriber_id)
            if since is not None:
                query = query.where(SandboxMessageRow.sent_at >= since)
            return [_message(r) for r in session.scalars(query.order_by(SandboxMessageRow.sent_at))]

    def record_engagement(
        self, workspace_id: str, message_id: str, *, opened_at: datetime, clicked_at: datetime | None = None
    ) -> SentMessage:
        """The simulated reader opened (and maybe clicked) a message."""
        if clicked_at is not None and clicked_at < opened_at:
            raise InvalidInput("A message is clicked after it is opened.")
        with self._session() as session:
            row = session.get(SandboxMessageRow, message_id)
            if row is None or row.workspace_id != workspace_id:
                raise NotFound(f"No sent message {message_id!r} in this workspace.")
            if opened_at < row.sent_at:
                raise Conflict("A message cannot be opened before it was sent.")
            row.opened_at = row.opened_at or opened_at
            row.clicked_at = row.clicked_at or clicked_at
            return _message(row)

    # Lookups ------------------------------------------------------------------------------------------
    @staticmethod
    def _subscriber_by_email(session: Session, workspace_id: str, address: str) -> SandboxSubscriberRow | None:
        added = _added(session).get((workspace_id, address))
        if added is not None:
            return added
        if "pinned" in session.info:
            # In a batch, one query tells which addresses existed before it; most lookups end here.
            stored = session.info.setdefault("stored_emails", {})
            if workspace_id not in stored:
                with session.no_autoflush:
                    stored[workspace_id] = set(
                        session.scalars(
                            select(SandboxSubscriberRow.email).where(SandboxSubscriberRow.workspace_id == workspace_id)
                        )
                    )
            if address not in stored[workspace_id]:
                return None
        with session.no_autoflush:  # subscribers this session added are in the index above
            return session.scalar(
                select(SandboxSubscriberRow).where(
                    SandboxSubscriberRow.workspace_id == workspace_id, SandboxSubscriberRow.email == address
                )
            )

    @staticmethod
    def _subscriber_row(session: Session, workspace_id: str, subscriber_id: str) -> SandboxSubscriberRow:
        row = session.get(SandboxSubscriberRow, subscriber_id)
        if row is None or row.workspace_id != workspace_id:
            raise NotFound(f"No email subscriber {subscriber_id!r} in this workspace.")
        return row

    @staticmethod
    def _subscriber_rows(
        session: Session, workspace_id: str, *, tag: str | None = None, status: str | None = None
    ) -> list[SandboxSubscriberRow]:
        query = select(SandboxSubscriberRow).where(SandboxSubscriberRow.workspace_id == workspace_id)
        if status is not None:
            query = query.where(SandboxSubscriberRow.status == status)
        rows = list(session.scalars(query.order_by(SandboxSubscriberRow.subscribed_at, SandboxSubscriberRow.id)))
        if tag is not None:  # tags are a JSON list: filtered here, portable across SQLite and PostgreSQL
            wanted = tag.strip().lower()
            rows = [r for r in rows if wanted in (r.tags or [])]
        return rows

    def _segment_rows(
        self,
        session: Session,
        workspace_id: str,
        segment: str,
        *,
        subscribed_only: bool,
        joined_by: datetime | None = None,
    ) -> list[SandboxSubscriberRow]:
        name = segment.strip().lower()
        rows = self._subscriber_rows(
            session,
            workspace_id,
            tag=None if name in ALL_SUBSCRIBERS else name,
            status="subscribed" if subscribed_only else None,
        )
        if joined_by is not None:
            rows = [r for r in rows if r.subscribed_at <= joined_by]
        return rows

    @staticmethod
    def _sequence_row(
        session: Session, workspace_id: str, name_or_id: str, *, missing_ok: bool = False
    ) -> SandboxSequenceRow | None:
        row = session.scalar(
            select(SandboxSequenceRow).where(
                SandboxSequenceRow.workspace_id == workspace_id,
                or_(SandboxSequenceRow.id == name_or_id, SandboxSequenceRow.name == name_or_id),
            )
        )
        if row is None:
            row = next(
                (
                    r
                    for r in session.scalars(
                        select(SandboxSequenceRow).where(SandboxSequenceRow.workspace_id == workspace_id)
                    )
                    if r.name.lower() == name_or_id.lower()
                ),
                None,
            )
        if row is None and not missing_ok:
            names = (
                ", ".join(
                    r.name
                    for r in session.scalars(
                        select(SandboxSequenceRow)
                        .where(SandboxSequenceRow.workspace_id == workspace_id)
                        .order_by(SandboxSequenceRow.name)
                    )
                )
                or "none yet"
            )
            raise NotFound(f"No email sequence {name_or_id!r}; the sequences are: {names}.")
        return row


def _tags(tags: list[str] | None) -> list[str]:
    return sorted({t.strip().lower() for t in tags or [] if t.strip()})


def _subscriber(row: SandboxSubscriberRow) -> Subscriber:
    return Subscriber.model_validate(row, from_attributes=True)


def _campaign(row: SandboxCampaignRow) -> Campaign:
    return Campaign.model_validate(row, from_attributes=True)


def _sequence(row: SandboxSequenceRow) -> Sequence:
    return Sequence(id=row.id, name=row.name, steps=[SequenceStep.model_validate(s) for s in row.steps])


def _enrolment(row: SandboxEnrolmentRow) -> Enrolment:
    return Enrolment.model_validate(row, from_attributes=True)


def _message(row: SandboxMessageRow) -> SentMessage:
    return SentMessage.model_validate(row, from_attributes=True)


def _add(session: Session, *rows: object) -> None:
    """Add rows; subscribers are indexed by address, so a lookup in this session needs no flush."""
    session.add_all(rows)
    index = _added(session)
    for row in rows:
        if isinstance(row, SandboxSubscriberRow):
            index[(row.workspace_id, row.email)] = row
    pinned = session.info.get("pinned")
    if pinned is not None:
        pinned.extend(rows)


def _added(session: Session) -> dict[tuple[str, str], SandboxSubscriberRow]:
    index: dict[tuple[str, str], SandboxSubscriberRow] = session.info.setdefault("email_added", {})
    return index
