"""The inbox's depth and oldest age as Prometheus gauges, read from the store at each scrape."""

from __future__ import annotations

import math

from agent.clock import utc_now
from agent.errors import StoreError
from agent.sessions import Inbox
from bot.observability.metrics import bot_metrics


def watch_inbox(inbox: Inbox) -> None:
    """Point the inbox gauges at this inbox; a scrape while the store is away reads NaN, not an error."""

    def depth() -> float:
        try:
            return float(inbox.depth()[0])
        except StoreError:
            return math.nan

    def oldest_age_seconds() -> float:
        try:
            _, oldest = inbox.depth()
        except StoreError:
            return math.nan
        return 0.0 if oldest is None else (utc_now() - oldest).total_seconds()

    bot_metrics().watch_inbox(depth=depth, oldest_age_seconds=oldest_age_seconds)
