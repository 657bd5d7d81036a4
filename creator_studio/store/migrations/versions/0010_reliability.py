"""reliability and security additions (issue 13)

Revision ID: 0010
Revises: 0009
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import creator_studio.store.db

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Inbound webhook replay protection shared by every API process (providers/payments/seen_events.py).
    op.create_table('received_webhook_events',
    sa.Column('source', sa.String(length=40), nullable=False),
    sa.Column('event_id', sa.String(length=255), nullable=False),
    sa.Column('received_at', creator_studio.store.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('completed_at', creator_studio.store.db.UTCDateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('source', 'event_id')
    )
    op.create_index(op.f('ix_received_webhook_events_received_at'), 'received_webhook_events', ['received_at'],
                    unique=False)
    # Outbound webhook secrets encrypted at rest. Migrations have no access to the encryption key, so existing
    # plaintext secrets stay in `secret` (now nullable) until the webhook service encrypts them into
    # `secret_ciphertext` and clears `secret`, the first time it runs with the key.
    with op.batch_alter_table('webhook_subscriptions', schema=None) as batch_op:
        batch_op.add_column(sa.Column('secret_ciphertext', sa.Text(), nullable=True))
        batch_op.alter_column('secret', existing_type=sa.String(length=200), nullable=True)


def downgrade() -> None:
    # 0009 keeps secrets in plaintext and cannot read encrypted ones: those subscriptions are deactivated with an
    # empty secret (re-create them after downgrading) rather than signed with a wrong one.
    subscriptions = sa.table('webhook_subscriptions', sa.column('secret', sa.String()),
                             sa.column('active', sa.Boolean()))
    op.execute(subscriptions.update().where(subscriptions.c.secret.is_(None)).values(secret='', active=False))
    with op.batch_alter_table('webhook_subscriptions', schema=None) as batch_op:
        batch_op.alter_column('secret', existing_type=sa.String(length=200), nullable=False)
        batch_op.drop_column('secret_ciphertext')
    op.drop_index(op.f('ix_received_webhook_events_received_at'), table_name='received_webhook_events')
    op.drop_table('received_webhook_events')
