"""Revenue Center's own tables: A/B tests and the touchpoints that attribution reads.

Products, customers, subscriptions and payments live in the payments provider (Stripe); subscribers and
campaigns in the email provider. Only what neither platform keeps is stored here.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Float, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from creator_studio.store.db import Base, UTCDateTime


class ABTestRow(Base):
    __tablename__ = "revenue_ab_tests"
    __table_args__ = (UniqueConstraint("workspace_id", "idempotency_key"),)

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    workspace_id: Mapped[str] = mapped_column(String(64), index=True)
    name: Mapped[str] = mapped_column(String(200))
    metric: Mapped[str] = mapped_column(String(32))
    status: Mapped[str] = mapped_column(String(16), default="running")  # running | stopped
    started_at: Mapped[datetime] = mapped_column(UTCDateTime())
    idempotency_key: Mapped[str] = mapped_column(String(128))


class ABVariantRow(Base):
    __tablename__ = "revenue_ab_variants"
    __table_args__ = (UniqueConstraint("test_id", "name"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    workspace_id: Mapped[str] = mapped_column(String(64), index=True)
    test_id: Mapped[str] = mapped_column(String(64), index=True)
    position: Mapped[int] = mapped_column(Integer)  # 0 is the control
    name: Mapped[str] = mapped_column(String(200))
    share: Mapped[float] = mapped_column(Float)  # of the traffic, shares of a test sum to 1
    exposures: Mapped[int] = mapped_column(Integer, default=0)
    conversions: Mapped[int] = mapped_column(Integer, default=0)


class TouchpointRow(Base):
    """One time a (future) customer met the creator's content: a post view or click, an email click, ..."""

    __tablename__ = "revenue_touchpoints"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    workspace_id: Mapped[str] = mapped_column(String(64), index=True)
    customer_id: Mapped[str] = mapped_column(String(64), index=True)
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime())
    channel: Mapped[str] = mapped_column(String(32))  # bluesky | x | linkedin | ... | email | search
    post_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
