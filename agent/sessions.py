"""Sessions behind one API: the keys front doors name conversations by, opening and resuming them, claiming
events exactly once, and seeding a conversation with context the model should start from.

Front doors (Slack, the terminal, the alert scheduler) use this and never the store's tables: a new front door
adds a key constructor here and nothing else.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any, Literal

from sqlalchemy import Engine

from agent.store import event_claims
from agent.store.conversations import (
    ConversationStore,
    SessionRecord,
    SessionSource,
    SessionSummary,
    ToolRunRecord,
)

__all__ = ["SessionKey", "SessionRecord", "SessionSummary", "Sessions", "ToolRunRecord"]


@dataclass(frozen=True)
class SessionKey:
    """Which conversation a message belongs to: a front door and its own name for the conversation.

    A key without `external` names no existing conversation: opening it always starts a new one.
    """

    source: SessionSource
    external: str | None = None

    @classmethod
    def slack_thread(cls, team_id: str, channel: str, thread_ts: str) -> SessionKey:
        """One Slack thread is one conversation, whoever started it (a person, or an alert's post)."""
        return cls("slack", f"{team_id}:{channel}:{thread_ts}")

    @classmethod
    def new_terminal(cls) -> SessionKey:
        """A new terminal conversation (the terminal resumes by session id, not by a name of its own)."""
        return cls("cli")


@dataclass(frozen=True)
class SeedContext:
    """What a conversation starts from before anyone asks: who speaks, and the context the model keeps."""

    author: str
    opening: str
    context: str


class Sessions:
    """Opens, resumes and seeds sessions, and claims events once across every process sharing the store."""

    def __init__(self, store: ConversationStore, engine: Engine) -> None:
        self._store = store
        self._engine = engine

    def find(self, key: SessionKey) -> SessionRecord | None:
        """The session a key names, if it was opened before."""
        if key.external is None:
            return None
        return self._store.find_session(key.source, key.external)

    def open(
        self, key: SessionKey, *, title: str | None = None, metadata: dict[str, Any] | None = None
    ) -> SessionRecord:
        """The session for `key`, created when new; two processes opening one key get the same session."""
        return self._store.open_session(
            source=key.source, external_key=key.external, title=title, metadata=metadata
        )

    def get(self, session_id: str) -> SessionRecord | None:
        """A session by id, or by a unique id prefix of at least 6 characters."""
        return self._store.get_session(session_id)

    def latest(self, source: SessionSource) -> SessionRecord | None:
        """The most recently active session of one front door."""
        return self._store.latest_session(source)

    def recent(self, *, limit: int = 20) -> list[SessionSummary]:
        """Sessions, most recently active first, with message counts and cost."""
        return self._store.list_sessions(limit=limit)

    def seed(
        self, key: SessionKey, seed: SeedContext, *, title: str, metadata: dict[str, Any]
    ) -> SessionRecord:
        """Open the session for `key` with `seed` as its first exchange, so later questions have that context."""
        session = self.open(key, title=title[:200], metadata=metadata)
        # The model's history must open with a user turn: the seeding front door speaks first, as itself.
        self._store.append_message(
            session.id, role="user", content=[{"type": "text", "text": seed.opening}], author=seed.author
        )
        self._store.append_message(
            session.id, role="assistant", content=[{"type": "text", "text": seed.context}]
        )
        return session

    def tool_runs(self, session_id: str) -> list[ToolRunRecord]:
        """The tool runs of a session, in order (for "Show SQL")."""
        return self._store.tool_runs(session_id)

    def record_feedback(
        self, *, session_id: str, message_ref: str, user: str, value: Literal["up", "down"]
    ) -> bool:
        """Store a vote on an answer; False when the session is unknown (nothing is stored then)."""
        if self._store.get_session(session_id) is None:
            return False
        self._store.record_feedback(session_id=session_id, message_ref=message_ref, user=user, value=value)
        return True

    def claim(self, event_key: str, *, unfinished_after: timedelta | None = None) -> bool:
        """True for the first claim of an event by any process (see `event_claims.claim_event`)."""
        return event_claims.claim_event(self._engine, event_key, unfinished_after=unfinished_after)

    def finish_claim(self, event_key: str) -> None:
        """Mark a claimed event handled: every later redelivery of it is refused."""
        event_claims.finish_claim(self._engine, event_key)

    def forget_claims_older_than(self, age: timedelta) -> int:
        """Delete claims older than any redelivery; returns how many."""
        return event_claims.forget_claims_older_than(self._engine, age)
