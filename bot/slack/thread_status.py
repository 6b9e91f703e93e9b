"""The "is searching models…" line under a thread, kept alive while an answer is being worked on."""

from __future__ import annotations

import heapq
import itertools
import logging
import threading
import time

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
        self.rearm_seconds = rearm_seconds
        self._current = ""
        self._lock = threading.Lock()
        self._stopped = threading.Event()
        self._rearming = False
        self._available = True

    def show(self, status: str) -> None:
        """Display `status` now (unchanged statuses are not re-sent) and keep it alive."""
        with self._lock:
            if status == self._current or self._stopped.is_set():
                return
            self._current = status
            first = not self._rearming
            self._rearming = True
        self._send(status)
        if first:
            _REARMER.add(self)

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

    def rearm(self) -> bool:
        """Send the current status again, as its re-arm falls due; False once stopped (no more re-arms)."""
        if self._stopped.is_set():
            return False
        with self._lock:
            status = self._current
        if status:
            self._send(status)
        return not self._stopped.is_set()

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


class _Rearmer:
    """One thread re-arming every shown status when it falls due. A thread of its own per answer cost a start
    (and a wait for it to run) on every answer, in a process whose answer workers queue for the GIL."""

    def __init__(self) -> None:
        self._due: list[tuple[float, int, ThreadStatus]] = []
        self._order = (
            itertools.count()
        )  # Ties in time are re-armed in the order added; statuses never compare.
        self._changed = threading.Condition()
        self._thread: threading.Thread | None = None

    def add(self, status: ThreadStatus) -> None:
        with self._changed:
            due = time.monotonic() + status.rearm_seconds
            heapq.heappush(self._due, (due, next(self._order), status))
            self._changed.notify()
            if self._thread is not None:
                return
            self._thread = threading.Thread(target=self._run, name="slack-status", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while True:
            with self._changed:
                while not self._due or self._due[0][0] > time.monotonic():
                    self._changed.wait(self._due[0][0] - time.monotonic() if self._due else None)
                _, _, status = heapq.heappop(self._due)
            try:
                again = status.rearm()
            except Exception:  # One status's failure must not end the re-arming of every other.
                log.exception("could not re-arm a thread status")
                again = False
            if again:
                self.add(status)


_REARMER = _Rearmer()
