"""Audience Hub inbox: direct messages and email replies (creator_studio/engagement/inbox.py)

Revision ID: 0011
Revises: 0010
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import creator_studio.store.db

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('engagement_inbox_messages',
    sa.Column('id', sa.String(length=64), nullable=False),
    sa.Column('workspace_id', sa.String(length=64), nullable=False),
    sa.Column('channel', sa.String(length=16), nullable=False),
    sa.Column('platform', sa.String(length=16), nullable=False),
    sa.Column('external_id', sa.String(length=255), nullable=False),
    sa.Column('author_handle', sa.String(length=320), nullable=False),
    sa.Column('author_name', sa.String(length=200), nullable=False),
    sa.Column('subject', sa.String(length=300), nullable=True),
    sa.Column('text', sa.Text(), nullable=False),
    sa.Column('in_reply_to', sa.String(length=255), nullable=True),
    sa.Column('received_at', creator_studio.store.db.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('workspace_id', 'channel', 'external_id')
    )
    op.create_index(op.f('ix_engagement_inbox_messages_workspace_id'), 'engagement_inbox_messages',
                    ['workspace_id'], unique=False)
    op.create_index(op.f('ix_engagement_inbox_messages_received_at'), 'engagement_inbox_messages',
                    ['received_at'], unique=False)


def downgrade() -> None:
    op.drop_index(op.f('ix_engagement_inbox_messages_received_at'), table_name='engagement_inbox_messages')
    op.drop_index(op.f('ix_engagement_inbox_messages_workspace_id'), table_name='engagement_inbox_messages')
    op.drop_table('engagement_inbox_messages')
