"""A series' own record sets its bar: a score it reaches often counts for less, a rare one stays as it was."""

from __future__ import annotations

from datetime import datetime, timedelta

import numpy as np

from tools.anomalies import DEFAULT_SENSITIVITY, detect
from tools.anomalies.alarm_rarity import RARITY_PER_DAY, discount_common

_START = datetime(2024, 5, 1)


def _hours(count: int) -> list[datetime]:
    return [_START + timedelta(hours=hour) for hour in range(count)]


def test_a_score_reached_often_before_counts_for_less() -> None:
    times = _hours(24 * 10)
    alarms = np.zeros(len(times))
    alarms[::6] = 6.0  # the same score four times a day: ten times the usual rate
    discounted = discount_common(alarms, times)
    assert discounted[0] == 6.0  # nothing before it
    late = discounted[-6]
    assert late < 6.0 * 0.6 and late < DEFAULT_SENSITIVITY  # routine by now: no alarm
    assert np.all(np.diff(discounted[::6][4:]) <= 1e-12)  # ever more common, ever less news


def test_a_rare_score_and_a_new_worst_are_left_alone() -> None:
    times = _hours(24 * 20)
    alarms = np.zeros(len(times))
    alarms[24 * 3 :: 24 * 4] = 5.0  # once every four days: rarer than RARITY_PER_DAY
    alarms[-1] = 9.0  # worse than anything before
    discounted = discount_common(alarms, times)
    assert RARITY_PER_DAY > 1 / 4
    assert np.array_equal(discounted, alarms)


def test_it_uses_only_the_alarm_scores_before_each_point() -> None:
    rng = np.random.default_rng(3)
    times = _hours(24 * 30)
    alarms = np.where(rng.random(len(times)) < 0.2, rng.uniform(1, 12, len(times)), 0.0)
    alarms[:5] = np.nan  # not judged yet
    whole = discount_common(alarms, times)
    for end in (7, 100, 333, len(times) - 1):
        assert np.array_equal(discount_common(alarms[:end], times[:end]), whole[:end], equal_nan=True)


def test_a_quiet_series_keeps_the_full_score_of_its_one_spike() -> None:
    rng = np.random.default_rng(7)
    count = 288 * 8
    times = [_START + timedelta(minutes=5 * n) for n in range(count)]
    values = 50 + rng.normal(0, 2, count)
    values[-100] += 25
    detection = detect(times, values.tolist())
    assert detection.alarm_scores[-100] == detection.scores[-100] > DEFAULT_SENSITIVITY
