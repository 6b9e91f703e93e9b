"""The alert scheduler on a clock the test moves: runs when due, catches up once after a restart, posts an
anomaly once, and runs each (alert, time) once when two bot processes share PostgreSQL."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from agent.alerts.runner import RunOutcome
from agent.runtime import Runtime
from bot.alerts.scheduler import AlertScheduler
from tests.fakes.slack_api import FakeSlack
from tests.test_alerts import MORNING, alerts_file, channel_posts, orders_until, slack_alerts

SECOND = timedelta(seconds=1)
DAY = timedelta(days=1)


def scheduler_for(
    runtime: Runtime, fake: FakeSlack, *, catch_up: timedelta = timedelta(hours=6)
) -> AlertScheduler:
    configured = slack_alerts(runtime, fake)
    return AlertScheduler(configured.loaded.alerts, configured.runner, catch_up=catch_up)


def summary(outcomes: list[RunOutcome]) -> list[tuple[str, str, str, str]]:
    return [
        (o.alert, o.scheduled_for.astimezone(UTC).strftime("%m-%d %H:%M"), o.trigger, o.status)
        for o in outcomes
    ]


def test_alerts_run_when_due_and_an_anomaly_is_posted_once(
    make_runtime: Callable[..., Runtime], fake_slack: FakeSlack, tmp_path: Path
) -> None:
    path = alerts_file(
        tmp_path, orders_until("2024-06-12", name="viral"), orders_until("2025-01-31", name="quiet")
    )
    scheduler = scheduler_for(make_runtime(alerts_file=path), fake_slack)
    eight_berlin = MORNING  # 08:00 Europe/Berlin is 07:00 UTC in November.

    assert scheduler.tick(eight_berlin - 2 * timedelta(hours=1)) == []
    assert scheduler.tick(eight_berlin - SECOND) == []
    first = scheduler.tick(eight_berlin + 5 * SECOND)
    assert scheduler.tick(eight_berlin + 20 * SECOND) == []
    following = [scheduler.tick(eight_berlin + n * DAY + 3 * SECOND) for n in (1, 2)]

    assert summary(first) == [
        ("viral", "11-25 07:00", "schedule", "anomaly"),
        ("quiet", "11-25 07:00", "schedule", "ok"),
    ]
    assert first[0].posted == ["anomaly"]
    assert [summary(day) for day in following] == [
        [("viral", f"11-{d} 07:00", "schedule", "anomaly"), ("quiet", f"11-{d} 07:00", "schedule", "ok")]
        for d in (26, 27)
    ]
    # The same anomalous day is news once, not every morning.
    assert [outcome.posted for day in following for outcome in day] == [[], [], [], []]
    assert len(channel_posts(fake_slack)) == 1
    assert scheduler.next_runs(eight_berlin + 2 * DAY + SECOND) == {
        "viral": datetime(2026, 11, 28, 7, tzinfo=UTC),
        "quiet": datetime(2026, 11, 28, 7, tzinfo=UTC),
    }


def test_missed_runs_are_caught_up_once_after_a_restart_and_only_within_the_window(
    make_runtime: Callable[..., Runtime], fake_slack: FakeSlack, tmp_path: Path
) -> None:
    path = alerts_file(tmp_path, orders_until("2025-01-31", name="hourly", schedule="'0 * * * *'"))
    runtime = make_runtime(alerts_file=path)
    ten = datetime(2026, 11, 25, 10, tzinfo=UTC)

    before_restart = scheduler_for(runtime, fake_slack).tick(ten + 5 * SECOND)
    # Down from 10:00 to 14:20: the 11, 12, 13 and 14 o'clock runs were missed.
    after_restart = scheduler_for(runtime, fake_slack)
    caught_up = after_restart.tick(ten + timedelta(hours=4, minutes=20))
    again_later = after_restart.tick(ten + timedelta(hours=4, minutes=21))
    another_restart = scheduler_for(runtime, fake_slack).tick(ten + timedelta(hours=4, minutes=25))
    short_window = scheduler_for(runtime, fake_slack, catch_up=timedelta(minutes=30))
    too_old = short_window.tick(ten + timedelta(hours=6, minutes=45))  # 16:00 was 45 minutes ago.

    assert summary(before_restart) == [("hourly", "11-25 10:00", "schedule", "ok")]
    assert summary(caught_up) == [("hourly", "11-25 14:00", "catch_up", "ok")]
    assert again_later == []
    assert summary(another_restart) == [("hourly", "11-25 14:00", "catch_up", "taken")]
    assert too_old == []
    runs = slack_alerts(runtime, fake_slack).runner.runs.runs("hourly")
    assert [(run.scheduled_for.hour, run.trigger) for run in runs] == [(14, "catch_up"), (10, "schedule")]


def test_a_long_gap_in_one_process_runs_the_latest_time_once(
    make_runtime: Callable[..., Runtime], fake_slack: FakeSlack, tmp_path: Path
) -> None:
    path = alerts_file(tmp_path, orders_until("2025-01-31", name="hourly", schedule="'0 * * * *'"))
    scheduler = scheduler_for(make_runtime(alerts_file=path), fake_slack)
    ten = datetime(2026, 11, 25, 10, tzinfo=UTC)
    scheduler.tick(ten + SECOND)
    # The machine slept for three hours.
    assert summary(scheduler.tick(ten + timedelta(hours=3, seconds=1))) == [
        ("hourly", "11-25 13:00", "schedule", "ok")
    ]


def test_the_background_scheduler_runs_due_alerts_on_its_own(
    make_runtime: Callable[..., Runtime], fake_slack: FakeSlack, tmp_path: Path
) -> None:
    path = alerts_file(tmp_path, orders_until("2024-06-12", name="viral"))
    configured = slack_alerts(make_runtime(alerts_file=path), fake_slack)
    scheduler = AlertScheduler(
        configured.loaded.alerts,
        configured.runner,
        catch_up=timedelta(hours=1),
        clock=lambda: MORNING + SECOND,
    )
    scheduler.start()
    try:
        deadline = time.monotonic() + 20
        while not channel_posts(fake_slack) and time.monotonic() < deadline:
            time.sleep(0.05)
    finally:
        scheduler.shutdown()
    assert len(channel_posts(fake_slack)) == 1
    assert [run.status for run in configured.runner.runs.runs("viral")] == ["anomaly"]


@pytest.mark.postgres
def test_two_bot_processes_on_postgresql_run_each_alert_time_once(
    make_runtime: Callable[..., Runtime], fake_slack: FakeSlack, postgres_url: str, tmp_path: Path
) -> None:
    path = alerts_file(
        tmp_path, orders_until("2024-06-12", name="viral"), orders_until("2025-01-31", name="quiet")
    )
    # Two processes: each its own runtime (engine, warehouse connection), runner and scheduler.
    schedulers = [
        scheduler_for(make_runtime(alerts_file=path, database_url=postgres_url), fake_slack) for _ in range(2)
    ]
    outcomes: list[RunOutcome] = []
    lock = threading.Lock()

    def tick(scheduler: AlertScheduler, now: datetime, start: threading.Barrier) -> None:
        start.wait()  # Both processes look at the clock at the same moment.
        done = scheduler.tick(now)
        with lock:
            outcomes.extend(done)

    for day in range(3):
        now, start = MORNING + day * DAY + SECOND, threading.Barrier(2)
        threads = [threading.Thread(target=tick, args=(scheduler, now, start)) for scheduler in schedulers]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=60)

    ran = sorted((o.alert, o.scheduled_for.day) for o in outcomes if o.status != "taken")
    taken = sorted((o.alert, o.scheduled_for.day) for o in outcomes if o.status == "taken")
    expected = sorted((name, 25 + day) for name in ("viral", "quiet") for day in range(3))
    assert ran == expected and taken == expected
    assert len(channel_posts(fake_slack)) == 1


def test_alerts_of_one_model_that_fire_in_the_same_run_share_one_message(
    make_runtime: Callable[..., Runtime], fake_slack: FakeSlack, tmp_path: Path
) -> None:
    path = alerts_file(
        tmp_path,
        orders_until("2024-06-12", name="orders_a"),
        orders_until("2024-06-12", name="orders_b", sensitivity="3.5"),
        orders_until("2025-01-31", name="orders_quiet"),
    )
    configured = slack_alerts(make_runtime(alerts_file=path), fake_slack)
    scheduler = AlertScheduler(configured.loaded.alerts, configured.runner, catch_up=timedelta(hours=1))

    outcomes = scheduler.tick(MORNING + SECOND)

    assert [(o.alert, o.posted) for o in outcomes] == [
        ("orders_a", ["anomaly"]),
        ("orders_b", ["anomaly"]),
        ("orders_quiet", []),
    ]
    [post] = channel_posts(fake_slack)
    assert "*Alert orders_a*" in post and "*Alert orders_b*" in post and "orders_quiet" not in post
    incidents = [configured.runner.incidents.latest(name) for name in ("orders_a", "orders_b")]
    assert len({(i.channel, i.message_ts) for i in incidents if i is not None}) == 1
