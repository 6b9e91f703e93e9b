"""audit turns: who asked what, what it cost, every policy decision; budgets are summed from it

Revision ID: 0007
Revises: 0003
Create Date: 2026-12-03
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "audit_turns",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("session_id", sa.String(length=64), nullable=True),
        sa.Column("principal_kind", sa.String(length=32), nullable=False),
        sa.Column("user_id", sa.String(length=64), nullable=True),
        sa.Column("email", sa.String(length=320), nullable=True),
        sa.Column("channel_id", sa.String(length=64), nullable=True),
        sa.Column("question", sa.Text(), nullable=False),
        sa.Column("outcome", sa.String(length=16), nullable=False),
        sa.Column("detail", sa.Text(), nullable=True),
        sa.Column("input_tokens", sa.BigInteger(), nullable=False),
        sa.Column("output_tokens", sa.BigInteger(), nullable=False),
        sa.Column("cost_usd", sa.Double(), nullable=False),
        sa.Column("bytes_scanned", sa.BigInteger(), nullable=False),
        sa.Column("rows_returned", sa.BigInteger(), nullable=False),
        sa.Column("tools", sa.JSON(), nullable=False),
        sa.Column("decisions", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_audit_turns_created_at", "audit_turns", ["created_at"])
    op.create_index("ix_audit_turns_user_created_at", "audit_turns", ["user_id", "created_at"])
    op.create_index("ix_audit_turns_channel_created_at", "audit_turns", ["channel_id", "created_at"])


def downgrade() -> None:
    op.drop_table("audit_turns")
