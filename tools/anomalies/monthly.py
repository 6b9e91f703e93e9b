"""Day-of-month seasonality for daily series: paydays, the first of the month, month-end closing.

The weekly model compares a day with the same weekday in past weeks, so a day that is always busy because of its
place in the month (the 1st, the 15th, the last day) would be an anomaly every month. Each day is given its place
in the month, counted from the start in the first half (the 1st, the 15th) and from the end in the second (the
last day, whatever the month's length). A day's expected value moves by the median of the weekly model's errors on
the same place in the past months, once three of them are known and only when that median is clearly more than
noise (a median of n errors of spread σ has a standard error of about 1.25σ/√n). Only past days are used, so
verdicts stay online.
"""

from __future__ import annotations

from datetime import date

import numpy as np
from numpy.typing import NDArray

from tools.anomalies.seasonal import FloatArray

_MONTHS = 6  # how many past months vote on a place's effect
# Days of errors before the first judged day that the effects are learnt from: the last _MONTHS months.
LOOKBACK_DAYS = 31 * _MONTHS
_MIN_MONTHS = 3  # a place seen fewer times than this has no effect yet
_MEDIAN_STANDARD_ERROR = 1.2533  # a normal median's standard error, in σ/√n
_CLEARLY = 3.0  # an effect counts when its median is this many standard errors from zero


def month_places(start: date, count: int) -> NDArray[np.int64]:
    """Each day's place in its month: 1..15 from the start, -1 (the last day), -2, ... from the end after that."""
    days = np.datetime64(start, "D") + np.arange(count)
    months = days.astype("datetime64[M]")
    day_of_month = (days - months.astype("datetime64[D]")).astype(np.int64) + 1
    month_length = ((months + 1).astype("datetime64[D]") - months.astype("datetime64[D]")).astype(np.int64)
    return np.asarray(
        np.where(day_of_month <= 15, day_of_month, day_of_month - month_length - 1), dtype=np.int64
    )


def month_effects(errors: FloatArray, scale: FloatArray, places: NDArray[np.int64], first: int) -> FloatArray:
    """Per point from `first` on, the shift of its expected value for its place in the month (0 where none).

    `errors` are the weekly model's errors (value minus expected, NaN where unknown) on the same grid, `scale` its
    noise scale per point; only errors before each point are used.
    """
    # One row per place, its days (one a month) in time order along the row: all places at once.
    order = np.lexsort((np.arange(len(places)), places))
    grouped = places[order]
    starts = np.flatnonzero(np.concatenate(([True], grouped[1:] != grouped[:-1])))
    row = np.cumsum(np.concatenate(([False], grouped[1:] != grouped[:-1])))
    column = np.arange(len(order)) - starts[row]
    members = np.full((len(starts), int(column.max(initial=0)) + 1), -1)
    members[row, column] = order
    present = members >= 0
    member_errors = np.where(present, errors[np.maximum(members, 0)], np.nan)
    known = ~np.isnan(member_errors)
    # The known errors of each row first, in time order; before[r, k]: how many of them precede member k.
    compact = np.take_along_axis(member_errors, np.argsort(~known, axis=1, kind="stable"), axis=1)
    before = np.cumsum(known, axis=1) - known
    # For each member, the errors of up to _MONTHS known members before it (NaN-padded on the left).
    padded = np.concatenate((np.full((len(starts), _MONTHS), np.nan), compact), axis=1)
    recent = padded[np.arange(len(starts))[:, None, None], before[:, :, None] + np.arange(_MONTHS)]
    count = np.minimum(before, _MONTHS)
    ordered = np.sort(recent, axis=2)  # NaN last
    low = np.take_along_axis(ordered, np.maximum((count - 1) // 2, 0)[:, :, None], axis=2)[:, :, 0]
    high = np.take_along_axis(ordered, np.maximum(count // 2, 0)[:, :, None], axis=2)[:, :, 0]
    effect = (low + high) / 2
    noise = _MEDIAN_STANDARD_ERROR * scale[np.maximum(members, 0)] / np.sqrt(np.maximum(count, 1))
    clear = present & (count >= _MIN_MONTHS) & (members >= first) & (np.abs(effect) > _CLEARLY * noise)
    result: FloatArray = np.zeros(len(errors))
    result[members[clear]] = effect[clear]
    return result
