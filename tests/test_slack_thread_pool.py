"""Answer workers over the real inbox: one message of a thread at a time in order, threads side by side,
leases renewed while working, failures and shutdown handled."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import Engine

from agent.sessions import Inbox, InboxEntry, InboxItem
from agent.store.database import create_store_engine, upgrade_database
from bot.slack.thread_pool import LeasedWorkers


@pytest.fixture
def engine(tmp_path: Path) -> Iterator[Engine]:
    engine = create_store_engine(f"sqlite:///{tmp_path / 'store.db'}")
    upgrade_database(engine)
    yield engine
    engine.dispose()


def entry(conversation: str, position: int) -> InboxEntry:
    return InboxEntry(
        message_key=f"{conversation}/{position}",
        conversation_key=conversation,
        position=f"{1_700_000_000 + position}.000000",
        kind="mention",
        payload={"number": position},
    )


def workers_over(
    inbox: Inbox, count: int, run: object, lost: object = None, **options: float
) -> LeasedWorkers[InboxItem]:
    def work(item: InboxItem) -> None:
        try:
            run(item)  # type: ignore[operator]
        finally:
            inbox.finish(item)

    return LeasedWorkers(
        count,
        take=inbox.take,
        run=work,
        renew=inbox.renew,
        release=inbox.release,
        lost=lost or (lambda _: None),  # type: ignore[arg-type]
        renew_seconds=options.get("renew", 1.0),
    ).start()


def test_same_thread_runs_in_order_and_threads_run_in_parallel(engine: Engine) -> None:
    inbox = Inbox(engine, owner="me", lease=timedelta(seconds=10))
    ran: dict[str, list[int]] = {}
    lock = threading.Lock()
    active = most_active = 0

    def run(item: InboxItem) -> None:
        nonlocal active, most_active
        with lock:
            active += 1
            most_active = max(most_active, active)
        time.sleep(0.01)
        with lock:
            active -= 1
            ran.setdefault(item.entry.conversation_key, []).append(item.entry.payload["number"])

    for number in range(5):
        for thread in range(8):
            assert inbox.accept(entry(f"thread-{thread}", number))
    pool = workers_over(inbox, 8, run)
    deadline = time.monotonic() + 20
    while sum(len(numbers) for numbers in ran.values()) < 40 and time.monotonic() < deadline:
        time.sleep(0.02)
    assert pool.shutdown(grace_seconds=10)
    assert len(ran) == 8 and all(numbers == [0, 1, 2, 3, 4] for numbers in ran.values())
    assert most_active > 1


def test_a_failing_answer_does_not_stop_the_workers(engine: Engine) -> None:
    inbox = Inbox(engine, owner="me", lease=timedelta(seconds=10))
    done = threading.Event()

    def run(item: InboxItem) -> None:
        if item.entry.payload["number"] == 0:
            raise RuntimeError("boom")
        done.set()

    inbox.accept(entry("t", 0))
    inbox.accept(entry("t", 1))
    pool = workers_over(inbox, 1, run)
    assert done.wait(5)
    assert pool.shutdown(1)


def test_a_lease_is_renewed_while_the_work_runs_longer_than_the_lease(engine: Engine) -> None:
    inbox = Inbox(engine, owner="me", lease=timedelta(seconds=1))
    other = Inbox(engine, owner="other process", lease=timedelta(seconds=1))
    release = threading.Event()
    inbox.accept(entry("t", 0))
    pool = workers_over(inbox, 1, lambda _: release.wait(10), renew=0.2)
    time.sleep(2.5)  # Two and a half lease lengths.
    assert other.take() is None
    release.set()
    assert pool.shutdown(5)


def test_shutdown_reports_work_still_running_and_stops_renewing_it(engine: Engine) -> None:
    inbox = Inbox(engine, owner="me", lease=timedelta(seconds=1))
    other = Inbox(engine, owner="other process", lease=timedelta(seconds=10))
    release = threading.Event()
    inbox.accept(entry("t", 0))
    pool = workers_over(inbox, 1, lambda _: release.wait(10), renew=0.2)
    time.sleep(0.3)
    assert pool.shutdown(grace_seconds=0.1) is False
    # Abandoned: another process takes it over once the lease runs out.
    time.sleep(1.2)
    taken = other.take()
    assert taken is not None and taken.attempts == 2
    release.set()


def test_a_worker_stalled_past_its_lease_is_told_it_was_taken_over(engine: Engine) -> None:
    inbox = Inbox(engine, owner="stalled", lease=timedelta(seconds=0.3))
    other = Inbox(engine, owner="other process", lease=timedelta(seconds=10))
    release = threading.Event()
    lost: list[int] = []
    inbox.accept(entry("t", 0))
    # Renewing every second with a 0.3 s lease: as if this process stalled between renewals.
    pool = workers_over(
        inbox, 1, lambda _: release.wait(10), lost=lambda item: lost.append(item.id), renew=1.0
    )
    time.sleep(0.5)
    taken = other.take()
    assert taken is not None
    deadline = time.monotonic() + 5
    while not lost and time.monotonic() < deadline:
        time.sleep(0.05)
    assert lost == [taken.id]
    release.set()
    assert pool.shutdown(5)
