"""Alarm scores: one alarm per run of bad points, and a change in behaviour noticed though no point is extreme."""

from __future__ import annotations

import math
from datetime import datetime, timedelta

import numpy as np
from matplotlib import dates as mdates

from agent.alerts.lifecycle import JudgedPoint, advance
from tools.anomalies import DEFAULT_SENSITIVITY, detect
from tools.anomalies.alarm_scores import first_of_run, shift_scores
from tools.anomalies.findings import noted_by_time
from tools.charts.anomaly_chart import anomaly_figure


def _five_minute_load(days: int, seed: int) -> tuple[list[datetime], np.ndarray]:
    rng = np.random.default_rng(seed)
    count = days * 288
    times = [datetime(2024, 5, 1) + timedelta(minutes=5 * n) for n in range(count)]
    daily = 50 + 20 * np.sin(np.arange(count) / 288 * 2 * math.pi)
    return times, daily + rng.normal(0, 2, count)


def _alarms(scores: list[float]) -> np.ndarray:
    return np.flatnonzero(np.nan_to_num(np.array(scores), nan=0.0) >= DEFAULT_SENSITIVITY)


def test_a_slow_hour_alarms_at_its_start_and_then_only_on_worse_points() -> None:
    times, values = _five_minute_load(10, seed=1)
    outage = slice(2000, 2012)  # an hour at a third of the load
    values[outage] /= 3
    detection = detect(times, values.tolist())
    findings = sum(1 for finding in detection.findings if times[2000] <= finding.at <= times[2011])
    assert findings >= 10
    alarms = [int(row) for row in _alarms(detection.alarm_scores) if 1990 <= row < 2100]
    assert alarms[0] == 2000 and len(alarms) <= findings // 2
    scores = np.array(detection.scores)
    assert all(scores[row] > scores[2000:row].max() for row in alarms[1:])  # each a new worst


def test_spikes_that_come_more_often_are_noticed_as_a_change() -> None:
    times, values = _five_minute_load(14, seed=2)
    every = np.arange(400, 2880, 144)  # a modest spike twice a day: routine once learnt
    denser = np.arange(2880, len(values), 12)  # then one an hour
    values[every] += 12
    values[denser] += 12
    detection = detect(times, values.tolist())
    alarms = _alarms(detection.alarm_scores)
    assert any(2880 <= row < 2880 + 288 for row in alarms)  # within a day of the change
    assert not any(1500 <= row < 2880 for row in alarms)  # the routine spikes alone raised nothing


def test_denser_spikes_open_an_incident_as_the_alerts_and_anomalies_command_report_it() -> None:
    """What the product raises follows the alarm scores: the change opens an incident (Detection.incidents, and a
    scheduled alert's lifecycle), the routine spikes before it none; a finding that is not an alarm opens none."""
    times, values = _five_minute_load(14, seed=2)
    values[np.arange(400, 2880, 144)] += 12
    values[np.arange(2880, len(values), 12)] += 12
    detection = detect(times, values.tolist())
    starts = [times.index(incident.start) for incident in detection.incidents]
    assert any(2880 <= row < 2880 + 288 for row in starts)
    assert not any(1500 <= row < 2880 for row in starts)
    by_time = noted_by_time(detection.findings, detection.alarms)
    points = [
        JudgedPoint(at, by_time.get(at), at in by_time and detection.opens_incident(by_time[at]))
        for at in times
    ]
    opened = [
        times.index(step.point)
        for change in advance(None, points, resolve_after=12, suppression=None)
        for step in change.steps
        if step.kind == "opened"
    ]
    alarm_rows = {times.index(alarm.at) for alarm in detection.alarms or ()}
    assert opened and set(opened) <= alarm_rows
    assert any(2880 <= row < 2880 + 288 for row in opened)
    assert len(detection.findings) > len(opened)  # findings within a run, or routine, opened nothing


def test_a_change_with_no_point_out_of_its_band_still_opens_an_incident_said_as_a_change() -> None:
    """A small level shift in a noisier stretch: no point is a finding, yet the change is an alarm, an incident,
    and its line says what it is."""
    times, values = _five_minute_load(14, seed=4)
    values[2880:] += 3  # the level up by 1.5 standard deviations of the noise
    rng = np.random.default_rng(5)
    values[2880:] += rng.normal(0, 1.1, len(values) - 2880)  # and noisier
    detection = detect(times, values.tolist())
    changes = [change for change in detection.changes_in_behaviour if change.at >= times[2880]]
    assert changes and changes[0].at <= times[2880 + 24]  # within two hours
    assert not any(finding.at == changes[0].at for finding in detection.findings)
    assert any(incident.start == changes[0].at for incident in detection.incidents)
    assert "a change in behaviour" in changes[0].explain("load")
    # The chart shows it too, as a dashed line where it was noticed (no red point: no value left its range).
    # (Up to a day after the change, so that it is among the last 800 points a chart draws.)
    day_after = detect(times[: 2880 + 288], values[: 2880 + 288].tolist())
    axes = anomaly_figure(day_after, title="load", metric="load").axes[0]
    legend = [text.get_text() for text in axes.get_legend().get_texts()]
    drawn_from = times[2880 + 288 - 800]
    shifts = [change for change in day_after.changes_in_behaviour if change.at >= drawn_from]
    assert changes[0] in shifts
    assert f"change{'' if len(shifts) == 1 else 's'} in behaviour ({len(shifts)})" in legend
    lines = [line for line in axes.get_lines() if line.get_linestyle() == "--"]
    assert [mdates.num2date(line.get_xdata()[0]).replace(tzinfo=None) for line in lines] == [
        s.at for s in shifts
    ]


def test_a_quiet_series_raises_no_alarm() -> None:
    times, values = _five_minute_load(14, seed=3)
    assert len(_alarms(detect(times, values.tolist()).alarm_scores)) == 0


def test_first_of_run_keeps_only_points_worse_than_the_recent_ones() -> None:
    scores = np.array([0.0, 5.0, 6.0, 5.5, 0.0, 0.0, 0.0, 5.0])
    assert first_of_run(scores, 3).tolist() == [0.0, 5.0, 6.0, 0.0, 0.0, 0.0, 0.0, 5.0]


def test_shift_scores_use_only_the_points_up_to_each() -> None:
    rng = np.random.default_rng(4)
    scores = np.abs(rng.normal(0, 1, 3000))
    scores[2000:] += 1.5
    whole = shift_scores(scores, 12)
    for end in (1500, 2001, 2050, 2999):
        assert np.allclose(shift_scores(scores[:end], 12), whole[:end])
    assert whole[:2000].max() < whole[2000:2100].max()


def test_a_spike_at_about_the_same_time_every_day_becomes_a_pattern() -> None:
    times, values = _five_minute_load(12, seed=5)
    nightly = [day * 288 + 30 + 2 * day for day in range(12)]  # a nightly job, a little later each day
    values[nightly] += 40
    values[8 * 288 + 150] += 40  # the same spike at a new time of day
    detection = detect(times, values.tolist())
    scores = np.array(detection.scores)
    # Once seen on three of the last six days, it is routine: at most as far out as the band's edge.
    assert scores[nightly[5:]].max() < DEFAULT_SENSITIVITY * 1.1
    assert scores[8 * 288 + 150] > 2 * DEFAULT_SENSITIVITY
    assert times[8 * 288 + 150] in {finding.at for finding in detection.findings}
