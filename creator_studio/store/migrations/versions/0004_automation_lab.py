"""workflow runs, jobs, schedules (issue 7)

Revision ID: 0004
Revises: 0003
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import creator_studio.store.db

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('automation_job_effects',
    sa.Column('job_id', sa.String(length=64), nullable=False),
    sa.Column('workspace_id', sa.String(length=64), nullable=False),
    sa.Column('kind', sa.String(length=32), nullable=False),
    sa.Column('worker', sa.String(length=120), nullable=False),
    sa.Column('due_at', creator_studio.store.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('ran_at', creator_studio.store.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('lateness_ms', sa.Float(), nullable=False),
    sa.Column('result', sa.JSON(), nullable=True),
    sa.PrimaryKeyConstraint('job_id')
    )
    op.create_index(op.f('ix_automation_job_effects_workspace_id'), 'automation_job_effects', ['workspace_id'],
                    unique=False)
    op.create_table('automation_jobs',
    sa.Column('id', sa.String(length=64), nullable=False),
    sa.Column('workspace_id', sa.String(length=64), nullable=False),
    sa.Column('kind', sa.String(length=32), nullable=False),
    sa.Column('key', sa.String(length=200), nullable=False),
    sa.Column('payload', sa.JSON(), nullable=False),
    sa.Column('due_at', creator_studio.store.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('lease_owner', sa.String(length=120), nullable=True),
    sa.Column('lease_token', sa.String(length=64), nullable=True),
    sa.Column('lease_until', creator_studio.store.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('started_at', creator_studio.store.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('finished_at', creator_studio.store.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('error', sa.Text(), nullable=True),
    sa.Column('created_at', creator_studio.store.db.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('key')
    )
    op.create_index('ix_automation_jobs_claim', 'automation_jobs', ['status', 'due_at'], unique=False)
    op.create_index(op.f('ix_automation_jobs_workspace_id'), 'automation_jobs', ['workspace_id'], unique=False)
    op.create_table('automation_metric_samples',
    sa.Column('id', sa.String(length=64), nullable=False),
    sa.Column('workspace_id', sa.String(length=64), nullable=False),
    sa.Column('metric', sa.String(length=40), nullable=False),
    sa.Column('value', sa.Float(), nullable=False),
    sa.Column('measured_at', creator_studio.store.db.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_index(op.f('ix_automation_metric_samples_measured_at'), 'automation_metric_samples', ['measured_at'],
                    unique=False)
    op.create_index(op.f('ix_automation_metric_samples_workspace_id'), 'automation_metric_samples', ['workspace_id'],
                    unique=False)
    op.create_table('automation_workflow_versions',
    sa.Column('workflow_id', sa.String(length=64), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('definition', sa.JSON(), nullable=False),
    sa.Column('created_at', creator_studio.store.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['workflow_id'], ['automation_workflows.id'], ),
    sa.PrimaryKeyConstraint('workflow_id', 'version')
    )
    op.create_table('automation_step_runs',
    sa.Column('id', sa.String(length=64), nullable=False),
    sa.Column('run_id', sa.String(length=64), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('step_type', sa.String(length=16), nullable=False),
    sa.Column('label', sa.String(length=300), nullable=False),
    sa.Column('attempt', sa.Integer(), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('output', sa.JSON(), nullable=True),
    sa.Column('error', sa.Text(), nullable=True),
    sa.Column('started_at', creator_studio.store.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('finished_at', creator_studio.store.db.UTCDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['run_id'], ['automation_workflow_runs.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_index(op.f('ix_automation_step_runs_run_id'), 'automation_step_runs', ['run_id'], unique=False)
    op.add_column('automation_workflow_runs', sa.Column('context', sa.JSON(), nullable=True))
    op.add_column('automation_workflow_runs', sa.Column('cursor', sa.Integer(), nullable=False, server_default='0'))
    op.add_column('automation_workflows', sa.Column('trigger_state', sa.JSON(), nullable=True))


def downgrade() -> None:
    op.drop_column('automation_workflows', 'trigger_state')
    op.drop_column('automation_workflow_runs', 'cursor')
    op.drop_column('automation_workflow_runs', 'context')
    op.drop_index(op.f('ix_automation_step_runs_run_id'), table_name='automation_step_runs')
    op.drop_table('automation_step_runs')
    op.drop_table('automation_workflow_versions')
    op.drop_index(op.f('ix_automation_metric_samples_workspace_id'), table_name='automation_metric_samples')
    op.drop_index(op.f('ix_automation_metric_samples_measured_at'), table_name='automation_metric_samples')
    op.drop_table('automation_metric_samples')
    op.drop_index(op.f('ix_automation_jobs_workspace_id'), table_name='automation_jobs')
    op.drop_index('ix_automation_jobs_claim', table_name='automation_jobs')
    op.drop_table('automation_jobs')
    op.drop_index(op.f('ix_automation_job_effects_workspace_id'), table_name='automation_job_effects')
    op.drop_table('automation_job_effects')
