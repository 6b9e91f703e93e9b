"""HTTP mode: an Events API request is stored in the inbox before Bolt answers it, so the HTTP 200 (Slack's
acknowledgement) never goes back for an event that is not stored.

A crash before the store leaves Slack without a 2xx: it retries the same event (same event_id, with an
`X-Slack-Retry-Num` header) up to three times, to any replica behind the load balancer. A crash after it
leaves a `received` row whose lease runs out: any live replica runs it through the app again. A retry of an
event already stored is stored once and accepted once (the inbox keys messages by team, channel and ts).
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from slack_bolt import BoltRequest, BoltResponse

from bot.observability.metrics import bot_metrics
from bot.slack.socket_mode import StoreEnvelopes

log = logging.getLogger(__name__)

Middleware = Callable[[BoltRequest, Callable[[], BoltResponse]], BoltResponse]


def store_before_acknowledging(store_envelopes: StoreEnvelopes) -> Middleware:
    """A Bolt middleware, registered after the entry gate, that stores each admitted HTTP Events API request
    before Bolt runs its listener and answers it (an event the gate refuses is no question: nothing to keep)."""

    def middleware(req: BoltRequest, next: Callable[[], BoltResponse]) -> BoltResponse:
        body = req.body
        # Socket Mode stores on receipt (bot/slack/socket_mode.py), and stored events replayed after a crash
        # are already stored: only HTTP requests carrying an event are stored here.
        if req.mode != "http" or body.get("type") != "event_callback":
            return next()
        metrics = bot_metrics()
        metrics.events_received.inc()
        try:
            store_envelopes([{"payload": body}])
        except Exception:
            # No 2xx: Slack sends the event again, to this replica or another.
            log.warning("could not store an event; not acknowledged", exc_info=True)
            return BoltResponse(status=503, body="")
        metrics.events_acked.inc()  # Bolt acknowledges it once its listener is found.
        return next()

    return middleware
