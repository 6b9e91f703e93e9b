"""Claim a key once across every process sharing the database: exactly-once handling of events and runs."""

from __future__ import annotations

from datetime import timedelta

import sqlalchemy as sa
from sqlalchemy import Engine
from sqlalchemy.exc import IntegrityError

from agent.store.models import EventClaimRow, utc_now


def claim_event(engine: Engine, key: str) -> bool:
    """True for the first claim of `key` by any process; the unique key makes it so, even across restarts."""
    try:
        with engine.begin() as connection:
            connection.execute(sa.insert(EventClaimRow).values(key=key, created_at=utc_now()))
    except IntegrityError:
        return False
    return True


def forget_claims_older_than(engine: Engine, age: timedelta) -> int:
    """Delete old claims (Slack stops redelivering after minutes); returns how many."""
    with engine.begin() as connection:
        result = connection.execute(
            sa.delete(EventClaimRow).where(EventClaimRow.created_at < utc_now() - age)
        )
        return result.rowcount or 0
