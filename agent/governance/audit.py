"""The audit log: one row per turn or refused question, and the sums budgets and `blueprintdata usage` read."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal, cast

import sqlalchemy as sa
from sqlalchemy import Engine, delete, func, select
from sqlalchemy.orm import Session

from agent.clock import utc_now
from agent.redaction import redact, redact_value
from agent.store import fencing
from agent.store.models import AuditTurnRow
from agent.store.recovery import recovering_methods
from agent.store.writing import writing
from tools.policy import Principal

Outcome = Literal["answered", "failed", "refused"]
_RECORD = cast(sa.Table, AuditTurnRow.__table__).insert()


@dataclass
class AuditEntry:
    """What is recorded about one turn."""

    principal: Principal
    question: str
    outcome: Outcome
    session_id: str | None = None
    detail: str | None = None
    input_tokens: int = 0
    output_tokens: int = 0
    cost_usd: float = 0.0
    bytes_scanned: int = 0
    rows_returned: int = 0
    tools: list[dict[str, Any]] = field(default_factory=list)
    decisions: list[dict[str, Any]] = field(default_factory=list)
    created_at: datetime | None = None


@dataclass(frozen=True)
class AuditRecord:
    """One recorded turn as front doors read it."""

    created_at: datetime
    session_id: str | None
    principal_kind: str
    user_id: str | None
    email: str | None
    channel_id: str | None
    question: str
    outcome: str
    detail: str | None
    input_tokens: int
    output_tokens: int
    cost_usd: float
    bytes_scanned: int
    rows_returned: int
    tools: list[dict[str, Any]]
    decisions: list[dict[str, Any]]


_RECORD_FIELDS = tuple(AuditRecord.__dataclass_fields__)


@dataclass(frozen=True)
class Spent:
    """What a user or channel spent since some time: model cost, bytes scanned, questions asked."""

    cost_usd: float
    bytes_scanned: int
    questions: int


@dataclass(frozen=True)
class UsageLine:
    """One user's or channel's totals, for `blueprintdata usage`."""

    who: str
    questions: int
    refused: int
    cost_usd: float
    bytes_scanned: int
    tokens: int


@recovering_methods
class AuditLog:
    """Reads and writes the audit_turns table."""

    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    def record(self, entry: AuditEntry) -> None:
        principal = entry.principal
        values = {
            "created_at": entry.created_at or utc_now(),
            "session_id": entry.session_id,
            "principal_kind": principal.kind,
            "user_id": principal.user_id,
            "email": principal.email,
            "channel_id": principal.channel_id,
            # Like every stored text: no secret is kept, whatever a question, an error or a query quoted.
            "question": redact(entry.question),
            "outcome": entry.outcome,
            "detail": redact(entry.detail) if entry.detail is not None else None,
            "input_tokens": entry.input_tokens,
            "output_tokens": entry.output_tokens,
            "cost_usd": entry.cost_usd,
            "bytes_scanned": entry.bytes_scanned,
            "rows_returned": entry.rows_returned,
            "tools": redact_value(entry.tools),
            "decisions": redact_value(entry.decisions),
        }
        # Core, not the ORM: written on every turn, where the ORM's unit of work costs more than the insert.
        with writing(self._engine) as connection:
            fencing.check(connection)  # A turn taken over is recorded by the take that replaced it.
            connection.execute(_RECORD, values)

    def spent(self, *, since: datetime, user_id: str | None = None, channel_id: str | None = None) -> Spent:
        """Totals of the turns (refused ones cost nothing and are not counted) of one user or one channel."""
        query = select(
            func.coalesce(func.sum(AuditTurnRow.cost_usd), 0.0),
            func.coalesce(func.sum(AuditTurnRow.bytes_scanned), 0),
            func.count(AuditTurnRow.id),
        ).where(AuditTurnRow.created_at >= since, AuditTurnRow.outcome != "refused")
        if user_id is not None:
            query = query.where(AuditTurnRow.user_id == user_id)
        if channel_id is not None:
            query = query.where(AuditTurnRow.channel_id == channel_id)
        with Session(self._engine) as session:
            cost, scanned, questions = session.execute(query).one()
        return Spent(float(cost), int(scanned), int(questions))

    def entries(
        self,
        *,
        since: datetime | None = None,
        user: str | None = None,
        channel: str | None = None,
        limit: int = 1000,
    ) -> list[AuditRecord]:
        """Recorded turns, newest first; `user` matches an id or an email."""
        query = (
            select(AuditTurnRow).order_by(AuditTurnRow.created_at.desc(), AuditTurnRow.id.desc()).limit(limit)
        )
        if since is not None:
            query = query.where(AuditTurnRow.created_at >= since)
        if user is not None:
            query = query.where((AuditTurnRow.user_id == user) | (AuditTurnRow.email == user))
        if channel is not None:
            query = query.where(AuditTurnRow.channel_id == channel)
        with Session(self._engine) as session:
            rows = list(session.scalars(query))
            return [AuditRecord(**{name: getattr(row, name) for name in _RECORD_FIELDS}) for row in rows]

    def usage(self, *, by: Literal["user", "channel"], since: datetime | None = None) -> list[UsageLine]:
        """Totals per user or channel, most expensive first."""
        key = AuditTurnRow.user_id if by == "user" else AuditTurnRow.channel_id
        refused = func.sum((AuditTurnRow.outcome == "refused").cast(AuditTurnRow.input_tokens.type))
        query = select(
            func.coalesce(key, AuditTurnRow.principal_kind),
            func.count(AuditTurnRow.id),
            func.coalesce(refused, 0),
            func.coalesce(func.sum(AuditTurnRow.cost_usd), 0.0),
            func.coalesce(func.sum(AuditTurnRow.bytes_scanned), 0),
            func.coalesce(func.sum(AuditTurnRow.input_tokens + AuditTurnRow.output_tokens), 0),
        ).group_by(func.coalesce(key, AuditTurnRow.principal_kind))
        if since is not None:
            query = query.where(AuditTurnRow.created_at >= since)
        with Session(self._engine) as session:
            rows = session.execute(query).all()
        lines = [UsageLine(str(w), int(q), int(r), float(c), int(b), int(t)) for w, q, r, c, b, t in rows]
        return sorted(lines, key=lambda line: (-line.cost_usd, -line.questions, line.who))

    def prune(self, *, older_than: datetime) -> int:
        """Delete records older than the retention; how many."""
        with Session(self._engine) as session, session.begin():
            result = session.execute(delete(AuditTurnRow).where(AuditTurnRow.created_at < older_than))
        return int(getattr(result, "rowcount", 0) or 0)
