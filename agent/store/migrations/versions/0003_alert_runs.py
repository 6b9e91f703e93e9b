"""alert runs

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-25
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "alert_runs",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("alert", sa.String(length=200), nullable=False),
        sa.Column("scheduled_for", sa.DateTime(timezone=True), nullable=False),
        sa.Column("trigger", sa.String(length=16), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("posted_point", sa.String(length=64), nullable=True),
        sa.Column("posted", sa.String(length=16), nullable=True),
        sa.Column("channel", sa.String(length=64), nullable=True),
        sa.Column("message_ts", sa.String(length=64), nullable=True),
        sa.Column("summary", sa.Text(), nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("alert", "scheduled_for", name="uq_alert_runs_alert_scheduled_for"),
        sa.UniqueConstraint("alert", "posted_point", name="uq_alert_runs_alert_posted_point"),
    )


def downgrade() -> None:
    op.drop_table("alert_runs")
