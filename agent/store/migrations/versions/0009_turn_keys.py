"""turn keys: each message and tool run names the inbox message whose answer wrote it

An answer taken over deleted what its session stored since the answer began; a worker paused past its lease
could then delete an earlier answer's question stored after that time. The take over now deletes what the
answer of the same inbox message wrote, by this key. Rows stored before have none (NULL): never taken over.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-04
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

_TABLES = ("messages", "tool_runs")


def upgrade() -> None:
    for table in _TABLES:
        op.add_column(table, sa.Column("turn_key", sa.String(length=255), nullable=True))


def downgrade() -> None:
    for table in _TABLES:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_column("turn_key")
