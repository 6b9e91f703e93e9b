"""The conversation store's tables, as SQLAlchemy 2 typed models."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    DateTime,
    Dialect,
    ForeignKey,
    Index,
    LargeBinary,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from agent.clock import utc_now


class UtcDateTime(TypeDecorator[datetime]):
    """Timezone-aware UTC on every backend; SQLite stores no zone, so one is put back on reading."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is not None and value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        return value.astimezone(UTC) if value is not None else None

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class Base(DeclarativeBase):
    """Base of every stored table."""


class SessionRow(Base):
    """One conversation: a Slack thread, a terminal chat or an alert's thread."""

    __tablename__ = "sessions"
    __table_args__ = (UniqueConstraint("source", "external_key", name="uq_sessions_source_external_key"),)

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    source: Mapped[str] = mapped_column(String(16))
    external_key: Mapped[str | None] = mapped_column(String(255))
    title: Mapped[str | None] = mapped_column(String(200))
    details: Mapped[dict[str, Any]] = mapped_column("metadata", JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utc_now)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utc_now, index=True)


class MessageRow(Base):
    """One message, with the exact content blocks exchanged with the model."""

    __tablename__ = "messages"
    __table_args__ = (UniqueConstraint("session_id", "seq", name="uq_messages_session_seq"),)

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    session_id: Mapped[str] = mapped_column(ForeignKey("sessions.id", ondelete="CASCADE"))
    seq: Mapped[int]
    role: Mapped[str] = mapped_column(String(16))
    content: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    author: Mapped[str | None] = mapped_column(String(64))
    model: Mapped[str | None] = mapped_column(String(64))
    input_tokens: Mapped[int] = mapped_column(default=0)
    output_tokens: Mapped[int] = mapped_column(default=0)
    cache_creation_input_tokens: Mapped[int] = mapped_column(default=0)
    cache_read_input_tokens: Mapped[int] = mapped_column(default=0)
    cost_usd: Mapped[float] = mapped_column(default=0.0)
    stop_reason: Mapped[str | None] = mapped_column(String(32))
    # The inbox message whose answer wrote it (its message key; NULL outside the inbox: terminal, alerts): a
    # take over of that answer deletes exactly these, whatever else the session stored meanwhile (migration 0009).
    turn_key: Mapped[str | None] = mapped_column(String(255))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utc_now)


class ToolRunRow(Base):
    """One tool call, by the model or a direct command, with what it cost."""

    __tablename__ = "tool_runs"
    __table_args__ = (Index("ix_tool_runs_session", "session_id"),)

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    session_id: Mapped[str] = mapped_column(ForeignKey("sessions.id", ondelete="CASCADE"))
    tool_use_id: Mapped[str | None] = mapped_column(String(64))
    tool: Mapped[str] = mapped_column(String(64))
    input: Mapped[dict[str, Any]] = mapped_column(JSON)
    status: Mapped[str] = mapped_column(String(8))
    duration_ms: Mapped[float]
    # 64-bit: a BigQuery scan passes 2**31 bytes at 2.1 GB (migration 0005).
    rows: Mapped[int | None] = mapped_column(BigInteger)
    bytes_scanned: Mapped[int | None] = mapped_column(BigInteger)
    bytes_billed: Mapped[int | None] = mapped_column(BigInteger)
    error: Mapped[str | None] = mapped_column(Text)
    turn_key: Mapped[str | None] = mapped_column(String(255))  # As MessageRow.turn_key.
    created_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utc_now)


class ArtifactRow(Base):
    """A chart PNG or result CSV, kept until it expires."""

    __tablename__ = "artifacts"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    session_id: Mapped[str | None] = mapped_column(ForeignKey("sessions.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(16))
    title: Mapped[str] = mapped_column(String(200))
    filename: Mapped[str] = mapped_column(String(200))
    mime_type: Mapped[str] = mapped_column(String(64))
    data: Mapped[bytes] = mapped_column(LargeBinary)
    size_bytes: Mapped[int] = mapped_column(BigInteger)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utc_now)
    expires_at: Mapped[datetime] = mapped_column(UtcDateTime(), index=True)


class EventClaimRow(Base):
    """A key claimed once: a Slack event or an alert run, handled by exactly one process."""

    __tablename__ = "event_claims"

    key: Mapped[str] = mapped_column(String(255), primary_key=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utc_now, index=True)


class FeedbackRow(Base):
    """A 👍 or 👎 on an answer."""

    __tablename__ = "feedback"

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    session_id: Mapped[str] = mapped_column(ForeignKey("sessions.id", ondelete="CASCADE"))
    message_ref: Mapped[str] = mapped_column(String(64))
    user: Mapped[str] = mapped_column(String(64))
    value: Mapped[str] = mapped_column(String(8))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utc_now)


class ModelProfileRow(Base):
    """One profiling attempt of a dbt model: row count and per-column statistics, or why it failed."""

    __tablename__ = "model_profiles"
    __table_args__ = (Index("ix_model_profiles_unique_id_profiled_at", "unique_id", "profiled_at"),)

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    unique_id: Mapped[str] = mapped_column(String(255))
    relation: Mapped[str] = mapped_column(String(512))
    manifest_checksum: Mapped[str | None] = mapped_column(String(128))
    columns_signature: Mapped[str | None] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(8))
    row_count: Mapped[int | None] = mapped_column(BigInteger)
    columns: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    sampled: Mapped[bool] = mapped_column(default=False)
    sample_percent: Mapped[float | None]
    bytes_scanned: Mapped[int | None] = mapped_column(BigInteger)
    duration_ms: Mapped[float] = mapped_column(default=0.0)
    error: Mapped[str | None] = mapped_column(Text)
    profiled_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utc_now)


class ProfileChangesRow(Base):
    """One row whose token is replaced, in the same transaction, each time a profile is saved: a reader of all
    profiles reads them again only when the token differs (one tiny query instead of every profile). Random,
    not a counter: a store dropped and made again would count the same numbers again."""

    __tablename__ = "profile_changes"

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    token: Mapped[str] = mapped_column(String(32))


class AlertRunRow(Base):
    """One run of an alert at one scheduled time; the unique keys make each run, and each posted point, once."""

    __tablename__ = "alert_runs"
    __table_args__ = (
        # Inserted before the run starts: a second process inserting the same run fails and stands down.
        UniqueConstraint("alert", "scheduled_for", name="uq_alert_runs_alert_scheduled_for"),
        # Set before an anomaly is posted: the same point of the same alert is posted once (NULLs never clash).
        UniqueConstraint("alert", "posted_point", name="uq_alert_runs_alert_posted_point"),
    )

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    alert: Mapped[str] = mapped_column(String(200))
    scheduled_for: Mapped[datetime] = mapped_column(UtcDateTime())
    trigger: Mapped[str] = mapped_column(String(16))
    status: Mapped[str] = mapped_column(String(16))
    posted_point: Mapped[str | None] = mapped_column(String(64))
    posted: Mapped[str | None] = mapped_column(String(16))
    channel: Mapped[str | None] = mapped_column(String(64))
    message_ts: Mapped[str | None] = mapped_column(String(64))
    summary: Mapped[str | None] = mapped_column(Text)
    error: Mapped[str | None] = mapped_column(Text)
    started_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utc_now)
    finished_at: Mapped[datetime | None] = mapped_column(UtcDateTime())


class AlertIncidentRow(Base):
    """One incident of an alert: anomalies close together, told in one Slack message that is kept current."""

    __tablename__ = "alert_incidents"
    __table_args__ = (
        # 'open' while the incident is not resolved, NULL after: one unresolved incident per alert, so a second
        # process that tries to open one for the same alert fails and updates the existing one instead.
        UniqueConstraint("alert", "open_key", name="uq_alert_incidents_alert_open_key"),
        Index("ix_alert_incidents_message", "channel", "message_ts"),
    )

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    alert: Mapped[str] = mapped_column(String(200))
    open_key: Mapped[str | None] = mapped_column(String(8))
    status: Mapped[str] = mapped_column(String(16))
    # Points are the metric's own (naive) period starts, as ISO text.
    start_point: Mapped[str] = mapped_column(String(64))
    last_anomaly_point: Mapped[str] = mapped_column(String(64))
    anomalies: Mapped[int] = mapped_column(default=1)
    in_range_streak: Mapped[int] = mapped_column(default=0)
    worst: Mapped[dict[str, Any]] = mapped_column(JSON)
    latest: Mapped[dict[str, Any]] = mapped_column(JSON)
    resolved_point: Mapped[str | None] = mapped_column(String(64))
    channel: Mapped[str | None] = mapped_column(String(64))
    message_ts: Mapped[str | None] = mapped_column(String(64))
    acknowledged_by: Mapped[str | None] = mapped_column(String(64))
    snoozed_until: Mapped[datetime | None] = mapped_column(UtcDateTime())
    resolved_by: Mapped[str | None] = mapped_column(String(64))
    opened_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utc_now)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utc_now)


class AlertStateRow(Base):
    """Per alert: the newest point already judged (so no point is counted twice) and whether it is muted."""

    __tablename__ = "alert_states"

    alert: Mapped[str] = mapped_column(String(200), primary_key=True)
    last_point: Mapped[str | None] = mapped_column(String(64))
    muted_by: Mapped[str | None] = mapped_column(String(64))
    muted_at: Mapped[datetime | None] = mapped_column(UtcDateTime())


class MonitorPointRow(Base):
    """One counted period of a monitor (rows that day, or the newest row's age at a check), never counted again."""

    __tablename__ = "monitor_points"

    monitor: Mapped[str] = mapped_column(String(200), primary_key=True)
    period: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[float] = mapped_column()
    counted_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utc_now)


class AuditTurnRow(Base):
    """One turn or refused question: who, where, what was asked, what it cost and every policy decision."""

    __tablename__ = "audit_turns"
    __table_args__ = (
        Index("ix_audit_turns_created_at", "created_at"),
        Index("ix_audit_turns_user_created_at", "user_id", "created_at"),
        Index("ix_audit_turns_channel_created_at", "channel_id", "created_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utc_now)
    session_id: Mapped[str | None] = mapped_column(String(64))
    principal_kind: Mapped[str] = mapped_column(String(32))
    user_id: Mapped[str | None] = mapped_column(String(64))
    email: Mapped[str | None] = mapped_column(String(320))
    channel_id: Mapped[str | None] = mapped_column(String(64))
    question: Mapped[str] = mapped_column(Text)
    # answered, failed, refused (at the door, by the policy or a budget).
    outcome: Mapped[str] = mapped_column(String(16))
    detail: Mapped[str | None] = mapped_column(Text)
    input_tokens: Mapped[int] = mapped_column(BigInteger, default=0)
    output_tokens: Mapped[int] = mapped_column(BigInteger, default=0)
    cost_usd: Mapped[float] = mapped_column(default=0.0)
    bytes_scanned: Mapped[int] = mapped_column(BigInteger, default=0)
    rows_returned: Mapped[int] = mapped_column(BigInteger, default=0)
    # [{"tool", "sql", "rows", "bytes", "is_error", "summary"}] and [{"outcome", "subject", "detail"}].
    tools: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    decisions: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)


class InboxRow(Base):
    """A message accepted from a front door, kept until answered: the durable inbox workers take leases on.

    One row per message (`message_key`); a conversation's rows are answered one at a time in `position` order.
    """

    __tablename__ = "inbox"
    __table_args__ = (
        UniqueConstraint("message_key", name="uq_inbox_message_key"),
        Index("ix_inbox_conversation_position", "conversation_key", "position"),
        Index("ix_inbox_status", "status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    message_key: Mapped[str] = mapped_column(String(255))
    conversation_key: Mapped[str] = mapped_column(String(255))
    position: Mapped[str] = mapped_column(String(32))
    kind: Mapped[str] = mapped_column(String(16))
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)
    status: Mapped[str] = mapped_column(String(16))
    lease_owner: Mapped[str | None] = mapped_column(String(128))
    lease_until: Mapped[datetime | None] = mapped_column(UtcDateTime())
    attempts: Mapped[int] = mapped_column(default=0)
    started_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    # The front door's reference to the last reply its answer posted (a Slack message ts), set when done: where
    # the next message's answer begins, should that one be interrupted and taken over.
    reply_ref: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utc_now, index=True)
    finished_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
