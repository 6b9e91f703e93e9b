"""Worker threads that take leased work from a shared source, renew the leases while working, and stop gracefully.

Which item may run when (one at a time per Slack thread, in order) is the source's decision (the inbox):
these workers only take, run and renew. Leases make a crash safe: an item whose process died is taken over by
a live one once its lease runs out.
"""

from __future__ import annotations

import logging
import threading
from collections import deque
from collections.abc import Callable, Collection, Sequence
from typing import Generic, Protocol, TypeVar

log = logging.getLogger(__name__)


class Leased(Protocol):
    @property
    def lease_key(self) -> tuple[int, int]:
        """One take of one item: the same item taken again (its lease ran out meanwhile) is another lease."""
        ...


Item = TypeVar("Item", bound=Leased)


class LeasedWorkers(Generic[Item]):
    """`workers` threads running `run(item)` for each item `take()` gives them; idle ones poll every `poll_seconds`.

    Held items' leases are renewed every `renew_seconds` with `renew(items)` (which returns the lease keys still
    held); `release(item)` gives back an item leased but not started when shutdown begins; `lost(item)` is told
    of an item whose lease was taken over while it still ran here (this process was stalled for longer than a
    lease; the taker may be another process or another worker of this one). `wake()` tells an idle worker there
    is work now (a question accepted by this process) so it need not wait for its next poll.
    """

    def __init__(
        self,
        workers: int,
        *,
        take: Callable[[], Item | None],
        run: Callable[[Item], None],
        renew: Callable[[Sequence[Item]], Collection[tuple[int, int]]],
        release: Callable[[Item], object],
        lost: Callable[[Item], object] = lambda _: None,
        renew_seconds: float,
        poll_seconds: float = 1.0,
    ) -> None:
        self._release = release
        self._lost = lost
        self._take = take
        self._run = run
        self._renew = renew
        self._renew_seconds = renew_seconds
        self._poll_seconds = poll_seconds
        self._lock = threading.Lock()
        self._changed = threading.Condition(self._lock)  # Held items changed: the renewer and shutdown wait.
        # Work to take: only workers wait on this, so that a wake is never spent on another kind of waiter.
        self._work_ready = threading.Condition(self._lock)
        self._held: dict[tuple[int, int], Item] = {}  # By lease key.
        self._work_signalled = False
        self._waiting = 0
        self._offered: deque[Item] = deque()
        self._stopping = False
        self._renewing = True
        self._threads = [
            threading.Thread(target=self._work, name=f"blueprintdata-answer-{number}", daemon=True)
            for number in range(workers)
        ]
        self._threads.append(threading.Thread(target=self._renew_leases, name="inbox-leases", daemon=True))

    def start(self) -> LeasedWorkers[Item]:
        for thread in self._threads:
            thread.start()
        return self

    def wake(self) -> None:
        """There is work to take now."""
        with self._changed:
            # A flag, not a count: a burst of wakes while no worker waits must not become as many empty takes.
            self._work_signalled = True
            self._work_ready.notify()

    def has_idle_worker(self) -> bool:
        """Whether a worker waits for work with nothing handed to it yet (`offer` would start at once)."""
        with self._lock:
            return self._waiting > len(self._offered) and not self._stopping

    def offer(self, item: Item) -> None:
        """Run an item this process has already leased, on the next free worker; its lease is renewed."""
        with self._changed:
            self._held[item.lease_key] = item
            self._offered.append(item)
            self._work_ready.notify()

    def busy(self) -> int:
        """Items being worked on now."""
        with self._lock:
            return len(self._held)

    def shutdown(self, grace_seconds: float) -> bool:
        """Take no more items; wait up to `grace_seconds` for those in hand. True when all finished.

        Items still running after the grace keep their leases until they expire, then another process takes
        them over.
        """
        with self._changed:
            self._stopping = True
            unstarted = list(self._offered)
            self._offered.clear()
            for item in unstarted:
                del self._held[item.lease_key]
            self._changed.notify_all()
            self._work_ready.notify_all()
        for item in unstarted:  # Back to the inbox, for any process to take at once.
            self._release_logged(item)
        with self._changed:
            finished = self._changed.wait_for(lambda: not self._held, timeout=grace_seconds)
            # Abandoned answers must not keep their leases alive: another process is to take them over.
            self._renewing = False
            self._changed.notify_all()
            return finished

    def _work(self) -> None:
        while True:
            with self._changed:
                if self._stopping:
                    return
                offered = self._offered.popleft() if self._offered else None
            item = offered or self._take_logged()
            if item is None:
                with self._changed:
                    if not self._work_signalled and not self._stopping and not self._offered:
                        self._waiting += 1
                        self._work_ready.wait(self._poll_seconds)
                        self._waiting -= 1
                    self._work_signalled = False
                continue
            with self._changed:
                self._held[item.lease_key] = item
                giving_up = self._stopping
                if giving_up:
                    del self._held[item.lease_key]
                    self._changed.notify_all()
            if giving_up:  # Taken as shutdown began: back to the inbox, unrun.
                self._release_logged(item)
                return
            if offered is None:  # Found in the inbox, where there may be more: let another idle worker look.
                with self._changed:
                    self._work_ready.notify()
            try:
                self._run(item)
            except Exception:  # One failed answer must not stop this worker.
                log.exception("inbox item %s failed", item.lease_key)
            finally:
                with self._changed:
                    del self._held[item.lease_key]
                    self._changed.notify_all()

    def _done_renewing(self) -> bool:
        return not self._renewing or (self._stopping and not self._held)

    def _release_logged(self, item: Item) -> None:
        try:
            self._release(item)
        except Exception:  # Its lease runs out instead.
            log.warning("could not release inbox item %s", item.lease_key, exc_info=True)

    def _take_logged(self) -> Item | None:
        try:
            return self._take()
        except Exception:  # The database may be briefly unreachable: try again at the next poll.
            log.warning("could not take work from the inbox", exc_info=True)
            return None

    def _renew_leases(self) -> None:
        while True:
            with self._changed:
                self._changed.wait_for(self._done_renewing, timeout=self._renew_seconds)
                if self._done_renewing():
                    return
                held = list(self._held.values())
            if not held:
                continue
            try:
                still_held = self._renew(held)
            except Exception:
                log.warning("could not renew %d lease(s)", len(held), exc_info=True)
                continue
            with self._lock:
                lost = [
                    item for item in held if item.lease_key not in still_held and item.lease_key in self._held
                ]
            for item in lost:
                log.warning("lost the lease of inbox item %s: it has been taken over", item.lease_key)
                self._lost(item)
