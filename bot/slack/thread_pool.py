"""A bounded worker pool that runs work for one key (a Slack thread) in order, and different keys in parallel."""

from __future__ import annotations

import logging
import threading
from collections import deque
from collections.abc import Callable, Hashable
from concurrent.futures import ThreadPoolExecutor

log = logging.getLogger(__name__)


class ThreadOrderedPool:
    """Submit work under a key: same key runs one at a time in submission order; keys share `workers` threads."""

    def __init__(self, workers: int) -> None:
        self._executor = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="blueprintdata-answer")
        self._queues: dict[Hashable, deque[Callable[[], None]]] = {}
        self._lock = threading.Lock()
        self._idle = threading.Condition(self._lock)
        self._accepting = True

    def submit(self, key: Hashable, work: Callable[[], None]) -> bool:
        """Queue `work`; False once shutdown has begun (the caller then tells the user)."""
        with self._lock:
            if not self._accepting:
                return False
            queue = self._queues.get(key)
            if queue is not None:
                queue.append(work)
                return True
            self._queues[key] = deque([work])
        self._executor.submit(self._drain, key)
        return True

    def _drain(self, key: Hashable) -> None:
        while True:
            with self._lock:
                queue = self._queues[key]
                work = queue[0]
            try:
                work()
            except Exception:  # One failed answer must not stop the thread's later messages.
                log.exception("answer work failed for %s", key)
            with self._lock:
                queue.popleft()
                if not queue:
                    del self._queues[key]
                    self._idle.notify_all()
                    return

    def has_work(self, key: Hashable) -> bool:
        """Whether work for `key` is queued or running."""
        with self._lock:
            return key in self._queues

    def pending(self) -> int:
        with self._lock:
            return sum(len(queue) for queue in self._queues.values())

    def shutdown(self, grace_seconds: float) -> bool:
        """Stop taking work, wait up to `grace_seconds` for work in flight; True when all finished."""
        with self._lock:
            self._accepting = False
            finished = self._idle.wait_for(lambda: not self._queues, timeout=grace_seconds)
        self._executor.shutdown(wait=finished, cancel_futures=not finished)
        return finished
