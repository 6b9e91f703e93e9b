"""Runs alerts on their cron schedules inside the bot process, with a clock tests can drive.

Every tick looks at each alert's fire times since the previous tick (since `now - catch_up` at start) and runs
only the latest of them: a bot that was down for three hourly runs catches up once, not three times, and a run
missed longer ago than the catch-up window is left alone. Which process runs a given (alert, time) is settled
by the database (agent.alerts.runs), so several bot processes can tick side by side.

In the bot, APScheduler 3's BackgroundScheduler calls `tick` every few seconds and runs each due alert in its
worker pool; tests call `tick(now)` themselves and get the outcomes back.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.cron import CronTrigger

from agent.alerts.definitions import AlertDefinition
from agent.alerts.runner import AlertRunner, RunOutcome
from agent.alerts.runs import RunTrigger
from agent.clock import utc_now
from bot.alerts.schedule import cron_trigger, due_times, next_fire_time

log = logging.getLogger(__name__)

TICK_SECONDS = 15
_WORKERS = 4

Clock = Callable[[], datetime]


@dataclass(frozen=True)
class DueRun:
    """An alert to run for one scheduled time."""

    alert: AlertDefinition
    scheduled_for: datetime
    trigger: RunTrigger


class AlertScheduler:
    """Decides which alert runs are due at `now` and runs them through the runner."""

    def __init__(
        self,
        alerts: Sequence[AlertDefinition],
        runner: AlertRunner,
        *,
        catch_up: timedelta,
        clock: Clock = utc_now,
    ) -> None:
        self._alerts = list(alerts)
        self._runner = runner
        self._catch_up = catch_up
        self._clock = clock
        self._triggers: dict[str, CronTrigger] = {
            alert.name: cron_trigger(alert.schedule, alert.timezone) for alert in self._alerts
        }
        self._checked_until: dict[str, datetime] = {}
        self._background: BackgroundScheduler | None = None

    def due_runs(self, now: datetime) -> list[DueRun]:
        """The runs due at `now`: per alert, the latest fire time since the last look (or within catch-up)."""
        due = []
        for alert in self._alerts:
            previous = self._checked_until.get(alert.name)
            window_start = now - self._catch_up if previous is None else max(previous, now - self._catch_up)
            found = due_times(self._triggers[alert.name], window_start, now)
            self._checked_until[alert.name] = now
            if found.latest is None:
                continue
            # Late by more than a tick or two: this run makes up for one the bot missed while it was down.
            catching_up = now - found.latest > timedelta(seconds=2 * TICK_SECONDS)
            if found.count > 1:
                log.info(
                    "alert %s: %d runs due, only the one of %s runs", alert.name, found.count, found.latest
                )
            due.append(DueRun(alert, found.latest, "catch_up" if catching_up else "schedule"))
        return due

    def tick(self, now: datetime | None = None) -> list[RunOutcome]:
        """Run every due alert now, one group after another, and return what each did (tests drive this)."""
        moment = now or self._clock()
        return [outcome for group in grouped(self.due_runs(moment)) for outcome in self._run(group)]

    def next_runs(self, now: datetime | None = None) -> dict[str, datetime | None]:
        """Each alert's next scheduled time."""
        moment = now or self._clock()
        return {name: next_fire_time(trigger, moment) for name, trigger in self._triggers.items()}

    def start(self) -> None:
        """Tick in the background every few seconds; due alerts run in a small worker pool."""
        if self._background is not None or not self._alerts:
            return
        scheduler = BackgroundScheduler(
            timezone=UTC,
            executors={"default": ThreadPoolExecutor(_WORKERS)},
            job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": TICK_SECONDS},
        )
        scheduler.add_job(
            self._tick_in_background,
            "interval",
            seconds=TICK_SECONDS,
            id="alerts-tick",
            next_run_time=utc_now(),  # APScheduler's own timing is real time, whatever `clock` says.
        )
        # Set before start(): the first tick runs at once, on the scheduler's thread, and needs it.
        self._background = scheduler
        scheduler.start()
        log.info("alerts: %d scheduled, checked every %d s", len(self._alerts), TICK_SECONDS)

    def shutdown(self, wait: bool = True) -> None:
        """Stop ticking; with `wait`, let alert runs in progress finish."""
        if self._background is not None:
            self._background.shutdown(wait=wait)
            self._background = None

    def _tick_in_background(self) -> None:
        scheduler = self._background
        if scheduler is None:
            return
        for group in grouped(self.due_runs(self._clock())):
            # One job per group, so that a slow warehouse query for one model does not hold up the others.
            names = "+".join(due.alert.name for due in group)
            scheduler.add_job(
                self._run, args=[group], id=f"alert:{names}:{group[0].scheduled_for.isoformat()}"
            )

    def _run(self, group: list[DueRun]) -> list[RunOutcome]:
        first = group[0]
        outcomes = self._runner.run_group([due.alert for due in group], first.scheduled_for, first.trigger)
        for outcome in outcomes:
            log.info(
                "alert %s (%s, %s): %s",
                outcome.alert,
                outcome.scheduled_for,
                outcome.trigger,
                outcome.message,
            )
        return outcomes


def grouped(due: list[DueRun]) -> list[list[DueRun]]:
    """Runs of alerts on one model at one time together (their incidents share a message); others alone."""
    groups: dict[tuple[str, datetime, str], list[DueRun]] = {}
    for position, run in enumerate(due):
        model = run.alert.model or f"#{position}"
        groups.setdefault((model, run.scheduled_for, run.trigger), []).append(run)
    return list(groups.values())
