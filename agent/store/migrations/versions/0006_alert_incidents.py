"""alert incidents, alert states and monitor points

Revision ID: 0006
Revises: 0003
Create Date: 2026-12-03
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "alert_incidents",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("alert", sa.String(length=200), nullable=False),
        sa.Column("open_key", sa.String(length=8), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("start_point", sa.String(length=64), nullable=False),
        sa.Column("last_anomaly_point", sa.String(length=64), nullable=False),
        sa.Column("anomalies", sa.Integer(), nullable=False),
        sa.Column("in_range_streak", sa.Integer(), nullable=False),
        sa.Column("worst", sa.JSON(), nullable=False),
        sa.Column("latest", sa.JSON(), nullable=False),
        sa.Column("resolved_point", sa.String(length=64), nullable=True),
        sa.Column("channel", sa.String(length=64), nullable=True),
        sa.Column("message_ts", sa.String(length=64), nullable=True),
        sa.Column("acknowledged_by", sa.String(length=64), nullable=True),
        sa.Column("snoozed_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("resolved_by", sa.String(length=64), nullable=True),
        sa.Column("opened_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("alert", "open_key", name="uq_alert_incidents_alert_open_key"),
    )
    op.create_index("ix_alert_incidents_message", "alert_incidents", ["channel", "message_ts"])
    op.create_table(
        "alert_states",
        sa.Column("alert", sa.String(length=200), nullable=False),
        sa.Column("last_point", sa.String(length=64), nullable=True),
        sa.Column("muted_by", sa.String(length=64), nullable=True),
        sa.Column("muted_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("alert"),
    )
    op.create_table(
        "monitor_points",
        sa.Column("monitor", sa.String(length=200), nullable=False),
        sa.Column("period", sa.String(length=64), nullable=False),
        sa.Column("value", sa.Double(), nullable=False),
        sa.Column("counted_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("monitor", "period"),
    )


def downgrade() -> None:
    op.drop_table("monitor_points")
    op.drop_table("alert_states")
    op.drop_index("ix_alert_incidents_message", table_name="alert_incidents")
    op.drop_table("alert_incidents")
