"""posts and scheduled posts carry their media attachments (issue 10)

Revision ID: 0008
Revises: 0007
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_TABLES = {"sandbox_social_posts": "media", "social_posts": "media", "content_scheduled_posts": "media_ids"}


def upgrade() -> None:
    for table, column in _TABLES.items():
        with op.batch_alter_table(table) as batch:
            batch.add_column(sa.Column(column, sa.JSON(), server_default="[]", nullable=False))


def downgrade() -> None:
    for table, column in _TABLES.items():
        with op.batch_alter_table(table) as batch:
            batch.drop_column(column)
