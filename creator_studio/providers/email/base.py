"""The email marketing interface (subscribers, tag segments, campaigns, drip sequences), shaped like the
APIs of newsletter platforms such as Kit or Buttondown, so a real adapter can implement it later.

Idempotency: a subscriber is one per email address (adding it again merges tags), a campaign is one per
idempotency key (sending with the same key twice sends once), an enrolment is one per subscriber and sequence.
"""

from __future__ import annotations

from datetime import datetime
from typing import Literal, Protocol

from pydantic import BaseModel, Field

SubscriberStatus = Literal["subscribed", "unsubscribed", "bounced"]
CampaignStatus = Literal["scheduled", "sent"]
# Segment names that mean "every subscribed address" rather than a tag.
ALL_SUBSCRIBERS = ("all", "everyone", "subscribers")


class Subscriber(BaseModel):
    id: str
    email: str
    name: str
    tags: list[str]
    status: SubscriberStatus
    subscribed_at: datetime


class Segment(BaseModel):
    name: str = Field(description="The tag that defines the segment.")
    subscribed: int = Field(description="Members who can receive email.")
    total: int = Field(description="Members including unsubscribed and bounced addresses.")


class Campaign(BaseModel):
    id: str
    subject: str
    body: str
    segment: str
    status: CampaignStatus
    send_at: datetime | None = Field(description="When a scheduled campaign goes out.")
    sent_at: datetime | None
    recipients: int = Field(description="Messages sent (0 while scheduled).")
    created: datetime


class SequenceStep(BaseModel):
    delay_days: int = Field(ge=0, description="Days after enrolment.")
    subject: str
    body: str


class Sequence(BaseModel):
    id: str
    name: str
    steps: list[SequenceStep]


class Enrolment(BaseModel):
    id: str
    sequence_id: str
    subscriber_id: str
    enrolled_at: datetime
    steps_sent: int


class EnrolmentBatch(BaseModel):
    """What one enrol request did: who was enrolled, who already was, who cannot receive email."""

    sequence: Sequence
    enrolled: list[Enrolment]
    already_enrolled: list[str] = Field(description="Subscriber ids already in the sequence (left as they were).")
    not_subscribed: list[str] = Field(description="Subscriber ids skipped: unsubscribed or bounced.")


class SentMessage(BaseModel):
    id: str
    subscriber_id: str
    to_email: str
    subject: str
    campaign_id: str | None
    sequence_id: str | None
    step: int | None
    sent_at: datetime
    opened_at: datetime | None
    clicked_at: datetime | None


class EmailProvider(Protocol):
    # Subscribers and segments -----------------------------------------------------------------------
    def add_subscriber(
        self, workspace_id: str, email: str, name: str, *, tags: list[str] | None = None
    ) -> Subscriber: ...

    def get_subscriber(self, workspace_id: str, subscriber_id: str) -> Subscriber: ...

    def list_subscribers(
        self, workspace_id: str, *, tag: str | None = None, status: SubscriberStatus | None = None
    ) -> list[Subscriber]: ...

    def unsubscribe(self, workspace_id: str, subscriber_id: str) -> Subscriber: ...

    def segment_members(self, workspace_id: str, segment: str, *, subscribed_only: bool = True) -> list[Subscriber]: ...

    def segments(self, workspace_id: str) -> list[Segment]: ...

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
    ) -> Campaign:
        """send_at None sends now, to the segment's subscribed members, one message each."""
        ...

    def get_campaign(self, workspace_id: str, campaign_id: str) -> Campaign: ...

    def list_campaigns(self, workspace_id: str) -> list[Campaign]: ...

    # Sequences --------------------------------------------------------------------------------------
    def create_sequence(self, workspace_id: str, name: str, steps: list[SequenceStep]) -> Sequence: ...

    def get_sequence(self, workspace_id: str, name_or_id: str) -> Sequence: ...

    def list_sequences(self, workspace_id: str) -> list[Sequence]: ...

    def enrol(
        self, workspace_id: str, sequence_id: str, subscriber_ids: list[str], *, idempotency_key: str
    ) -> EnrolmentBatch: ...

    def enrolments(self, workspace_id: str, *, sequence_id: str | None = None) -> list[Enrolment]: ...

    # The sent log -----------------------------------------------------------------------------------
    def messages(
        self,
        workspace_id: str,
        *,
        campaign_id: str | None = None,
        subscriber_id: str | None = None,
        since: datetime | None = None,
    ) -> list[SentMessage]: ...
