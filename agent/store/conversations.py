"""Sessions and their messages, tool runs and feedback: the conversation history every front door shares."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal, TypeVar, cast

import sqlalchemy as sa
from sqlalchemy import Engine
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import sessionmaker

from agent import user_messages
from agent.clock import utc_now
from agent.errors import StoreError
from agent.redaction import map_strings, redact
from agent.store import fencing
from agent.store.models import FeedbackRow, MessageRow, SessionRow, ToolRunRow
from agent.store.recovery import recovering_methods
from agent.store.writing import writing
from agent.unicode_text import valid_unicode
from agent.usage import Usage

T = TypeVar("T")
SessionSource = Literal["cli", "slack", "alert"]
Role = Literal["user", "assistant"]

# The hot paths (messages and tool runs written and read on every turn) use Core on these tables: the ORM's
# unit of work costs more than the SQLite statements themselves there.
_SESSIONS = cast(sa.Table, SessionRow.__table__)
_MESSAGES = cast(sa.Table, MessageRow.__table__)
_TOOL_RUNS = cast(sa.Table, ToolRunRow.__table__)
# Built once: constructing a statement costs more than SQLite running it. Parameters are bound by name.
_HISTORY = (
    sa.select(_MESSAGES).where(_MESSAGES.c.session_id == sa.bindparam("session")).order_by(_MESSAGES.c.seq)
)
# The next position is computed by the INSERT itself (the unique index makes max() a lookup): one statement
# rather than a SELECT and an INSERT. Writers of one session queue on its row (see append_message); should two
# still compute the same position, the unique constraint refuses the second, which retries.
_APPEND = (
    _MESSAGES.insert()
    .values(
        seq=sa.select(sa.func.coalesce(sa.func.max(_MESSAGES.c.seq), 0) + 1)
        .where(_MESSAGES.c.session_id == sa.bindparam("session"))
        .scalar_subquery()
    )
    .returning(_MESSAGES.c.id, _MESSAGES.c.seq)
)
# Every message marks its session active; the first names it, unless it has a title.
_TOUCH = (
    sa.update(_SESSIONS)
    .where(_SESSIONS.c.id == sa.bindparam("session"))
    .values(
        updated_at=sa.bindparam("updated_at"),
        title=sa.func.coalesce(_SESSIONS.c.title, sa.bindparam("title", type_=sa.String())),
    )
)
_RECORD_TOOL_RUN = _TOOL_RUNS.insert().returning(_TOOL_RUNS.c.id)
# Every Slack answer finds its thread's session, and opens it the first time.
_FIND_SESSION = sa.select(_SESSIONS).where(
    _SESSIONS.c.source == sa.bindparam("source"), _SESSIONS.c.external_key == sa.bindparam("external_key")
)
_OPEN_SESSION = _SESSIONS.insert()


@dataclass(frozen=True)
class SessionRecord:
    """A stored session."""

    id: str
    source: str
    external_key: str | None
    title: str | None
    metadata: dict[str, Any]
    created_at: datetime
    updated_at: datetime


@dataclass(frozen=True)
class SessionSummary:
    """A session with its size and cost, for listings."""

    record: SessionRecord
    message_count: int
    last_activity: datetime
    total_cost_usd: float


@dataclass(frozen=True)
class StoredMessage:
    """A stored message; `content` is the block list as exchanged with the model."""

    id: int
    session_id: str
    seq: int
    role: str
    content: list[dict[str, Any]]
    author: str | None
    model: str | None
    stop_reason: str | None
    created_at: datetime
    usage: Usage = field(default_factory=Usage)


@dataclass(frozen=True)
class ToolRunRecord:
    """A stored tool run."""

    id: int
    session_id: str
    tool_use_id: str | None
    tool: str
    input: dict[str, Any]
    is_error: bool
    duration_ms: float
    rows: int | None
    bytes_scanned: int | None
    error: str | None


@recovering_methods
class ConversationStore:
    """Reads and writes sessions; safe to share between threads and processes.

    What it stores has its secrets masked and invalid UTF-8 replaced (see `storable`); while the database is
    away every call raises StoreError, and it recovers by itself (see recovery.py).
    """

    def __init__(self, engine: Engine) -> None:
        self._engine = engine
        self._sessions = sessionmaker(engine, expire_on_commit=False)

    def open_session(
        self,
        *,
        source: SessionSource,
        external_key: str | None = None,
        title: str | None = None,
        metadata: dict[str, Any] | None = None,
    ) -> SessionRecord:
        """The session for (source, external_key), created if new; a None key always makes a new one.

        Created first and looked up only when the key is taken: callers open a session they did not find.
        """
        now = utc_now()
        record = SessionRecord(
            uuid.uuid4().hex, source, external_key, storable(title), storable(metadata or {}), now, now
        )
        try:
            with writing(self._engine) as connection:
                connection.execute(
                    _OPEN_SESSION,
                    {
                        "id": record.id,
                        "source": source,
                        "external_key": external_key,
                        "title": record.title,
                        "metadata": record.metadata,
                        "created_at": now,
                        "updated_at": now,
                    },
                )
        except IntegrityError:
            # Opened before, or by another process a moment ago: use that session.
            assert external_key is not None
            found = self.find_session(source, external_key)
            if found is None:
                raise
            return found
        return record

    def get_session(self, session_id: str) -> SessionRecord | None:
        """A session by id, or by a unique id prefix of at least 6 characters."""
        with self._sessions() as db:
            row = db.get(SessionRow, session_id)
            if row is None and len(session_id) >= 6:
                matches = db.scalars(
                    sa.select(SessionRow)
                    .where(SessionRow.id.startswith(session_id, autoescape=True))
                    .limit(2)
                ).all()
                row = matches[0] if len(matches) == 1 else None
            return _session_record(row) if row else None

    def find_session(self, source: SessionSource, external_key: str) -> SessionRecord | None:
        with self._engine.connect() as connection:
            row = connection.execute(_FIND_SESSION, {"source": source, "external_key": external_key}).first()
            return _session_record(row) if row is not None else None

    def latest_session(self, source: SessionSource | None = None) -> SessionRecord | None:
        with self._sessions() as db:
            query = sa.select(SessionRow).order_by(SessionRow.updated_at.desc()).limit(1)
            if source:
                query = query.where(SessionRow.source == source)
            row = db.scalar(query)
            return _session_record(row) if row else None

    def list_sessions(self, *, limit: int = 20, source: SessionSource | None = None) -> list[SessionSummary]:
        """Sessions, most recently active first, with message counts and cost."""
        counts = (
            sa.select(
                MessageRow.session_id,
                sa.func.count(MessageRow.id).label("messages"),
                sa.func.coalesce(sa.func.sum(MessageRow.cost_usd), 0.0).label("cost"),
            )
            .group_by(MessageRow.session_id)
            .subquery()
        )
        query = (
            sa.select(SessionRow, counts.c.messages, counts.c.cost)
            .outerjoin(counts, counts.c.session_id == SessionRow.id)
            .order_by(SessionRow.updated_at.desc())
            .limit(limit)
        )
        if source:
            query = query.where(SessionRow.source == source)
        with self._sessions() as db:
            return [
                SessionSummary(_session_record(row), messages or 0, row.updated_at, float(cost or 0.0))
                for row, messages, cost in db.execute(query).all()
            ]

    def set_title(self, session_id: str, title: str, *, only_if_untitled: bool = False) -> None:
        """Name the session; with only_if_untitled, a title it already has is kept (one statement, no read)."""
        title = storable(title)
        update = sa.update(_SESSIONS).where(_SESSIONS.c.id == session_id)
        if only_if_untitled:
            update = update.where(_SESSIONS.c.title.is_(None))
        with writing(self._engine) as connection:
            connection.execute(update.values(title=title[:200]))

    def history(self, session_id: str) -> list[StoredMessage]:
        """Every message of a session, in order."""
        with self._engine.connect() as connection:
            return [_message(row) for row in connection.execute(_HISTORY, {"session": session_id})]

    def append_message(
        self,
        session_id: str,
        *,
        role: Role,
        content: list[dict[str, Any]],
        author: str | None = None,
        model: str | None = None,
        usage: Usage | None = None,
        stop_reason: str | None = None,
        session_title: str | None = None,
    ) -> StoredMessage:
        """Add a message at the end of the session; concurrent writers retry on a taken position.

        `session_title` also names the session, unless it already has a title, in the same transaction.
        """
        usage = usage or Usage()
        content = storable(content)
        author = storable(author)
        session_title = storable(session_title)
        values: dict[str, Any] = {
            "session_id": session_id,
            "session": session_id,
            "role": role,
            "content": content,
            "author": author,
            "model": model,
            "input_tokens": usage.input_tokens,
            "output_tokens": usage.output_tokens,
            "cache_creation_input_tokens": usage.cache_creation_input_tokens,
            "cache_read_input_tokens": usage.cache_read_input_tokens,
            "cost_usd": usage.cost_usd,
            "stop_reason": stop_reason,
        }
        touch = {"session": session_id, "title": session_title[:200] if session_title is not None else None}
        for _attempt in range(20):
            now = utc_now()
            try:
                with writing(self._engine) as connection:
                    # A successor cleans up the history: a stale take may not add. The fence names the turn.
                    turn_key = fencing.turn_of(fencing.check(connection))
                    # The session's row first: its lock queues a concurrent writer of this session (PostgreSQL)
                    # until this one commits, and the INSERT that writer runs next then counts this message. Four
                    # writers of one session otherwise collided so often that one could lose 20 times in a row.
                    connection.execute(_TOUCH, {**touch, "updated_at": now})
                    message_id, seq = connection.execute(
                        _APPEND, {**values, "turn_key": turn_key, "created_at": now}
                    ).one()
            except IntegrityError:
                if _attempt == 0 and self._session_is_gone(session_id):
                    raise StoreError(user_messages.SESSION_GONE) from None
                continue
            return StoredMessage(
                id=message_id,
                session_id=session_id,
                seq=seq,
                role=role,
                content=list(content),
                author=author,
                model=model,
                stop_reason=stop_reason,
                created_at=now,
                usage=usage,
            )
        raise RuntimeError(f"could not append to session {session_id}: too many concurrent writers")

    def _session_is_gone(self, session_id: str) -> bool:
        """True when the session's row is missing, as after the store's database was re-created empty."""
        with self._engine.connect() as connection:
            found = connection.execute(sa.select(_SESSIONS.c.id).where(_SESSIONS.c.id == session_id)).first()
        return found is None

    def record_tool_run(
        self,
        session_id: str,
        *,
        tool_use_id: str | None,
        tool: str,
        input: dict[str, Any],
        is_error: bool,
        duration_ms: float,
        rows: int | None = None,
        bytes_scanned: int | None = None,
        bytes_billed: int | None = None,
        error: str | None = None,
    ) -> int:
        values = {
            "session_id": session_id,
            "tool_use_id": tool_use_id,
            "tool": tool,
            "input": storable(input),
            "status": "error" if is_error else "ok",
            "duration_ms": duration_ms,
            "rows": rows,
            "bytes_scanned": bytes_scanned,
            "bytes_billed": bytes_billed,
            "error": storable(error),
            "created_at": utc_now(),
        }
        try:
            with writing(self._engine) as connection:
                turn_key = fencing.turn_of(fencing.check(connection))
                return int(
                    connection.execute(_RECORD_TOOL_RUN, {**values, "turn_key": turn_key}).scalar_one()
                )
        except IntegrityError:
            if self._session_is_gone(session_id):
                raise StoreError(user_messages.SESSION_GONE) from None
            raise

    def tool_runs(self, session_id: str) -> list[ToolRunRecord]:
        with self._sessions() as db:
            rows = db.scalars(
                sa.select(ToolRunRow).where(ToolRunRow.session_id == session_id).order_by(ToolRunRow.id)
            ).all()
            return [
                ToolRunRecord(
                    r.id,
                    r.session_id,
                    r.tool_use_id,
                    r.tool,
                    r.input,
                    r.status == "error",
                    r.duration_ms,
                    r.rows,
                    r.bytes_scanned,
                    r.error,
                )
                for r in rows
            ]

    def record_feedback(
        self, *, session_id: str, message_ref: str, user: str, value: Literal["up", "down"]
    ) -> None:
        with self._sessions.begin() as db:
            db.add(FeedbackRow(session_id=session_id, message_ref=message_ref, user=user, value=value))


def storable(value: T) -> T:
    """`value` as the store keeps it: every string in it with secrets masked and invalid UTF-8 replaced."""
    return map_strings(value, lambda text: redact(valid_unicode(text)))


def _session_record(row: SessionRow | sa.Row[Any]) -> SessionRecord:
    """From an ORM row or a Core one (whose metadata column is named as in the table)."""
    details = row.details if isinstance(row, SessionRow) else row.metadata
    return SessionRecord(
        row.id,
        row.source,
        row.external_key,
        row.title,
        dict(details or {}),
        row.created_at,
        row.updated_at,
    )


def _message(row: sa.Row[Any]) -> StoredMessage:
    return StoredMessage(
        id=row.id,
        session_id=row.session_id,
        seq=row.seq,
        role=row.role,
        content=list(row.content),
        author=row.author,
        model=row.model,
        stop_reason=row.stop_reason,
        created_at=row.created_at,
        usage=Usage(
            input_tokens=row.input_tokens,
            output_tokens=row.output_tokens,
            cache_creation_input_tokens=row.cache_creation_input_tokens,
            cache_read_input_tokens=row.cache_read_input_tokens,
            cost_usd=row.cost_usd,
        ),
    )
