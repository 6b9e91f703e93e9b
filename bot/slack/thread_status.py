"""The "is searching models…" line under a thread, kept alive while an answer is being worked on."""

from __future__ import annotations

import logging
import threading

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError, SlackClientError

log = logging.getLogger(__name__)

# Slack clears an assistant thread status after two minutes; re-sending it well before keeps it visible.
REARM_SECONDS = 90.0


class ThreadStatus:
    """Shows the agent's current activity on a thread via assistant.threads.setStatus, re-armed until cleared."""

    def __init__(
        self, client: WebClient, channel: str, thread_ts: str, *, rearm_seconds: float = REARM_SECONDS
    ) -> None:
        self._client = client
        self._channel = channel
        self._thread_ts = thread_ts
        self._rearm_seconds = rearm_seconds
        self._current = ""
        self._lock = threading.Lock()
        self._stopped = threading.Event()
        self._timer: threading.Thread | None = None
        self._available = True

    def show(self, status: str) -> None:
        """Display `status` now (unchanged statuses are not re-sent) and keep it alive."""
        with self._lock:
            if status == self._current or self._stopped.is_set():
                return
            self._current = status
        self._send(status)
        if self._timer is None:
            self._timer = threading.Thread(target=self._keep_alive, name="slack-status", daemon=True)
            self._timer.start()

    def clear(self) -> None:
        """Remove the status; posting the answer also clears it, so this is for turns that post nothing."""
        self._stopped.set()
        with self._lock:
            had_status, self._current = bool(self._current), ""
        if had_status:
            self._send("")

    def stop(self) -> None:
        """Stop re-arming without another API call (the answer's post clears the status in Slack)."""
        self._stopped.set()

    def _keep_alive(self) -> None:
        while not self._stopped.wait(self._rearm_seconds):
            with self._lock:
                status = self._current
            if status:
                self._send(status)

    def _send(self, status: str) -> None:
        if not self._available:
            return
        try:
            self._client.assistant_threads_setStatus(
                channel_id=self._channel, thread_ts=self._thread_ts, status=status
            )
        except SlackApiError as exc:
            # A workspace or channel without the feature: the answer still comes, only the hint is lost.
            log.info("thread status unavailable: %s", exc.response.get("error"))
            self._available = False
        except (SlackClientError, OSError) as exc:
            # Slack out of reach for a moment: the status is a hint, the next re-arm (or the answer) follows.
            log.warning("could not set the thread status: %s", type(exc).__name__)
