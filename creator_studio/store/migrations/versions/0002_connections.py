"""social, email and payment connections (issue 6)

Revision ID: 0002
Revises: 0001
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import creator_studio.store.db

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Social connections (issue 6, part 1): connected accounts and the real social provider's records.
    op.create_table(
        "connections",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("workspace_id", sa.String(length=64), nullable=False),
        sa.Column("platform", sa.String(length=16), nullable=False),
        sa.Column("handle", sa.String(length=200), nullable=False),
        sa.Column("account_id", sa.String(length=300), nullable=False),
        sa.Column("base_url", sa.String(length=300), nullable=True),
        sa.Column("scopes", sa.JSON(), nullable=False),
        sa.Column("secrets_ciphertext", sa.Text(), nullable=False),
        sa.Column("expires_at", creator_studio.store.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("created_at", creator_studio.store.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", creator_studio.store.db.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("workspace_id", "platform", "handle"),
    )
    op.create_index(op.f("ix_connections_workspace_id"), "connections", ["workspace_id"], unique=False)
    op.create_table(
        "social_posts",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("workspace_id", sa.String(length=64), nullable=False),
        sa.Column("platform", sa.String(length=16), nullable=False),
        sa.Column("account", sa.String(length=200), nullable=False),
        sa.Column("platform_id", sa.String(length=300), nullable=False),
        sa.Column("url", sa.String(length=500), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("topic", sa.String(length=300), nullable=True),
        sa.Column("published_at", creator_studio.store.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("idempotency_key", sa.String(length=128), nullable=False),
        sa.Column("metrics", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("workspace_id", "idempotency_key"),
    )
    op.create_index(op.f("ix_social_posts_workspace_id"), "social_posts", ["workspace_id"], unique=False)
    op.create_index(op.f("ix_social_posts_platform"), "social_posts", ["platform"], unique=False)
    op.create_table(
        "social_comments",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("workspace_id", sa.String(length=64), nullable=False),
        sa.Column("platform", sa.String(length=16), nullable=False),
        sa.Column("account", sa.String(length=200), nullable=False),
        sa.Column("platform_id", sa.String(length=300), nullable=False),
        sa.Column("post_id", sa.String(length=300), nullable=False),
        sa.Column("author_handle", sa.String(length=200), nullable=False),
        sa.Column("author_name", sa.String(length=200), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("created_at", creator_studio.store.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("reply_text", sa.Text(), nullable=True),
        sa.Column("replied_at", creator_studio.store.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("reply_key", sa.String(length=128), nullable=True),
        sa.Column("hidden", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("workspace_id", "platform", "platform_id"),
    )
    op.create_index(op.f("ix_social_comments_workspace_id"), "social_comments", ["workspace_id"], unique=False)
    op.create_index(op.f("ix_social_comments_platform"), "social_comments", ["platform"], unique=False)

    # email and payments (providers) -----------------------------------------------------------------
    op.create_table(
        "email_deliveries",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("workspace_id", sa.String(length=64), nullable=False),
        sa.Column("idempotency_key", sa.String(length=300), nullable=False),
        sa.Column("message_id", sa.String(length=300), nullable=False),
        sa.Column("to_email", sa.String(length=320), nullable=False),
        sa.Column("subject", sa.String(length=300), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("created", creator_studio.store.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated", creator_studio.store.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("sent_at", creator_studio.store.db.UTCDateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("idempotency_key"),
    )
    op.create_index(op.f("ix_email_deliveries_workspace_id"), "email_deliveries", ["workspace_id"], unique=False)
    op.create_index(op.f("ix_email_deliveries_status"), "email_deliveries", ["status"], unique=False)
    op.create_table(
        "email_optin_requests",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("workspace_id", sa.String(length=64), nullable=False),
        sa.Column("email", sa.String(length=320), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("tags", sa.JSON(), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("created", creator_studio.store.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("expires", creator_studio.store.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("confirmed_at", creator_studio.store.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("subscriber_id", sa.String(length=64), nullable=True),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("token_hash"),
    )
    op.create_index(op.f("ix_email_optin_requests_workspace_id"), "email_optin_requests", ["workspace_id"],
                    unique=False)
    op.create_index(op.f("ix_email_optin_requests_email"), "email_optin_requests", ["email"], unique=False)
    # end email and payments (providers)


def downgrade() -> None:
    # email and payments (providers)
    op.drop_index(op.f("ix_email_optin_requests_email"), table_name="email_optin_requests")
    op.drop_index(op.f("ix_email_optin_requests_workspace_id"), table_name="email_optin_requests")
    op.drop_table("email_optin_requests")
    op.drop_index(op.f("ix_email_deliveries_status"), table_name="email_deliveries")
    op.drop_index(op.f("ix_email_deliveries_workspace_id"), table_name="email_deliveries")
    op.drop_table("email_deliveries")
    # end email and payments (providers)
    op.drop_index(op.f("ix_social_comments_platform"), table_name="social_comments")
    op.drop_index(op.f("ix_social_comments_workspace_id"), table_name="social_comments")
    op.drop_table("social_comments")
    op.drop_index(op.f("ix_social_posts_platform"), table_name="social_posts")
    op.drop_index(op.f("ix_social_posts_workspace_id"), table_name="social_posts")
    op.drop_table("social_posts")
    op.drop_index(op.f("ix_connections_workspace_id"), table_name="connections")
    op.drop_table("connections")
