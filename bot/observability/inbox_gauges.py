"""The inbox's depth and oldest age as Prometheus gauges, read from the store once at each scrape."""

from __future__ import annotations

import math

from agent.clock import utc_now
from agent.errors import StoreError
from agent.sessions import Inbox
from bot.observability.metrics import BotMetrics, bot_metrics


def watch_inbox(inbox: Inbox, metrics: BotMetrics | None = None) -> None:
    """Point the inbox gauges at this inbox; a scrape while the store is away reads NaN, not an error."""

    def read() -> tuple[float, float]:
        try:
            depth, oldest = inbox.depth()  # One query gives both.
        except StoreError:
            return math.nan, math.nan
        return float(depth), 0.0 if oldest is None else (utc_now() - oldest).total_seconds()

    (metrics or bot_metrics()).watch_inbox(read)
