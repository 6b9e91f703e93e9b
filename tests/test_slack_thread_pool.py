"""Answers within one Slack thread run in order; different threads run side by side."""

from __future__ import annotations

import threading
import time

from bot.slack.thread_pool import ThreadOrderedPool


def test_same_key_runs_in_order_and_keys_run_in_parallel() -> None:
    pool = ThreadOrderedPool(workers=8)
    log: dict[str, list[int]] = {}
    lock = threading.Lock()
    active = 0
    most_active = 0

    def work(key: str, number: int) -> None:
        nonlocal active, most_active
        with lock:
            active += 1
            most_active = max(most_active, active)
        time.sleep(0.01)
        with lock:
            active -= 1
            log.setdefault(key, []).append(number)

    for number in range(5):
        for thread in range(8):
            assert pool.submit(f"thread-{thread}", lambda k=f"thread-{thread}", n=number: work(k, n))
    assert pool.shutdown(grace_seconds=10)
    assert all(numbers == [0, 1, 2, 3, 4] for numbers in log.values())
    assert len(log) == 8
    assert most_active > 1


def test_a_failing_answer_does_not_block_the_thread() -> None:
    pool = ThreadOrderedPool(workers=2)
    done = threading.Event()

    def fail() -> None:
        raise RuntimeError("boom")

    pool.submit("t", fail)
    pool.submit("t", done.set)
    assert done.wait(2)
    pool.shutdown(1)


def test_after_shutdown_no_new_work_is_taken() -> None:
    pool = ThreadOrderedPool(workers=1)
    assert pool.shutdown(1)
    assert pool.submit("t", lambda: None) is False


def test_shutdown_reports_work_still_running_past_the_grace_period() -> None:
    pool = ThreadOrderedPool(workers=1)
    release = threading.Event()
    pool.submit("t", lambda: release.wait(5))
    time.sleep(0.05)
    assert pool.shutdown(grace_seconds=0.1) is False
    release.set()


def test_a_key_has_work_while_its_work_waits_or_runs() -> None:
    pool = ThreadOrderedPool(workers=1)
    release = threading.Event()
    pool.submit("busy", lambda: release.wait(5))
    pool.submit("waiting", lambda: None)
    assert pool.has_work("busy") and pool.has_work("waiting") and not pool.has_work("other")
    release.set()
    assert pool.shutdown(grace_seconds=5)
    assert not pool.has_work("busy") and not pool.has_work("waiting")
