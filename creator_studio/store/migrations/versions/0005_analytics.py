"""metrics, experiments, touchpoints (issue 9)

Revision ID: 0005
Revises: 0004
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import creator_studio.store.db

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('analytics_alerts',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('workspace_id', sa.String(length=64), nullable=False),
    sa.Column('metric', sa.String(length=64), nullable=False),
    sa.Column('day', creator_studio.store.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('value', sa.Float(), nullable=False),
    sa.Column('expected', sa.Float(), nullable=False),
    sa.Column('robust_z', sa.Float(), nullable=False),
    sa.Column('raised_at', creator_studio.store.db.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('workspace_id', 'metric', 'day')
    )
    op.create_index(op.f('ix_analytics_alerts_workspace_id'), 'analytics_alerts', ['workspace_id'], unique=False)
    op.create_table('analytics_exchange_rates',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('workspace_id', sa.String(length=64), nullable=False),
    sa.Column('base', sa.String(length=3), nullable=False),
    sa.Column('currency', sa.String(length=3), nullable=False),
    sa.Column('rate', sa.String(length=32), nullable=False),
    sa.Column('as_of', sa.String(length=10), nullable=False),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('workspace_id', 'base', 'currency')
    )
    op.create_index(op.f('ix_analytics_exchange_rates_workspace_id'), 'analytics_exchange_rates', ['workspace_id'], unique=False)
    op.create_table('analytics_experiment_plans',
    sa.Column('test_id', sa.String(length=64), nullable=False),
    sa.Column('workspace_id', sa.String(length=64), nullable=False),
    sa.Column('baseline_rate', sa.Float(), nullable=False),
    sa.Column('minimum_detectable_effect', sa.Float(), nullable=False),
    sa.Column('alpha', sa.Float(), nullable=False),
    sa.Column('power', sa.Float(), nullable=False),
    sa.Column('sample_size_per_variant', sa.Integer(), nullable=False),
    sa.Column('concluded_at', creator_studio.store.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('winner', sa.String(length=200), nullable=True),
    sa.Column('event_id', sa.String(length=64), nullable=True),
    sa.PrimaryKeyConstraint('test_id')
    )
    op.create_index(op.f('ix_analytics_experiment_plans_workspace_id'), 'analytics_experiment_plans', ['workspace_id'], unique=False)
    op.create_table('analytics_metric_points',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('workspace_id', sa.String(length=64), nullable=False),
    sa.Column('event_id', sa.String(length=64), nullable=False),
    sa.Column('metric', sa.String(length=64), nullable=False),
    sa.Column('dimension', sa.String(length=16), nullable=False),
    sa.Column('dimension_value', sa.String(length=128), nullable=False),
    sa.Column('value', sa.Float(), nullable=False),
    sa.Column('occurred_at', creator_studio.store.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('recorded_at', creator_studio.store.db.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('workspace_id', 'event_id', 'metric', 'dimension', 'dimension_value')
    )
    op.create_index(op.f('ix_analytics_metric_points_recorded_at'), 'analytics_metric_points', ['recorded_at'], unique=False)
    op.create_index(op.f('ix_analytics_metric_points_workspace_id'), 'analytics_metric_points', ['workspace_id'], unique=False)
    op.create_table('analytics_metric_rollups',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('workspace_id', sa.String(length=64), nullable=False),
    sa.Column('metric', sa.String(length=64), nullable=False),
    sa.Column('dimension', sa.String(length=16), nullable=False),
    sa.Column('dimension_value', sa.String(length=128), nullable=False),
    sa.Column('day', creator_studio.store.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('value', sa.Float(), nullable=False),
    sa.Column('count', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('workspace_id', 'metric', 'dimension', 'dimension_value', 'day')
    )
    op.create_index(op.f('ix_analytics_metric_rollups_workspace_id'), 'analytics_metric_rollups', ['workspace_id'], unique=False)
    op.create_table('analytics_payment_ledger',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('workspace_id', sa.String(length=64), nullable=False),
    sa.Column('event_id', sa.String(length=64), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('reference', sa.String(length=128), nullable=False),
    sa.Column('product_id', sa.String(length=64), nullable=True),
    sa.Column('amount', sa.Integer(), nullable=False),
    sa.Column('currency', sa.String(length=3), nullable=False),
    sa.Column('occurred_at', creator_studio.store.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('recorded_at', creator_studio.store.db.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('workspace_id', 'event_id')
    )
    op.create_index(op.f('ix_analytics_payment_ledger_workspace_id'), 'analytics_payment_ledger', ['workspace_id'], unique=False)
    op.create_table('analytics_rollup_state',
    sa.Column('workspace_id', sa.String(length=64), nullable=False),
    sa.Column('as_of', creator_studio.store.db.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('workspace_id')
    )


def downgrade() -> None:
    op.drop_table('analytics_rollup_state')
    op.drop_index(op.f('ix_analytics_payment_ledger_workspace_id'), table_name='analytics_payment_ledger')
    op.drop_table('analytics_payment_ledger')
    op.drop_index(op.f('ix_analytics_metric_rollups_workspace_id'), table_name='analytics_metric_rollups')
    op.drop_table('analytics_metric_rollups')
    op.drop_index(op.f('ix_analytics_metric_points_workspace_id'), table_name='analytics_metric_points')
    op.drop_index(op.f('ix_analytics_metric_points_recorded_at'), table_name='analytics_metric_points')
    op.drop_table('analytics_metric_points')
    op.drop_index(op.f('ix_analytics_experiment_plans_workspace_id'), table_name='analytics_experiment_plans')
    op.drop_table('analytics_experiment_plans')
    op.drop_index(op.f('ix_analytics_exchange_rates_workspace_id'), table_name='analytics_exchange_rates')
    op.drop_table('analytics_exchange_rates')
    op.drop_index(op.f('ix_analytics_alerts_workspace_id'), table_name='analytics_alerts')
    op.drop_table('analytics_alerts')
