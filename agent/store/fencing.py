"""Fencing a turn's writes: what a worker stores for an inbox item is refused once another take replaced its own.

Every take of an inbox item adds one to its `attempts`, so (owner, attempts) names one take: a fencing token. A
worker whose lease ran out (its process stalled past it) and was taken over holds a stale token. The writes a
successor cleans up or counts (the conversation's messages and tool runs, and the turn's audit row) call
`check` in their own transaction, before writing: a stale take is refused there, so a stalled worker that
wakes up cannot add to a history its successor has already cleaned up and moved on from.

The fence also names the turn (`Fence.turn`, the same for every take of one item): the messages and tool runs
written under it carry it, so a successor cleans up exactly what earlier takes of the same item wrote. The
agent core writes through the store as always and never learns where its question came from.

Only those writes check, explicitly: a check on every statement of the store (it was once an engine hook) cost
an extra query per write and a hook call per read, on every turn, for writes that nothing cleans up.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import cast

import sqlalchemy as sa
from sqlalchemy import Engine

from agent.errors import TurnCancelled
from agent.store.models import InboxRow

_INBOX = cast(sa.Table, InboxRow.__table__)


class LeaseLost(TurnCancelled):
    """A write made under a lease that another take has replaced: refused, and the turn is over (the take that
    replaced this one answers instead)."""


@dataclass(frozen=True)
class Fence:
    """One take of an inbox item (its id and attempt) by `owner`, whose writes through `engine` are checked and
    tagged with `turn`, the item's key (shared by every take of it)."""

    engine: Engine
    lease: tuple[int, int]
    owner: str
    on_lost: Callable[[], object]
    turn: str


def held_by(lease: tuple[int, int], owner: str) -> list[sa.ColumnElement[bool]]:
    """The condition on an inbox row that this take of it (id, attempt) is still `owner`'s."""
    item_id, attempt = lease
    return [_INBOX.c.id == item_id, _INBOX.c.attempts == attempt, _INBOX.c.lease_owner == owner]


@contextmanager
def fenced(fence: Fence) -> Iterator[None]:
    """While inside, `check` and `current` on this thread see `fence`."""
    fences = _thread_fences()
    fences.append(fence)
    try:
        yield
    finally:
        fences.pop()


def current(engine: Engine) -> Fence | None:
    """The fence this thread writes under through `engine`, if any."""
    fences = _thread_fences()
    return fences[-1] if fences and fences[-1].engine is engine else None


def check(connection: sa.Connection) -> Fence | None:
    """In a write's transaction, before the write: raise LeaseLost (after calling the fence's `on_lost`) when
    this thread writes under a take that has been replaced. Returns the fence (None when unfenced), whose
    `turn` the write stores.

    On PostgreSQL the check locks the item's row until the write commits, so a takeover either passes the row
    by until the write has committed (its cleanup then sees the write) or, having committed first, makes the
    write fail.
    """
    fence = current(connection.engine)
    if fence is None:
        return None
    if not is_held(connection, fence.lease, owner=fence.owner, lock=connection.dialect.name == "postgresql"):
        fence.on_lost()
        item_id, attempt = fence.lease
        raise LeaseLost(f"inbox item {item_id} was taken over (attempt {attempt} is stale)")
    return fence


def turn_of(fence: Fence | None) -> str | None:
    """The turn key a write under `fence` stores (None unfenced: the terminal, alerts, seeding)."""
    return fence.turn if fence is not None else None


def is_held(connection: sa.Connection, lease: tuple[int, int], *, owner: str, lock: bool = False) -> bool:
    """Whether this take of an item (id, attempt) is still `owner`'s; with `lock` (PostgreSQL), its row is
    share-locked until the transaction ends, so that no take replaces it meanwhile."""
    item_id, attempt = lease
    statement = _HELD_FOR_SHARE if lock else _HELD
    found = connection.execute(statement, {"item_id": item_id, "attempt": attempt, "owner": owner})
    return found.first() is not None


_FENCES = threading.local()


def _thread_fences() -> list[Fence]:
    fences: list[Fence] | None = getattr(_FENCES, "stack", None)
    if fences is None:
        fences = _FENCES.stack = []
    return fences


# Built once: it runs on every fenced write, and building a statement costs more than SQLite running it.
_HELD = sa.select(_INBOX.c.id).where(
    _INBOX.c.id == sa.bindparam("item_id"),
    _INBOX.c.attempts == sa.bindparam("attempt"),
    _INBOX.c.lease_owner == sa.bindparam("owner", type_=sa.String()),
)
_HELD_FOR_SHARE = _HELD.with_for_update(read=True)  # Held until the write commits: a take skips the row.
