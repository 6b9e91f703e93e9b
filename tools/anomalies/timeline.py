"""Where a series' points fall in time: its step (hour, day, month...), its grid and its seasonal cycle."""

from __future__ import annotations

import itertools
from datetime import datetime, timedelta
from typing import Literal

import numpy as np
from numpy.typing import NDArray

from tools.anomalies.errors import DetectionInputError

Grain = Literal["hour", "day"]

HOUR = timedelta(hours=1)
DAY = timedelta(days=1)
_WEEK = timedelta(days=7)
# Months differ in length, so a monthly series is placed by calendar month, not by a fixed step.
_MONTH = timedelta(days=30)


def step_of(times: list[datetime], grain: Grain | None) -> timedelta:
    """The spacing of the points: the given grain, else inferred (hour, day, month or whatever it is)."""
    if grain == "hour":
        return HOUR
    if grain == "day":
        return DAY
    if grain is not None:
        raise DetectionInputError(f"grain must be 'hour' or 'day', got {grain!r}.")
    gaps = sorted(later - earlier for earlier, later in itertools.pairwise(times))
    # The smallest common gap, not the median: a daily series with missing days is still daily.
    typical = gaps[len(gaps) // 4]
    if typical <= timedelta(0):
        raise DetectionInputError("Timestamps must be distinct.")
    for known in (HOUR, DAY):
        if abs(typical - known) <= known / 10:
            return known
    if timedelta(days=27) <= typical <= timedelta(days=32):
        return _MONTH
    return typical


def grain_name(step: timedelta) -> Grain | None:
    """ "hour" or "day" for those steps, None otherwise."""
    return "hour" if step == HOUR else "day" if step == DAY else None


def period_name(step: timedelta) -> str:
    """What one step is called in messages: hour, day, week, month, else point."""
    names = {HOUR: "hour", DAY: "day", _WEEK: "week", _MONTH: "month"}
    return names.get(step, "point")


def seasonal_period(step: timedelta, points: int) -> int:
    """The seasonal cycle in points: a week if the series holds three (hours vary by weekday as well as by hour,
    and a weekend must not look like an outage), else a day, else none; for months, a year."""
    if step == _MONTH:
        return 12 if points >= 36 else 1
    for cycle in (_WEEK, DAY):
        length = cycle / step
        if length >= 2 and abs(length - round(length)) < 1e-6 and points >= 3 * length:
            return round(length)
    return 1


def grid_positions(times: list[datetime], step: timedelta) -> NDArray[np.int64]:
    """Each point's place on a regular grid from the first point; missing periods are simply skipped places."""
    start = times[0]
    if step == _MONTH:
        months = [(moment.year - start.year) * 12 + moment.month - start.month for moment in times]
        positions = np.array(months, dtype=np.int64)
    else:
        positions = np.array([round((moment - start) / step) for moment in times], dtype=np.int64)
    if len(np.unique(positions)) != len(positions):
        raise DetectionInputError(
            f"Several timestamps fall in the same {period_name(step)}: aggregate to one value each first."
        )
    return positions
