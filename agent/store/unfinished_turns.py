"""Undoing what an interrupted turn stored, so that answering the question again stores it once."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy import Engine

from agent.store import fencing
from agent.store.models import MessageRow, ToolRunRow
from agent.store.writing import writing


def discard_turn(engine: Engine, session_id: str, turn: str) -> int:
    """Delete the messages and tool runs that earlier takes of one turn (`turn`, the key their fence wrote
    them with) stored in a session; returns how many messages.

    By key, not by time: a worker paused past its lease may have been overtaken, so what a session stored
    since a turn began can hold an earlier turn's messages, stored late, that must stay.
    """
    with writing(engine) as connection:
        fencing.check(connection)  # A take replaced meanwhile must not delete what its successor stored.
        connection.execute(
            sa.delete(ToolRunRow).where(ToolRunRow.session_id == session_id, ToolRunRow.turn_key == turn)
        )
        result = connection.execute(
            sa.delete(MessageRow).where(MessageRow.session_id == session_id, MessageRow.turn_key == turn)
        )
        return result.rowcount or 0
