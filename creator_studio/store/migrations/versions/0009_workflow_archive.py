"""workflows can be archived (soft-deleted) and keep their run history (issue 8)

Revision ID: 0009
Revises: 0008
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from creator_studio.store.db import UTCDateTime

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("automation_workflows") as batch:
        batch.add_column(sa.Column("archived_at", UTCDateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("automation_workflows") as batch:
        batch.drop_column("archived_at")
