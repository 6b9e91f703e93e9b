"""Undoing what an interrupted turn stored, so that answering the question again stores it once."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy import Engine

from agent.store import fencing
from agent.store.models import MessageRow, ToolRunRow
from agent.store.writing import writing


def discard_since(engine: Engine, session_id: str, since: datetime) -> int:
    """Delete the messages and tool runs a session stored from `since` on; returns how many messages.

    Safe only while nothing else answers in that session: the inbox answers a conversation one message at a
    time, so everything stored since the interrupted turn began belongs to it.
    """
    with writing(engine) as connection:
        fencing.check(connection)  # A take replaced meanwhile must not delete what its successor stored.
        connection.execute(
            sa.delete(ToolRunRow).where(ToolRunRow.session_id == session_id, ToolRunRow.created_at >= since)
        )
        result = connection.execute(
            sa.delete(MessageRow).where(MessageRow.session_id == session_id, MessageRow.created_at >= since)
        )
        return result.rowcount or 0
