"""Where a series' points fall in time: its step (hour, day, month...), its grid and its seasonal cycle.

The grid rule, for any timestamps: the step is the smallest common spacing (the lower quartile of the positive
gaps), each point goes to the nearest step from the first point (by calendar month for monthly series), points
sharing a step (duplicates, a daylight-saving repeat, an irregular sampler) are averaged into one value, and
steps without points are gaps that the model skips. Nothing is refused.
"""

from __future__ import annotations

import itertools
from datetime import datetime, timedelta
from typing import Literal

import numpy as np
from numpy.typing import NDArray

from tools.anomalies.errors import DetectionInputError

FloatArray = NDArray[np.float64]

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
    gaps = sorted(later - earlier for earlier, later in itertools.pairwise(times) if later > earlier)
    if not gaps:  # one moment so far: nothing to tell the spacing by, and a day is the usual business grain
        return DAY
    # The smallest common gap, not the median: a daily series with missing days is still daily.
    typical = gaps[len(gaps) // 4]
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


# A cycle of this many points or more has its shape measured by many points, so one cycle seen is enough to
# forecast from (a day of 5-minute or hourly points); a shorter one (a week of days, one noisy value per weekday)
# needs two.
DETAILED_CYCLE = 24


def cycles_to_forecast(period: int) -> int:
    """How many past cycles a seasonal forecast needs (see DETAILED_CYCLE)."""
    return 1 if period >= DETAILED_CYCLE else 2


def seasonal_period(step: timedelta, points: int) -> int:
    """The seasonal cycle in points: a week once enough of it is known (hours vary by weekday as well as by hour,
    and a weekend must not look like an outage), else a day, else none; for months, a year.

    Enough: two cycles, or for a detailed cycle one and a quarter (one to forecast from, a quarter to learn errors on)."""
    if step == _MONTH:
        return 12 if points >= 24 else 1
    for cycle in (_WEEK, DAY):
        length = cycle / step
        if (
            length >= 2
            and abs(length - round(length)) < 1e-6
            and points >= (1.25 if length >= DETAILED_CYCLE else 2) * length
        ):
            return round(length)
    return 1


def grid_positions(times: list[datetime], step: timedelta) -> NDArray[np.int64]:
    """Each point's place on a regular grid from the first point (several points may share a place)."""
    start = times[0]
    if step == _MONTH:
        months = [(moment.year - start.year) * 12 + moment.month - start.month for moment in times]
        return np.array(months, dtype=np.int64)
    return np.array([round((moment - start) / step) for moment in times], dtype=np.int64)


class GridPlaces:
    """A series' grid positions for each step it is seen with, each computed once for the whole series: a prefix's
    positions are the first ones of the whole (both count from the first point)."""

    def __init__(self, times: list[datetime]) -> None:
        self._times = times
        self._by_step: dict[timedelta, NDArray[np.int64]] = {}

    def first(self, count: int, step: timedelta) -> NDArray[np.int64]:
        """The positions of the first `count` points on the grid of `step`."""
        if step not in self._by_step:
            self._by_step[step] = grid_positions(self._times, step)
        return self._by_step[step][:count]


def place_on_grid(positions: NDArray[np.int64], values: FloatArray) -> FloatArray:
    """One value per grid place: the mean of the points there, NaN where there are none."""
    known = ~np.isnan(values)
    size = int(positions[-1]) + 1 if len(positions) else 0
    totals = np.bincount(positions[known], weights=values[known], minlength=size)
    counts = np.bincount(positions[known], minlength=size)
    grid: FloatArray = np.full(size, np.nan)
    np.divide(totals, counts, out=grid, where=counts > 0)
    return grid
