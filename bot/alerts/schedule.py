"""Cron schedules of alerts, read by APScheduler 3's crontab parser, and the fire times due in a window."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from apscheduler.triggers.cron import CronTrigger

# Enough for a once-a-minute schedule over a day; a window longer than that is cut to its latest times.
_MAX_FIRE_TIMES = 2000


def cron_trigger(cron: str, timezone: str) -> CronTrigger:
    """The trigger for a five-field crontab line in a time zone; ValueError says what is wrong."""
    fields = cron.split()
    if len(fields) != 5:
        raise ValueError(
            f"{cron!r} is not a cron schedule: expected 5 fields (minute hour day month weekday), "
            f"e.g. '0 8 * * *' for every day at 08:00; got {len(fields)}"
        )
    try:
        return CronTrigger.from_crontab(cron, timezone=ZoneInfo(timezone))
    except ValueError as exc:
        raise ValueError(f"{cron!r} is not a cron schedule: {exc}") from None


def check_schedule(cron: str, timezone: str) -> None:
    """The schedule check the alert definitions are validated with (see agent.alerts.definitions)."""
    cron_trigger(cron, timezone)


@dataclass(frozen=True)
class DueTimes:
    """The fire times in a window: the latest one, and how many there were in all."""

    latest: datetime | None
    count: int


def due_times(trigger: CronTrigger, after: datetime, until: datetime) -> DueTimes:
    """Fire times in (after, until], from the trigger's own get_next_fire_time."""
    latest: datetime | None = None
    count = 0
    moment = trigger.get_next_fire_time(None, after + timedelta(microseconds=1))
    while moment is not None and moment <= until and count < _MAX_FIRE_TIMES:
        latest, count = moment, count + 1
        moment = trigger.get_next_fire_time(moment, moment)
    if moment is not None and moment <= until:
        # A very long window: jump to its end rather than walk every minute of it.
        return due_times(trigger, until - timedelta(days=1), until)
    return DueTimes(latest, count)


def next_fire_time(trigger: CronTrigger, now: datetime) -> datetime | None:
    """The first fire time after `now`."""
    moment: datetime | None = trigger.get_next_fire_time(None, now + timedelta(microseconds=1))
    return moment
