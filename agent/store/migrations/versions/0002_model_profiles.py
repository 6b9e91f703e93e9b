"""model profiles

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-25
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "model_profiles",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("unique_id", sa.String(length=255), nullable=False),
        sa.Column("relation", sa.String(length=512), nullable=False),
        sa.Column("manifest_checksum", sa.String(length=128), nullable=True),
        sa.Column("columns_signature", sa.String(length=64), nullable=True),
        sa.Column("status", sa.String(length=8), nullable=False),
        sa.Column("row_count", sa.BigInteger(), nullable=True),
        sa.Column("columns", sa.JSON(), nullable=False),
        sa.Column("sampled", sa.Boolean(), nullable=False),
        sa.Column("sample_percent", sa.Double(), nullable=True),
        sa.Column("bytes_scanned", sa.BigInteger(), nullable=True),
        sa.Column("duration_ms", sa.Double(), nullable=False),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("profiled_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("model_profiles", schema=None) as batch_op:
        batch_op.create_index(
            "ix_model_profiles_unique_id_profiled_at", ["unique_id", "profiled_at"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("model_profiles", schema=None) as batch_op:
        batch_op.drop_index("ix_model_profiles_unique_id_profiled_at")
    op.drop_table("model_profiles")
