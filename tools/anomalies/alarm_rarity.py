"""A series' own record as part of its alarm threshold: what it reaches often is news only when far worse.

A noisy server metric reaches an alarm score of 5 every few hours, a quiet business metric hardly ever; one
threshold for both is too strict for the one or too loose for the other. So each alarm score is measured
against the series' earlier alarm scores: when as high a score has come more often than `RARITY_PER_DAY` times a
day over the history so far (a rank among its own past, online), the score is divided by that excess to the
power `RARITY_EXPONENT` (ten times too common: about half). Scores a series rarely reaches are left alone, so a
quiet series alarms as before. Measured on NAB's development files (README, bench_anomalies).
"""

from __future__ import annotations

import bisect
from collections.abc import Sequence
from datetime import datetime, timedelta

import numpy as np
from numpy.typing import NDArray

FloatArray = NDArray[np.float64]

# As high an alarm score seen more often than this, per day of history, makes a score less news...
RARITY_PER_DAY = 0.4
# ...by the excess to this power (0.3: twice as common, 19% less; ten times, 50% less).
RARITY_EXPONENT = 0.3
# A rate needs a day of history: before that, a score is compared as if one day had passed.
_MIN_DAYS = 1.0


def discount_common(alarms: FloatArray, times: Sequence[datetime]) -> FloatArray:
    """Each positive alarm score divided by how much more often than usual the series reached it before."""
    rows = np.flatnonzero(np.nan_to_num(alarms, nan=0.0) > 0)
    if not len(rows):
        return alarms
    scores = alarms[rows]
    reached = np.zeros(len(rows))
    earlier: list[float] = []  # the positive scores so far, in order
    for index, score in enumerate(scores.tolist()):
        reached[index] = len(earlier) - bisect.bisect_left(earlier, score)
        bisect.insort(earlier, score)
    days = np.array([(times[row] - times[0]) / timedelta(days=1) for row in rows.tolist()])
    excess = np.maximum(reached / np.maximum(days, _MIN_DAYS) / RARITY_PER_DAY, 1.0)
    result = alarms.copy()
    result[rows] = scores / excess**RARITY_EXPONENT
    return result
