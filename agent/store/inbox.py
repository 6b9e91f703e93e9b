"""The durable inbox: messages stored when they arrive, taken under leases, answered once and in order.

A row's life: `received` (stored before the event is acknowledged; not yet known to be a question), then
`pending` (a question to answer) or `dropped` (not for us), then `done`. Workers of every process sharing the
database take rows under a lease that they renew while they work; a lease left to expire (its process died)
is taken over by any live process. A conversation's rows are taken one at a time in `position` order: a row
is taken only when no earlier row of its conversation is unfinished.

Every take adds one to a row's `attempts`, so (owner, attempts) names one take: a fencing token. A worker whose
lease ran out (its process stalled past it) and was taken over, by another process or another worker of its
own, holds a stale token: finishing, renewing and releasing are refused, and so are its writes to the
conversation's history (see fencing.py), so a stalled worker that wakes up cannot undo or corrupt its
successor's work.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Literal, cast

import sqlalchemy as sa
from sqlalchemy import Engine
from sqlalchemy.exc import IntegrityError

from agent.clock import utc_now
from agent.store import fencing
from agent.store.fencing import held_by
from agent.store.models import InboxRow
from agent.store.recovery import recovering
from agent.store.writing import writing

InboxKind = Literal["mention", "direct", "reply", "asked"]
InboxStatus = Literal["received", "pending", "done", "dropped"]
# What `hold` found: stored now, or stored before and still received and held by the caller (an earlier try
# may have got part way).
Held = Literal["new", "again"]

_INBOX = cast(sa.Table, InboxRow.__table__)
_SQLITE_TAKES = threading.Lock()
_SQLITE_TAKE_TRIES = 3
_UNFINISHED = ("received", "pending")
_RECHECK_OWNER = (
    "recheck"  # Owns deferred messages: no process, so whoever takes it after the delay replays it.
)
# Kinds that make their conversation ours from the moment they are stored: the bot was asked there.
_ADDRESSED_TO_US = ("mention", "direct", "asked")


# Every call: an unreachable store is one StoreError ("the store is unreachable"), not a driver traceback.
_recovering = recovering(lambda engine, *_args, **_kwargs: engine)


@dataclass(frozen=True)
class InboxEntry:
    """A message to store: its own key, its conversation and its place in it, and what it carried."""

    message_key: str
    conversation_key: str
    position: str
    kind: InboxKind
    payload: dict[str, Any]


@dataclass(frozen=True)
class InboxItem:
    """A stored message taken under a lease by one worker."""

    id: int
    entry: InboxEntry
    status: InboxStatus
    attempts: int  # takes so far, this one included: above 1, an earlier worker may have started it
    started_at: datetime | None  # when a worker first took it as a question

    @property
    def lease_key(self) -> tuple[int, int]:
        """This take of the item (its id and attempt): two takes of one item are two different leases."""
        return self.id, self.attempts

    @property
    def turn(self) -> str:
        """The answer to this item, whichever take: what its writes are tagged with (its message key, never
        reused, unlike a row id once finished rows are pruned)."""
        return self.entry.message_key


@_recovering
def receive(engine: Engine, entries: Sequence[InboxEntry], *, owner: str, lease: timedelta) -> None:
    """Store arriving messages as `received`, leased to `owner`; a message stored before is left as it is."""
    if not entries:
        return
    now = utc_now()
    rows = [_received(entry, owner, now, lease) for entry in entries]
    insert = _insert_ignoring_duplicates(engine)
    with writing(engine) as connection:
        connection.execute(insert, rows)


@_recovering
def hold(engine: Engine, entry: InboxEntry, *, owner: str, lease: timedelta) -> Held | None:
    """Store one message as `receive` does, and tell whether `owner` is to work on it: "new" (stored now),
    "again" (stored before, still received and held by `owner`: a take of it replaying it), or None (accepted
    or finished already, or held by another process)."""
    with writing(engine) as connection:
        insert = _insert_ignoring_duplicates(engine).returning(_INBOX.c.id)  # rowcount: -1 on psycopg here
        if connection.execute(insert, _received(entry, owner, utc_now(), lease)).first() is not None:
            return "new"
        found = connection.execute(
            sa.select(_INBOX.c.status, _INBOX.c.lease_owner).where(_INBOX.c.message_key == entry.message_key)
        ).first()
    return "again" if found is not None and tuple(found) == ("received", owner) else None


@_recovering
def place(engine: Engine, entry: InboxEntry, *, owner: str) -> bool:
    """Move a received message `owner` holds to its conversation and position, known only once it was posted
    (a question the bot asks on someone's behalf); False when `owner` no longer holds it."""
    with writing(engine) as connection:
        result = connection.execute(
            sa.update(_INBOX)
            .where(
                _INBOX.c.message_key == entry.message_key,
                _INBOX.c.status == "received",
                _INBOX.c.lease_owner == owner,
            )
            .values(conversation_key=entry.conversation_key, position=entry.position)
        )
        return (result.rowcount or 0) == 1


def _received(entry: InboxEntry, owner: str, now: datetime, lease: timedelta) -> dict[str, Any]:
    return {
        "message_key": entry.message_key,
        "conversation_key": entry.conversation_key,
        "position": entry.position,
        "kind": entry.kind,
        "payload": entry.payload,
        "status": "received",
        "lease_owner": owner,
        "lease_until": now + lease,
        "attempts": 0,
        "created_at": now,
    }


@_recovering
def accept(engine: Engine, entry: InboxEntry) -> bool:
    """Make a message a question to answer (`pending`, free to take); False when it already is one or was done."""
    revive = {"key": entry.message_key, "new_kind": entry.kind, "new_payload": entry.payload}
    with writing(engine) as connection:
        if (connection.execute(_REVIVE, revive).rowcount or 0) == 1:
            return True
    try:
        with writing(engine) as connection:
            connection.execute(
                sa.insert(_INBOX).values(
                    message_key=entry.message_key,
                    conversation_key=entry.conversation_key,
                    position=entry.position,
                    kind=entry.kind,
                    payload=entry.payload,
                    status="pending",
                    attempts=0,
                    created_at=utc_now(),
                )
            )
        return True
    except IntegrityError:
        return False  # Pending or done already: a redelivery.


@_recovering
def accept_and_take(engine: Engine, entry: InboxEntry, *, owner: str, lease: timedelta) -> InboxItem | bool:
    """`accept`, and lease the question to `owner` in the same statement when it may be worked on at once (it
    was received, and nothing earlier in its conversation is unfinished): the item, else as `accept` returns.

    One write rather than two for the common case, a question arriving in a quiet thread of a process that has
    a worker free.
    """
    now = utc_now()
    values = {
        "key": entry.message_key,
        "new_kind": entry.kind,
        "new_payload": entry.payload,
        "at": now,
        "new_owner": owner,
        "new_until": now + lease,
    }
    with writing(engine) as connection:
        item = _item(connection.execute(_ACCEPT_AND_TAKE, values).mappings().first())
    return item if item is not None else accept(engine, entry)


@_recovering
def drop(engine: Engine, message_key: str, *, owner: str | None = None) -> bool:
    """A received message turned out not to be for us; with `owner`, only while that owner holds it."""
    condition = [_INBOX.c.message_key == message_key, _INBOX.c.status == "received"]
    if owner is not None:
        condition.append(_INBOX.c.lease_owner == owner)
    with writing(engine) as connection:
        result = connection.execute(
            sa.update(_INBOX).where(*condition).values(status="dropped", lease_owner=None, lease_until=None)
        )
        return (result.rowcount or 0) == 1


@_recovering
def defer(engine: Engine, message_key: str, *, seconds: float) -> bool:
    """Look at a received message again in `seconds` (any process may): its listener could not decide yet."""
    with writing(engine) as connection:
        result = connection.execute(
            sa.update(_INBOX)
            .where(_INBOX.c.message_key == message_key, _INBOX.c.status == "received")
            .values(lease_owner=_RECHECK_OWNER, lease_until=utc_now() + timedelta(seconds=seconds))
        )
        return (result.rowcount or 0) == 1


@_recovering
def take(engine: Engine, *, owner: str, lease: timedelta) -> InboxItem | None:
    """Lease the oldest unfinished message that is free and first unfinished in its conversation, if any."""
    now = utc_now()
    values = {"at": now, "new_owner": owner, "new_until": now + lease}
    if engine.dialect.name == "postgresql":
        with writing(engine) as connection:
            return _item(connection.execute(_TAKE_SKIPPING_LOCKED, values).mappings().first())
    # SQLite has one writer at a time, and a writer waiting for the lock sleeps in steps of milliseconds: so
    # this process's workers take one after the other (the single-process equivalent of SKIP LOCKED), a read
    # finds the candidate (in WAL mode it waits for no writer, and most looks find nothing), and the UPDATE
    # leases it only if it is still free (another process may have taken it since: then look again).
    with _SQLITE_TAKES:
        for _ in range(_SQLITE_TAKE_TRIES):
            with engine.connect() as connection:
                found = connection.execute(_FIND_TAKEABLE, values).scalar()
            if found is None:
                return None
            with writing(engine) as connection:
                row = connection.execute(_LEASE_IF_FREE, values | {"item_id": found}).mappings().first()
            if row is not None:
                return _item(row)
    return None


def _earlier_unfinished() -> sa.Exists:
    earlier = _INBOX.alias("earlier")
    return (
        sa.select(earlier.c.id)
        .where(
            earlier.c.conversation_key == _INBOX.c.conversation_key,
            earlier.c.position < _INBOX.c.position,
            earlier.c.status.in_(_UNFINISHED),
        )
        .exists()
    )


def _item(row: sa.RowMapping | None) -> InboxItem | None:
    if row is None:
        return None
    entry = InboxEntry(
        message_key=row["message_key"],
        conversation_key=row["conversation_key"],
        position=row["position"],
        kind=row["kind"],
        payload=row["payload"],
    )
    return InboxItem(
        id=row["id"],
        entry=entry,
        status=row["status"],
        attempts=row["attempts"],
        started_at=_utc(row["started_at"]),
    )


@_recovering
def renew(
    engine: Engine, leases: Sequence[tuple[int, int]], *, owner: str, lease: timedelta
) -> set[tuple[int, int]]:
    """Extend `owner`'s leases (item id, attempt) on the items it still works on; returns the leases it still
    holds (a lease that ran out, a process starved for longer than the lease, may have been taken over)."""
    if not leases:
        return set()
    with writing(engine) as connection:
        result = connection.execute(
            sa.update(_INBOX)
            .where(sa.tuple_(_INBOX.c.id, _INBOX.c.attempts).in_(list(leases)), _INBOX.c.lease_owner == owner)
            .values(lease_until=utc_now() + lease)
            .returning(_INBOX.c.id, _INBOX.c.attempts)
        )
        return {(row.id, row.attempts) for row in result}


@_recovering
def finish(engine: Engine, item: InboxItem, *, owner: str, reply_ref: str | None = None) -> bool:
    """Mark an item answered, with the last reply its answer posted; False when this take of it (`owner`,
    `item.attempts`) had lost its lease (another take replaced it)."""
    item_id, attempt = item.lease_key
    values = {
        "item_id": item_id,
        "attempt": attempt,
        "owner": owner,
        "at": utc_now(),
        "new_reply_ref": reply_ref,
    }
    with writing(engine) as connection:
        return (connection.execute(_FINISH, values).rowcount or 0) == 1


@_recovering
def holds(engine: Engine, lease: tuple[int, int], *, owner: str) -> bool:
    """Whether this take of an item (id, attempt) is still `owner`'s: not finished, released or taken over.

    A take once replaced never comes back, so a True answer also holds for everything done before asking.
    """
    with engine.connect() as connection:
        return fencing.is_held(connection, lease, owner=owner)


def fenced_writes(
    engine: Engine, lease: tuple[int, int], *, owner: str, on_lost: Callable[[], object], turn: str
) -> AbstractContextManager[None]:
    """While inside, the writes of this thread that a successor would clean up (the conversation's messages and
    tool runs, the turn's audit row) first check, in the write's own transaction, that this take of the item is
    still `owner`'s, and raise LeaseLost (after calling `on_lost`) when it is not; messages and tool runs are
    tagged with `turn`. See fencing.py."""
    return fencing.fenced(fencing.Fence(engine, lease, owner, on_lost, turn))


@_recovering
def last_reply_before(engine: Engine, conversation_key: str, *, before: str) -> str | None:
    """The last reply posted for the answered messages of a conversation before position `before`."""
    query = sa.select(_INBOX.c.reply_ref).where(
        _INBOX.c.conversation_key == conversation_key,
        _INBOX.c.position < before,
        _INBOX.c.status == "done",
        _INBOX.c.reply_ref.is_not(None),
    )
    with engine.connect() as connection:
        refs = [str(ref) for ref in connection.execute(query).scalars()]
    return max(refs, key=_ts_order, default=None)


@_recovering
def release(engine: Engine, lease: tuple[int, int], *, owner: str) -> None:
    """Give a lease (item id, attempt) back unfinished, so that any process may take the item at once."""
    with writing(engine) as connection:
        connection.execute(
            sa.update(_INBOX).where(*held_by(lease, owner)).values(lease_owner=None, lease_until=None)
        )


@_recovering
def conversation_is_ours(engine: Engine, conversation_key: str, *, before: str) -> bool:
    """Whether the bot was asked in this conversation before `before` (a position): a mention or direct
    question stored there (even one not yet taken), or a message of it accepted as a question."""
    query = sa.select(_INBOX.c.id).where(
        _INBOX.c.conversation_key == conversation_key,
        _INBOX.c.position < before,
        sa.or_(
            sa.and_(_INBOX.c.kind.in_(_ADDRESSED_TO_US), _INBOX.c.status != "dropped"),
            _INBOX.c.status.in_(("pending", "done")),
        ),
    )
    with engine.connect() as connection:
        return connection.execute(query.limit(1)).first() is not None


@_recovering
def depth(engine: Engine) -> tuple[int, datetime | None]:
    """How many messages are unfinished, and when the oldest of them arrived."""
    query = sa.select(sa.func.count(), sa.func.min(_INBOX.c.created_at)).where(
        _INBOX.c.status.in_(_UNFINISHED)
    )
    with engine.connect() as connection:
        count, oldest = connection.execute(query).one()
    return int(count), _utc(oldest)


@_recovering
def forget_finished_older_than(engine: Engine, age: timedelta) -> int:
    """Delete answered and dropped messages older than `age`; unfinished ones are kept whatever their age."""
    with writing(engine) as connection:
        result = connection.execute(
            sa.delete(_INBOX).where(
                _INBOX.c.status.in_(("done", "dropped")), _INBOX.c.created_at < utc_now() - age
            )
        )
        return result.rowcount or 0


def _insert_ignoring_duplicates(engine: Engine) -> sa.Insert:
    # Each dialect's module is imported here, where its engine has loaded it already: a start on SQLite
    # must not load PostgreSQL's (a tenth of a second), nor the reverse.
    if engine.dialect.name == "postgresql":
        from sqlalchemy.dialects import postgresql

        return postgresql.insert(_INBOX).on_conflict_do_nothing(index_elements=["message_key"])
    from sqlalchemy.dialects import sqlite

    return sqlite.insert(_INBOX).on_conflict_do_nothing(index_elements=["message_key"])


def _ts_order(ref: str) -> tuple[int, int]:
    seconds, _, fraction = ref.partition(".")
    return int(seconds or 0), int(fraction or 0)


def _utc(value: datetime | None) -> datetime | None:
    # RETURNING and aggregates bypass the column type on some drivers: SQLite hands back naive UTC.
    if value is None:
        return None
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


# Taking, accepting and finishing are the hot path (every question, every worker's poll): their statements are
# built once, as building one costs more than SQLite running it. Parameters are bound by name.
_AT = sa.bindparam("at", type_=_INBOX.c.lease_until.type)
_FREE = [_INBOX.c.status.in_(_UNFINISHED), sa.or_(_INBOX.c.lease_until.is_(None), _INBOX.c.lease_until < _AT)]
_TAKEN = {
    "lease_owner": sa.bindparam("new_owner", type_=sa.String()),
    "lease_until": sa.bindparam("new_until", type_=_INBOX.c.lease_until.type),
    "attempts": _INBOX.c.attempts + 1,
    "started_at": sa.case(
        (sa.and_(_INBOX.c.status == "pending", _INBOX.c.started_at.is_(None)), _AT), else_=_INBOX.c.started_at
    ),
}
_FIND_TAKEABLE = sa.select(_INBOX.c.id).where(*_FREE, ~_earlier_unfinished()).order_by(_INBOX.c.id).limit(1)
_LEASE_IF_FREE = (
    sa.update(_INBOX).where(_INBOX.c.id == sa.bindparam("item_id"), *_FREE).values(_TAKEN).returning(_INBOX)
)
_REVIVE = (
    sa.update(_INBOX)
    .where(_INBOX.c.message_key == sa.bindparam("key"), _INBOX.c.status.in_(("received", "dropped")))
    .values(
        status="pending",
        kind=sa.bindparam("new_kind"),
        payload=sa.bindparam("new_payload", type_=_INBOX.c.payload.type),
        lease_owner=None,
        lease_until=None,
    )
)
_ACCEPT_AND_TAKE = (
    sa.update(_INBOX)
    .where(
        _INBOX.c.message_key == sa.bindparam("key"),
        _INBOX.c.status.in_(("received", "dropped")),
        ~_earlier_unfinished(),
    )
    .values(
        _TAKEN
        | {
            "status": "pending",
            "kind": sa.bindparam("new_kind"),
            "payload": sa.bindparam("new_payload", type_=_INBOX.c.payload.type),
            "started_at": _AT,
        }
    )
    .returning(_INBOX)
)
_FINISH = (
    sa.update(_INBOX)
    .where(
        _INBOX.c.id == sa.bindparam("item_id"),
        _INBOX.c.attempts == sa.bindparam("attempt"),
        _INBOX.c.lease_owner == sa.bindparam("owner", type_=sa.String()),
    )
    .values(
        status="done",
        finished_at=_AT,
        lease_owner=None,
        lease_until=None,
        reply_ref=sa.bindparam("new_reply_ref", type_=sa.String()),
    )
)
_TAKE_SKIPPING_LOCKED = (
    sa.update(_INBOX)
    .where(_INBOX.c.id == _FIND_TAKEABLE.with_for_update(skip_locked=True, of=_INBOX).scalar_subquery())
    .values(_TAKEN)
    .returning(_INBOX)
)
