"""Events: the one envelope (`Event`) and a versioned payload model per event type.

An event says that something happened (`module.past_tense`, conventions.md). The envelope is the same for
every type; `data` is checked against the payload model registered for `(type, version)`, so a consumer can
rely on the fields it reads. Payload models allow extra fields (a publisher may add context) but the
fields they name are required and typed. A new payload shape is a new version, never an edit of an old one.
"""

from __future__ import annotations

import re
import uuid
from datetime import UTC, datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, ValidationInfo, field_validator, model_validator

Count = Annotated[int, Field(ge=0)]
Cents = Annotated[int, Field(ge=0, description="An amount in the currency's smallest unit (cents).")]
Currency = Annotated[str, Field(pattern=r"^[A-Za-z]{3}$", description="ISO 4217 code, e.g. usd.")]


class Payload(BaseModel):
    """Base of every payload model: named fields are required and typed; extra context is kept."""

    model_config = ConfigDict(extra="allow", str_strip_whitespace=True)


# -- content ------------------------------------------------------------------------------------------------
class ContentPublished(Payload):
    post_id: str
    platform: str
    url: str | None = None
    draft_id: str | None = None


class ContentScheduled(Payload):
    post_id: str
    platform: str
    scheduled_for: datetime


class ContentEngagementReceived(Payload):
    post_id: str
    platform: str
    likes: Count = 0
    comments: Count = 0
    shares: Count = 0
    views: Count = 0


class ContentMilestoneReached(Payload):
    post_id: str
    metric: str = Field(description="What crossed the milestone: likes, views, shares, ...")
    value: float
    milestone: float


class ContentOptimized(Payload):
    content_id: str = Field(description="The draft or post that was improved.")
    change: str = Field(min_length=1, description="What changed, in a few words.")


# -- audience -----------------------------------------------------------------------------------------------
class AudienceFollowerGained(Payload):
    platform: str
    count: int = Field(default=1, ge=1)
    total: Count | None = None
    handle: str | None = None


class AudienceEngagementThresholdCrossed(Payload):
    metric: str
    value: float
    threshold: float
    direction: Literal["up", "down"]


class AudienceMemberJoined(Payload):
    member_id: str
    community: str | None = None
    email: str | None = None


class AudienceLeadQualified(Payload):
    lead_id: str
    score: float = Field(ge=0, le=1)
    reason: str | None = None


class AudienceCommentReceived(Payload):
    comment_id: str
    platform: str
    author: str
    text: str
    post_id: str | None = None


# -- revenue ------------------------------------------------------------------------------------------------
class RevenuePurchaseCompleted(Payload):
    order_id: str = Field(description="The payment, checkout session or order id at the payment provider.")
    amount_cents: Cents
    currency: Currency
    product_id: str | None = None
    customer_email: str | None = None


class RevenueSubscriptionUpgraded(Payload):
    subscription_id: str
    to_plan: str
    from_plan: str | None = None
    customer_id: str | None = None
    mrr_delta_cents: int | None = None


class RevenuePaymentFailed(Payload):
    payment_id: str
    amount_cents: Cents
    currency: Currency
    customer_email: str | None = None
    reason: str | None = None


class RevenueChurnRiskDetected(Payload):
    customer_id: str
    risk: float = Field(ge=0, le=1)
    reasons: list[str] = Field(default_factory=list)


class RevenueProductCreated(Payload):
    product_id: str
    name: str
    price_id: str | None = None
    amount_cents: Cents | None = None
    currency: Currency | None = None


# -- system -------------------------------------------------------------------------------------------------
class SystemWorkflowCompleted(Payload):
    workflow_id: str
    run_id: str
    status: Literal["succeeded", "failed", "skipped", "cancelled"]
    duration_ms: Count | None = None


class SystemIntegrationError(Payload):
    integration: str = Field(description="The provider or platform: stripe, bluesky, smtp, ...")
    error: str
    retryable: bool = False


class SystemPerformanceAlert(Payload):
    metric: str
    value: float
    message: str
    threshold: float | None = None


class SystemRecommendationGenerated(Payload):
    recommendation: str = Field(min_length=1)
    module: str | None = None
    recommendation_id: str | None = None


# The registry: (type, version) -> payload model. The seed's sixteen events plus the few the code needs.
EVENT_SCHEMAS: dict[tuple[str, int], type[BaseModel]] = {
    ("content.published", 1): ContentPublished,
    ("content.scheduled", 1): ContentScheduled,
    ("content.engagement_received", 1): ContentEngagementReceived,
    ("content.milestone_reached", 1): ContentMilestoneReached,
    ("content.optimized", 1): ContentOptimized,
    ("audience.follower_gained", 1): AudienceFollowerGained,
    ("audience.engagement_threshold_crossed", 1): AudienceEngagementThresholdCrossed,
    ("audience.member_joined", 1): AudienceMemberJoined,
    ("audience.lead_qualified", 1): AudienceLeadQualified,
    ("audience.comment_received", 1): AudienceCommentReceived,
    ("revenue.purchase_completed", 1): RevenuePurchaseCompleted,
    ("revenue.subscription_upgraded", 1): RevenueSubscriptionUpgraded,
    ("revenue.payment_failed", 1): RevenuePaymentFailed,
    ("revenue.churn_risk_detected", 1): RevenueChurnRiskDetected,
    ("revenue.product_created", 1): RevenueProductCreated,
    ("system.workflow_completed", 1): SystemWorkflowCompleted,
    ("system.integration_error", 1): SystemIntegrationError,
    ("system.performance_alert", 1): SystemPerformanceAlert,
    ("system.recommendation_generated", 1): SystemRecommendationGenerated,
}

# Type name -> its newest payload model (what a publisher gets when it does not name a version).
EVENT_TYPES: dict[str, type[BaseModel]] = {
    name: EVENT_SCHEMAS[(name, max(v for n, v in EVENT_SCHEMAS if n == name))] for name, _ in EVENT_SCHEMAS
}
EVENT_TYPE_NAMES: frozenset[str] = frozenset(EVENT_TYPES)


def latest_version(event_type: str) -> int:
    versions = [version for name, version in EVENT_SCHEMAS if name == event_type]
    if not versions:
        raise ValueError(unknown_type_message(event_type))
    return max(versions)


def unknown_type_message(event_type: str) -> str:
    namespace = event_type.partition(".")[0]
    same = sorted(name for name in EVENT_TYPES if name.startswith(namespace + "."))
    hint = ", ".join(same or sorted(EVENT_TYPES)[:4])
    return f"unknown event type {event_type!r}; known types include {hint}"


def payload_model(event_type: str, version: int) -> type[BaseModel]:
    model = EVENT_SCHEMAS.get((event_type, version))
    if model is None:
        if event_type in EVENT_TYPES:
            known = sorted(v for n, v in EVENT_SCHEMAS if n == event_type)
            raise ValueError(f"event type {event_type!r} has no version {version}; versions: {known}")
        raise ValueError(unknown_type_message(event_type))
    return model


# A UUID already spelled as `str(uuid.UUID(...))` spells it: accepted as is, without parsing it again.
_CANONICAL_UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
# Validation context of an event whose payload a publisher already validated against its (type, version)
# schema: payload schemas never change within a version, so only the envelope and the registry are checked.
PAYLOAD_CHECKED = "payload_checked"


def _new_event_id() -> str:
    return str(uuid.uuid4())


class Event(BaseModel):
    """One thing that happened in a workspace. Immutable; `data` is the validated payload (JSON values)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    id: str = Field(default_factory=_new_event_id)
    type: str
    version: int = Field(default=1, ge=1)
    workspace_id: str = Field(min_length=1, max_length=64)
    occurred_at: datetime = Field(default_factory=lambda: datetime.now(UTC))
    source: str = Field(min_length=1, max_length=100, description="The module, agent or integration.")
    correlation_id: str | None = Field(default=None, max_length=100, description="The run or workflow behind it.")
    data: dict[str, Any] = Field(default_factory=dict)

    @field_validator("id")
    @classmethod
    def _uuid(cls, value: str) -> str:
        if _CANONICAL_UUID.fullmatch(value):
            return value
        try:
            return str(uuid.UUID(value))
        except ValueError as exc:
            raise ValueError(f"event id {value!r} is not a UUID") from exc

    @field_validator("occurred_at")
    @classmethod
    def _aware_utc(cls, value: datetime) -> datetime:
        if value.tzinfo is None:
            raise ValueError("occurred_at must carry a time zone (UTC), not a naive datetime")
        return value.astimezone(UTC)

    @model_validator(mode="after")
    def _check_payload(self, info: ValidationInfo) -> Event:
        model = payload_model(self.type, self.version)
        if info.context and info.context.get(PAYLOAD_CHECKED):
            return self
        try:
            payload = model.model_validate(self.data)
        except ValidationError as exc:
            problems = "; ".join(
                f"{'.'.join(str(p) for p in error['loc']) or 'data'}: {error['msg']}" for error in exc.errors()
            )
            raise ValueError(f"{self.type} v{self.version} payload is invalid: {problems}") from None
        # Stored as plain JSON values so the event hashes, serializes and compares the same everywhere.
        object.__setattr__(self, "data", payload.model_dump(mode="json", exclude_none=False))
        return self

    def payload(self) -> BaseModel:
        """The typed payload (e.g. `RevenuePaymentFailed`) for consumers that want attributes."""
        return payload_model(self.type, self.version).model_validate(self.data)

    def to_record(self) -> dict[str, Any]:
        """The JSON-ready dict used on the wire (Redis, webhooks, API) and for hashing."""
        return {
            "id": self.id,
            "type": self.type,
            "version": self.version,
            "workspace_id": self.workspace_id,
            "occurred_at": format_time(self.occurred_at),
            "source": self.source,
            "correlation_id": self.correlation_id,
            "data": self.data,
        }


def format_time(moment: datetime) -> str:
    """One spelling of a time for hashing and the wire: UTC, microseconds, `+00:00`."""
    return moment.astimezone(UTC).isoformat(timespec="microseconds")


def matches(event_type: str, patterns: tuple[str, ...] | None) -> bool:
    """`None` matches everything; a pattern is an exact type, `module.*` or `*`."""
    if patterns is None:
        return True
    for pattern in patterns:
        if pattern in ("*", event_type):
            return True
        if pattern.endswith(".*") and event_type.startswith(pattern[:-1]):
            return True
    return False


def check_pattern(pattern: str) -> str:
    """A subscription pattern must be able to match something: a known type, `namespace.*` or `*`."""
    if pattern == "*" or pattern in EVENT_TYPES:
        return pattern
    if pattern.endswith(".*") and any(name.startswith(pattern[:-1]) for name in EVENT_TYPES):
        return pattern
    raise ValueError(f"event pattern {pattern!r} matches no event type; use e.g. 'revenue.*', "
                     f"'content.published' or '*'")
