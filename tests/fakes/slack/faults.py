"""Scripted failures: the next calls of a Web API method answered with a rate limit, a server error or an error."""

from __future__ import annotations

import threading
from dataclasses import dataclass


@dataclass
class Fault:
    """One scripted failure and how many more calls it answers."""

    status: int
    error: str
    retry_after: int | None
    remaining: int


class FaultScript:
    """The failures queued per method by fail_next(), taken in order as calls arrive."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._queued: dict[str, list[Fault]] = {}

    def fail_next(
        self,
        method: str,
        *,
        times: int = 1,
        status: int | None = None,
        retry_after: int = 1,
        error: str | None = None,
    ) -> None:
        """Answer the next `times` calls of `method` with a failure.

        By default HTTP 429 {"ok": false, "error": "ratelimited"} with a Retry-After header; with `error`
        HTTP 200 {"ok": false, "error": error}; with status 500 or 503 a server error.
        """
        answer_status = status if status is not None else (200 if error else 429)
        if error is None:
            error = {429: "ratelimited", 503: "service_unavailable"}.get(answer_status, "internal_error")
        fault = Fault(answer_status, error, retry_after if answer_status == 429 else None, times)
        with self._lock:
            self._queued.setdefault(method, []).append(fault)

    def take(self, method: str) -> Fault | None:
        """The failure that answers this call of `method`, if one is queued."""
        with self._lock:
            queue = self._queued.get(method)
            if not queue:
                return None
            fault = queue[0]
            fault.remaining -= 1
            if fault.remaining <= 0:
                queue.pop(0)
            return fault
