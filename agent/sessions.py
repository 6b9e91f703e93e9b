"""Sessions behind one API: the keys front doors name conversations by, opening and resuming them, claiming
events exactly once, seeding a conversation with context the model should start from, and the inbox of
messages waiting to be answered.

Front doors (Slack, the terminal, the alert scheduler) use this and never the store's tables: a new front door
adds a key constructor here and nothing else.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Literal

from sqlalchemy import Engine

from agent.store import event_claims, inbox, unfinished_turns
from agent.store.conversations import (
    ConversationStore,
    SessionRecord,
    SessionSource,
    SessionSummary,
    ToolRunRecord,
)
from agent.store.fencing import LeaseLost
from agent.store.inbox import Held, InboxEntry, InboxItem, InboxKind

__all__ = [
    "Held",
    "Inbox",
    "InboxEntry",
    "InboxItem",
    "InboxKind",
    "LeaseLost",
    "SessionKey",
    "SessionRecord",
    "SessionSummary",
    "Sessions",
    "ToolRunRecord",
]


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

    @property
    def conversation_key(self) -> str:
        """The key as one string, naming the conversation in the inbox."""
        return f"{self.source}:{self.external}"

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

    def discard_turn(self, session_id: str, turn: str) -> int:
        """Forget what the interrupted takes of an inbox item (`InboxItem.turn`) stored, before it is answered
        again; returns how many messages."""
        return unfinished_turns.discard_turn(self._engine, session_id, turn)

    def inbox(self, *, owner: str, lease: timedelta) -> Inbox:
        """The inbox as seen by one process (`owner`, unique among live processes) taking leases of `lease`."""
        return Inbox(self._engine, owner=owner, lease=lease)


class Inbox:
    """Messages stored on arrival and answered once, in order within their conversation, by any process.

    See agent/store/inbox.py for a message's life; every lease taken here is `owner`'s.
    """

    def __init__(self, engine: Engine, *, owner: str, lease: timedelta) -> None:
        self._engine = engine
        self.owner = owner
        self.lease = lease

    def receive(self, entries: Sequence[InboxEntry]) -> None:
        """Store arriving messages (in one transaction) before they are acknowledged."""
        inbox.receive(self._engine, entries, owner=self.owner, lease=self.lease)

    def hold(self, entry: InboxEntry) -> Held | None:
        """Store a message as received, leased to this process, to work on it before it is a question: "new",
        "again" (stored before and held by this process: replayed), None when it is not this process's to do."""
        return inbox.hold(self._engine, entry, owner=self.owner, lease=self.lease)

    def place(self, entry: InboxEntry) -> bool:
        """Move a received message this process holds to `entry`'s conversation and position; False when no
        longer held."""
        return inbox.place(self._engine, entry, owner=self.owner)

    def accept(self, entry: InboxEntry) -> bool:
        """Make a message a question to answer; False for one accepted before (a redelivery)."""
        return inbox.accept(self._engine, entry)

    def accept_and_take(self, entry: InboxEntry) -> InboxItem | bool:
        """Accept a message and lease it to this process when it may be answered at once (the item), else
        return as `accept` does."""
        return inbox.accept_and_take(self._engine, entry, owner=self.owner, lease=self.lease)

    def drop(self, message_key: str, *, only_if_mine: bool = False) -> bool:
        """A received message is not for us (with `only_if_mine`, only while this process holds it)."""
        return inbox.drop(self._engine, message_key, owner=self.owner if only_if_mine else None)

    def defer(self, message_key: str, *, seconds: float) -> bool:
        """Have a received message looked at again after `seconds`, by any process; False if not stored."""
        return inbox.defer(self._engine, message_key, seconds=seconds)

    def take(self) -> InboxItem | None:
        """Lease the next message that may be worked on now, if any."""
        return inbox.take(self._engine, owner=self.owner, lease=self.lease)

    def renew(self, items: Sequence[InboxItem]) -> set[tuple[int, int]]:
        """Extend the leases of the items still being worked on; the lease keys (`InboxItem.lease_key`) of
        those still held."""
        return inbox.renew(
            self._engine, [item.lease_key for item in items], owner=self.owner, lease=self.lease
        )

    def finish(self, item: InboxItem, *, reply_ref: str | None = None) -> bool:
        """Mark an item done, with the last reply its answer posted; False when this take of it had been
        replaced by another (the lease ran out and the item was taken over)."""
        return inbox.finish(self._engine, item, owner=self.owner, reply_ref=reply_ref)

    def holds(self, item: InboxItem) -> bool:
        """Whether this take of the item is still ours (True also holds for everything done before asking)."""
        return inbox.holds(self._engine, item.lease_key, owner=self.owner)

    def fenced(self, item: InboxItem, *, on_lost: Callable[[], object]) -> AbstractContextManager[None]:
        """Within it, this thread's writes of the turn (history, tool runs, audit) are refused with LeaseLost,
        after `on_lost()`, once this take of `item` has been replaced: checked in each write's transaction."""
        return inbox.fenced_writes(
            self._engine, item.lease_key, owner=self.owner, on_lost=on_lost, turn=item.turn
        )

    def last_reply_before(self, key: SessionKey, *, before: str) -> str | None:
        """The last reply posted for the answered messages of a conversation before position `before`."""
        return inbox.last_reply_before(self._engine, key.conversation_key, before=before)

    def release(self, item: InboxItem) -> None:
        """Give an unfinished item back for any process to take at once."""
        inbox.release(self._engine, item.lease_key, owner=self.owner)

    def conversation_is_ours(self, key: SessionKey, *, before: str) -> bool:
        """Whether the bot was asked in this conversation before position `before`, from its stored messages."""
        if key.external is None:
            return False
        return inbox.conversation_is_ours(self._engine, key.conversation_key, before=before)

    def depth(self) -> tuple[int, datetime | None]:
        """How many messages are unfinished, and when the oldest arrived."""
        return inbox.depth(self._engine)

    def forget_finished_older_than(self, age: timedelta) -> int:
        """Delete answered and dropped messages older than `age`; returns how many."""
        return inbox.forget_finished_older_than(self._engine, age)
