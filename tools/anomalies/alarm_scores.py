"""The score an alarm is raised on, made from the per-point scores of the points so far (so it is online too).

Two things a per-point score does not say, added from its own recent history:
- A run of bad points is one event. A point's score counts only when it is worse than every score of the
  last few occasions (hours of 5-minute points, days of daily ones); the rest of the run scores 0. So a slow
  hour alarms at its start and then only at points worse than all before them, not at each of its twelve.
- A change in behaviour shows as scores that are higher than usual for a while, even when no single point is
  far out (spikes that come more often, a noisier stretch, a small level shift). The mean score of the last
  occasion is compared with the mean and spread of such means over the last two weeks of occasions, in standard
  deviations; that distance is an alarm score of its own, counted once per day-long run, and only where it
  beats the departures of the last few occasions (a slow hour raises its hour's mean too: the same event).
The alarm score is the larger of the two. `Detection.findings` stay the per-point verdicts; the alarm scores are
what a stream of alarms (and NAB's per-row evaluation, benchmarks/nab_evaluation.py) is raised on.
"""

from __future__ import annotations

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view
from numpy.typing import NDArray

from tools.anomalies.seasonal import small_sample_widening

FloatArray = NDArray[np.float64]

# A departure's run: a point is news when it is worse than the scores of this many occasions before it.
RUN_OCCASIONS = 4
# A change in behaviour is news when its distance beats those of the last day of occasions.
SHIFT_RUN_OCCASIONS = 24
# Occasion means are compared with those of the last two weeks of occasions (two weekly cycles of hours)...
SHIFT_HISTORY_OCCASIONS = 336
# ...once ten occasions of them are known.
SHIFT_MIN_OCCASIONS = 10
# One extreme point must not dominate a mean: scores are capped at the default sensitivity (a clear anomaly).
SHIFT_SCORE_CAP = 4.0
# The spread of occasion means is at least this, so that a perfectly quiet past does not make noise news.
SHIFT_MIN_SPREAD = 0.05


def alarm_scores(scores: FloatArray, occasion_points: int, shifts_count: bool = True) -> FloatArray:
    """Per point: the larger of its first-of-run score and its first-of-run shift score (NaN where unjudged).

    `shifts_count` False leaves changes in behaviour out: for daily points, where an occasion is one point and
    its mean is that point's own score, so a shift says nothing a departure does not, and only adds false alarms
    (planted benchmark: precision 0.98 -> 0.75 with them).
    """
    if not shifts_count:
        # Daily points: a run is days in a row, as an incident is (quiet_period): a departure after a normal day
        # is news however bad the days before were.
        departures = first_of_run(np.nan_to_num(scores, nan=0.0), 1)
        return np.where(np.isnan(scores), np.nan, departures)
    run = RUN_OCCASIONS * occasion_points
    departures = first_of_run(np.nan_to_num(scores, nan=0.0), run)
    shifts = first_of_run(shift_scores(scores, occasion_points), SHIFT_RUN_OCCASIONS * occasion_points)
    # A departure raises the mean score of its hour too: that shift is the same event, already alarmed on.
    recent_departures = np.fmax(departures, _trailing_max(departures, run))
    shifts = np.where(shifts > recent_departures, shifts, 0.0)
    return np.where(np.isnan(scores), np.nan, np.fmax(departures, shifts))


def first_of_run(scores: FloatArray, points: int) -> FloatArray:
    """Each score where it beats every one of the `points` scores before it, else 0."""
    return np.where(scores > _trailing_max(scores, points), scores, 0.0)


def _trailing_max(scores: FloatArray, points: int) -> FloatArray:
    """The largest of the `points` scores before each point (0 before the start)."""
    padded = np.concatenate((np.zeros(points), scores))
    return np.asarray(sliding_window_view(padded, points)[: len(scores)].max(axis=1), dtype=np.float64)


def shift_scores(scores: FloatArray, occasion_points: int) -> FloatArray:
    """How far the mean score of the last occasion is above the usual, in standard deviations of such means.

    Only judged points (not NaN) count. The usual is measured once per occasion from the means that ended
    before the current occasion's own window began, so a point's shift score uses only the points up to it.
    """
    count = len(scores)
    judged = ~np.isnan(scores)
    capped = np.where(judged, np.minimum(scores, SHIFT_SCORE_CAP), 0.0)
    ends = np.arange(1, count + 1)
    begins = np.maximum(ends - occasion_points, 0)
    totals, seen = _window_sums(capped, begins, ends), _window_sums(judged.astype(np.float64), begins, ends)
    recent = np.where(seen > 0, totals / np.maximum(seen, 1), np.nan)
    # Each occasion's past: the recent means of the points from two weeks of occasions to one occasion before it.
    starts = np.arange(count) // occasion_points * occasion_points
    high = np.maximum(starts - occasion_points, 0)
    low = np.maximum(starts - SHIFT_HISTORY_OCCASIONS * occasion_points, 0)
    has_mean = ~np.isnan(recent)
    means = np.where(has_mean, recent, 0.0)
    known = _window_sums(has_mean.astype(np.float64), low, high)
    safe = np.maximum(known, 1)
    mean = _window_sums(means, low, high) / safe
    variance = _window_sums(np.square(means), low, high) / safe - np.square(mean)
    distance = (recent - mean) / np.maximum(np.sqrt(np.maximum(variance, 0.0)), SHIFT_MIN_SPREAD)
    # A spread measured from few occasions is loose (overlapping means are one occasion's worth of evidence),
    # so the distance is shrunk by Student's t, as the band is widened (seasonal.small_sample_widening).
    distance /= small_sample_widening(SHIFT_SCORE_CAP, known / occasion_points, efficiency=1.0)
    enough = (known >= SHIFT_MIN_OCCASIONS * occasion_points) & has_mean
    return np.where(enough, np.maximum(np.nan_to_num(distance), 0.0), 0.0)


def _window_sums(values: FloatArray, begins: NDArray[np.int64], ends: NDArray[np.int64]) -> FloatArray:
    """The sum of values[begin:end] for each pair, from one running total."""
    running = np.concatenate(([0.0], np.cumsum(values)))
    return np.asarray(running[ends] - running[begins], dtype=np.float64)
