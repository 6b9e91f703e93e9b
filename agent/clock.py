"""The one clock the agent and its front doors read: timezone-aware UTC."""

from __future__ import annotations

from datetime import UTC, datetime


def utc_now() -> datetime:
    """Now, in UTC, with its zone (every stored time is aware)."""
    return datetime.now(UTC)
