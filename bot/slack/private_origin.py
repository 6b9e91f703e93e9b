"""Where a private answer's conversation began: a question asked in a channel and answered in the asker's DM
keeps the channel's policy, for its first answer and every follow-up in that DM thread.

The channel is remembered in the DM session's metadata when the bot opens it; only the bot writes it, and only
for the person who asked, so nobody can claim a channel's access by writing in a DM.
"""

from __future__ import annotations

from typing import Any

from agent.sessions import SessionKey, SessionRecord, Sessions

ASKED_IN = "asked_in"


def private_session_metadata(
    *, team_id: str, dm_channel: str, thread_ts: str, channel: str, user: str
) -> dict[str, Any]:
    """The metadata of a DM thread that answers a question asked in `channel` by `user`."""
    return {
        "team": team_id,
        "channel": dm_channel,
        "thread_ts": thread_ts,
        ASKED_IN: {"channel": channel, "user": user},
    }


def asked_in(sessions: Sessions, key: SessionKey, user: str) -> str | None:
    """The channel whose policy a DM thread keeps, when it is a private answer to `user`; else None."""
    return session_asked_in(sessions.find(key), user)


def session_asked_in(session: SessionRecord | None, user: str) -> str | None:
    """`asked_in` for a session already read."""
    origin = session.metadata.get(ASKED_IN) if session is not None else None
    if isinstance(origin, dict) and origin.get("user") == user and origin.get("channel"):
        return str(origin["channel"])
    return None
