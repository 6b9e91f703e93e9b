"""Forgetting what the store no longer needs, periodically: old event claims and answered inbox rows."""

from __future__ import annotations

import logging
import threading
from datetime import timedelta

from agent.sessions import Inbox, Sessions

log = logging.getLogger(__name__)


class StoreJanitor:
    """Deletes claims and finished inbox rows older than `retention`, every `every`, on a thread of its own."""

    def __init__(self, sessions: Sessions, inbox: Inbox, *, retention: timedelta, every: timedelta) -> None:
        self._sessions = sessions
        self._inbox = inbox
        self._retention = retention
        self._every = every
        self._stopped = threading.Event()
        self._thread = threading.Thread(target=self._run, name="store-janitor", daemon=True)

    def start(self) -> StoreJanitor:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stopped.set()
        self._thread.join(timeout=5)

    def prune(self) -> tuple[int, int]:
        """Prune once now; returns (claims, inbox rows) deleted."""
        claims = self._sessions.forget_claims_older_than(self._retention)
        rows = self._inbox.forget_finished_older_than(self._retention)
        if claims or rows:
            log.info("pruned %d old claim(s) and %d finished inbox row(s)", claims, rows)
        return claims, rows

    def _run(self) -> None:
        while not self._stopped.wait(self._every.total_seconds()):
            try:
                self.prune()
            except Exception:  # The database may be briefly unreachable: the next period tries again.
                log.warning("could not prune the store", exc_info=True)
