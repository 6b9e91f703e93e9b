"""64-bit byte and row counters

A BigQuery query scanning more than 2.1 GB overflowed the 32-bit tool_runs.bytes_scanned on PostgreSQL, after it
had run and been billed. Row counts and artifact sizes get the same width.

Revision ID: 0005
Revises: 0003
Create Date: 2026-12-03
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

_COUNTERS = {
    "tool_runs": (("rows", True), ("bytes_scanned", True), ("bytes_billed", True)),
    "artifacts": (("size_bytes", False),),
}


def upgrade() -> None:
    for table, columns in _COUNTERS.items():
        with op.batch_alter_table(table, schema=None) as batch_op:
            for column, nullable in columns:
                batch_op.alter_column(
                    column, existing_type=sa.Integer(), type_=sa.BigInteger(), existing_nullable=nullable
                )


def downgrade() -> None:
    for table, columns in _COUNTERS.items():
        with op.batch_alter_table(table, schema=None) as batch_op:
            for column, nullable in columns:
                batch_op.alter_column(
                    column, existing_type=sa.BigInteger(), type_=sa.Integer(), existing_nullable=nullable
                )
