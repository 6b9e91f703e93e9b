"""Claim a key once across every process sharing the database: exactly-once handling of events and runs."""

from __future__ import annotations

from datetime import timedelta

import sqlalchemy as sa
from sqlalchemy import Engine
from sqlalchemy.exc import IntegrityError

from agent.clock import utc_now
from agent.store.models import EventClaimRow
from agent.store.recovery import recovering

# A finished claim is marked by a second row under this prefix: no schema change, and old markers are
# forgotten with their claims.
_FINISHED_PREFIX = "finished:"


@recovering(lambda engine, *_args, **_kwargs: engine)
def claim_event(engine: Engine, key: str, *, unfinished_after: timedelta | None = None) -> bool:
    """True for the first claim of `key` by any process; the unique key makes it so, even across restarts.

    With `unfinished_after`, a claim that old which was never marked finished (see `finish_claim`) is taken
    over and True returned: the process that made it died mid-way, and this redelivery must not be refused.
    Of several takers at once, one wins.
    """
    now = utc_now()
    try:
        with engine.begin() as connection:
            connection.execute(sa.insert(EventClaimRow).values(key=key, created_at=now))
        return True
    except IntegrityError:
        if unfinished_after is None:
            return False
    finished = sa.select(EventClaimRow.key).where(EventClaimRow.key == _FINISHED_PREFIX + key)
    take_over = (
        sa.update(EventClaimRow)
        .where(
            EventClaimRow.key == key,
            EventClaimRow.created_at < now - unfinished_after,
            ~finished.exists(),
        )
        .values(created_at=now)
    )
    with engine.begin() as connection:
        return (connection.execute(take_over).rowcount or 0) == 1


@recovering(lambda engine, *_args, **_kwargs: engine)
def finish_claim(engine: Engine, key: str) -> None:
    """Mark the claim of `key` done: from now on every redelivery of it is refused, however late."""
    try:
        with engine.begin() as connection:
            connection.execute(
                sa.insert(EventClaimRow).values(key=_FINISHED_PREFIX + key, created_at=utc_now())
            )
    except IntegrityError:
        pass  # Already marked.


@recovering(lambda engine, *_args, **_kwargs: engine)
def forget_claims_older_than(engine: Engine, age: timedelta) -> int:
    """Delete old claims (Slack stops redelivering after minutes); returns how many."""
    with engine.begin() as connection:
        result = connection.execute(
            sa.delete(EventClaimRow).where(EventClaimRow.created_at < utc_now() - age)
        )
        return result.rowcount or 0
