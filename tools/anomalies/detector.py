"""Seasonal, robust anomaly detection for a business metric's time series.

Each point is judged from its past only, the way an alert sees it: its expected value is the median of the same
phase (same weekday, same hour) in the previous cycles, corrected by the median past forecast error (which
follows a trend); the band around it is `sensitivity` standard deviations of those errors, measured without the
ones beyond three median absolute deviations (and within a day, at least those of the same hours), and widened
by Student's t while few are known. So a past outage neither shifts what is expected nor widens the band, and
every Monday is compared with earlier Mondays; a daily series' place in the month (the 1st, the 15th, the last
day) moves its expected value once that place has been clearly different in past months (monthly.py). The model
is in seasonal.py, the choice of scale (logs, counts) in
transforms.py. Step, scale and cycle are chosen from the history before each stretch of points (choices.py), so
one run over a series gives the verdicts a run at every point would; timestamps are put on a grid by the rule in
timeline.py (nothing is refused).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import cached_property
from typing import Literal, SupportsFloat

import numpy as np
from numpy.typing import NDArray

from tools.anomalies.alarm_rarity import discount_common
from tools.anomalies.alarm_scores import alarm_scores
from tools.anomalies.choices import Stretch, stretches
from tools.anomalies.errors import DetectionInputError
from tools.anomalies.findings import Criteria, Direction, Finding, Incident, group_incidents
from tools.anomalies.formatting import format_change, format_moment, format_number
from tools.anomalies.monthly import LOOKBACK_DAYS, month_effects, month_places
from tools.anomalies.seasonal import CausalSeasonalModel, FloatArray
from tools.anomalies.timeline import (
    DAY,
    HOUR,
    Grain,
    GridPlaces,
    grain_name,
    period_name,
    place_on_grid,
    step_of,
)

# Robust standard deviations from the expected value that make a point an anomaly. Four, not the textbook three:
# on the planted benchmark (benchmarks/bench_anomalies.py) 3 flags one normal day in ~280, more than one false
# alarm a year on every daily metric, too many for a Slack channel (precision 0.61); 4 flags one in ~8,800
# (precision 0.98) and still finds 95% of the planted ±25–60% jumps.
DEFAULT_SENSITIVITY = 4.0


@dataclass(frozen=True)
class Detection:
    """A checked series: per point its expected value and band (NaN where unknown), and the anomalies."""

    timestamps: list[datetime]
    values: list[float]
    expected: list[float]
    low: list[float]
    high: list[float]
    findings: list[Finding]
    grain: Grain | None = None
    period_name: str = "point"  # what one step is called: hour, day, week, month or point
    scores: list[float] = field(default_factory=list)  # per point: distance from expected in band units
    incidents: list[Incident] = field(default_factory=list)  # findings grouped, one alarm each
    # per point: the score a stream of alarms is raised on (first of a run, or a change in behaviour; alarm_scores.py),
    # less where the series often reached it before (alarm_rarity.py)
    alarm_scores: list[float] = field(default_factory=list)
    # the points whose alarm score passes the sensitivity: what opens an incident (a finding, or a change in
    # behaviour); None where every finding is one (a fixed limit rather than this detector)
    alarms: list[Finding] | None = None

    def opens_incident(self, finding: Finding) -> bool:
        """Whether this finding or shift is an alarm: news, not the rest of a run or what the series often does."""
        return self._alarm_times is None or finding.at in self._alarm_times

    @property
    def changes_in_behaviour(self) -> list[Finding]:
        """The alarms raised on a change in behaviour: no point out of its band, yet the latest stray more."""
        return [alarm for alarm in self.alarms or () if alarm.kind == "shift"]

    @cached_property
    def _alarm_times(self) -> frozenset[datetime] | None:
        return None if self.alarms is None else frozenset(alarm.at for alarm in self.alarms)

    def latest_findings(self, last_n: int = 1) -> list[Finding]:
        """The findings among the last `last_n` points (what an alert about "now" reports)."""
        if last_n <= 0 or not self.timestamps:
            return []
        since = self.timestamps[-min(last_n, len(self.timestamps))]
        return [finding for finding in self.findings if finding.at >= since]

    @property
    def judged_points(self) -> int:
        """How many points had enough history to be judged."""
        return sum(1 for value in self.expected if not math.isnan(value))


def detect(
    timestamps: Sequence[datetime],
    values: Sequence[float],
    *,
    grain: Grain | None = None,
    sensitivity: float = DEFAULT_SENSITIVITY,
    min_history: int = 14,
    direction: Direction = "both",
    min_change: float = 0.0,
    min_relative_change: float = 0.0,
) -> Detection:
    """Judge every point from the points before it; `grain` None infers the step from the spacing.

    Only departures in `direction` that differ from the expected value by at least `min_change` (in the metric's
    units) and `min_relative_change` (a share of the expected value) are findings.
    """
    if len(timestamps) != len(values):
        raise DetectionInputError(
            f"Got {len(timestamps)} timestamps but {len(values)} values; they must pair up."
        )
    if sensitivity <= 0:
        raise DetectionInputError(
            f"sensitivity must be positive ({DEFAULT_SENSITIVITY:g} is the default), got {sensitivity}."
        )
    if grain not in (None, "hour", "day"):
        raise DetectionInputError(f"grain must be 'hour' or 'day', got {grain!r}.")
    order = sorted(
        range(len(timestamps)), key=lambda index: timestamps[index]
    )  # stable: repeats keep their order
    times = [timestamps[index] for index in order]
    raw = np.array([_as_float(values[index]) for index in order], dtype=np.float64)
    known = int(np.count_nonzero(~np.isnan(raw)))
    if known < min_history + 1:
        raise DetectionInputError(
            f"Not enough history: {known} points with values, at least {min_history + 1} are needed "
            f"({min_history} to learn from and one to check). Widen the time range."
        )
    verdicts = [np.full(len(times), np.nan) for _ in range(4)]  # expected, low, high, score
    final_step = None
    # (start, end, points in an occasion, whether changes in behaviour count) of stretches in a row
    occasions: list[tuple[int, int, int, bool]] = []
    grid_places = GridPlaces(times)
    for stretch in stretches(times, raw, grain, min_history, grid_places):
        judged = _judge_stretch(
            times[: stretch.end], raw[: stretch.end], stretch, sensitivity, min_history, grid_places
        )
        for whole, part in zip(verdicts, judged, strict=True):
            whole[stretch.start : stretch.end] = part
        occasion_points = max(1, round(HOUR / stretch.choices.step))
        shifts_count = stretch.choices.step < DAY
        if occasions and occasions[-1][2:] == (occasion_points, shifts_count):
            occasions[-1] = (occasions[-1][0], stretch.end, occasion_points, shifts_count)
        else:
            occasions.append((stretch.start, stretch.end, occasion_points, shifts_count))
        final_step = stretch.choices.step
    expected, low, high, score = verdicts
    alarms = np.full(len(times), np.nan)
    # Each stretch's alarm scores from the scores up to it, with its step.
    for start, end, occasion_points, shifts_count in occasions:
        alarms[start:end] = alarm_scores(score[:end], occasion_points, shifts_count)[start:]
    alarms = discount_common(alarms, times)  # each from the alarm scores before it: online too
    # A count or an amount never goes below zero, so neither does its range (as far as the past tells).
    lowest_before = np.concatenate(([np.inf], np.fmin.accumulate(np.nan_to_num(raw, nan=np.inf))[:-1]))
    low = np.where(lowest_before >= 0, np.maximum(low, 0.0), low)
    wanted = Criteria(sensitivity, direction, min_change, min_relative_change)
    points = _PointVerdicts(times, raw, expected, low, high, score)
    findings = _findings(points, wanted)
    raised = _alarms(points, alarms, findings, wanted)
    step = final_step or step_of(times, grain)
    return Detection(
        timestamps=times,
        values=raw.tolist(),
        expected=expected.tolist(),
        low=low.tolist(),
        high=high.tolist(),
        findings=findings,
        grain=grain_name(step),
        period_name=period_name(step),
        scores=score.tolist(),
        incidents=group_incidents(findings, step, raised),
        alarm_scores=alarms.tolist(),
        alarms=raised,
    )


def _judge_stretch(
    times: list[datetime],
    raw: FloatArray,
    stretch: Stretch,
    sensitivity: float,
    min_history: int,
    grid_places: GridPlaces,
) -> tuple[FloatArray, FloatArray, FloatArray, FloatArray]:
    """Expected value, band and score of the stretch's points, from the points before each (`times` ends with it)."""
    choices = stretch.choices
    if choices.period == 1 and _day_cycle_possible(choices.step):
        # Points within a day are judged once the day's cycle can be learnt (seasonal_period), not before: a
        # night and a busy morning are not anomalies, however new.
        return tuple(np.full(stretch.end - stretch.start, np.nan) for _ in range(4))  # type: ignore[return-value]
    positions = grid_places.first(len(times), choices.step)
    transform = choices.transform
    with np.errstate(invalid="ignore", divide="ignore"):
        modelled_points = transform.forward(raw)
    grid = place_on_grid(positions, modelled_points)
    model = CausalSeasonalModel(
        period=choices.period,
        min_history=min_history,
        occasion_points=max(1, round(HOUR / choices.step)),
        day_points=max(1, round(DAY / choices.step)),
    )
    judged = positions[stretch.start :]
    by_month = choices.step == DAY and choices.period > 1  # daily, once the weekly cycle is known
    # Day-of-month effects are learnt from the weekly model's errors on the months before, so those are needed too.
    expected_grid, scale_grid = model.fit(
        grid,
        sensitivity=sensitivity,
        scale_floor=transform.scale_floor,
        first=max(int(judged[0]) - LOOKBACK_DAYS, 0) if by_month else int(judged[0]),
        band_from=int(judged[0]),  # before it, month_effects needs only the expected values
    )
    if by_month:
        places = month_places(times[0].date(), len(grid))
        expected_grid = expected_grid + month_effects(
            grid - expected_grid, scale_grid, places, int(judged[0])
        )
    centre, scale = expected_grid[judged], scale_grid[judged]
    with np.errstate(invalid="ignore", divide="ignore"):
        score = np.abs(modelled_points[stretch.start :] - centre) / scale
    low = transform.backward(centre - sensitivity * scale)
    high = transform.backward(centre + sensitivity * scale)
    return transform.backward(centre), low, high, score


def _day_cycle_possible(step: timedelta) -> bool:
    steps_per_day = DAY / step
    return step < DAY and abs(steps_per_day - round(steps_per_day)) < 1e-6 and round(steps_per_day) >= 2


@dataclass(frozen=True)
class _PointVerdicts:
    """Per point, in time order: its moment, value, expected value, band and score."""

    times: list[datetime]
    raw: FloatArray
    expected: FloatArray
    low: FloatArray
    high: FloatArray
    score: FloatArray

    def finding_at(
        self, index: int, score: float, kind: Literal["departure", "shift"] = "departure"
    ) -> Finding:
        value, centre = float(self.raw[index]), float(self.expected[index])
        return Finding(
            at=self.times[index],
            value=value,
            expected=centre,
            low=float(self.low[index]),
            high=float(self.high[index]),
            direction="above" if value > centre else "below",
            change=_relative_change(value, centre),
            score=score,
            kind=kind,
        )


def _findings(points: _PointVerdicts, wanted: Criteria) -> list[Finding]:
    outside: NDArray[np.bool_] = (points.score > wanted.sensitivity) & ~np.isnan(points.score)
    findings = []
    for index in np.flatnonzero(outside):
        finding = points.finding_at(int(index), float(points.score[index]))
        if wanted.admits(finding):
            findings.append(finding)
    return findings


def _alarms(
    points: _PointVerdicts, alarm_score: FloatArray, findings: list[Finding], wanted: Criteria
) -> list[Finding]:
    """The points whose alarm score passes the sensitivity: the finding there, or else a change in behaviour
    (scored by its alarm score); a point outside its band that the criteria turned down stays turned down."""
    found = {finding.at: finding for finding in findings}
    raised = []
    for index in np.flatnonzero(np.nan_to_num(alarm_score, nan=0.0) > wanted.sensitivity):
        at = points.times[index]
        if at in found:
            raised.append(found[at])
            continue
        if points.score[index] > wanted.sensitivity:
            continue
        shift = points.finding_at(int(index), float(alarm_score[index]), "shift")
        if wanted.admits(shift):
            raised.append(shift)
    return raised


def _relative_change(value: float, expected: float) -> float:
    if abs(expected) < 1e-9:  # nothing was expected: a relative change means nothing, say "from about zero"
        return math.copysign(math.inf, value - expected)
    return (value - expected) / abs(expected)


def _as_float(value: object) -> float:
    if value is None:
        return math.nan
    # Text and booleans convert to floats too ("12", True); as metric values they are a mistake to report.
    # (The float check comes first because checking a Protocol is slow.)
    if not isinstance(value, float) and (
        isinstance(value, (str, bytes, bool)) or not isinstance(value, SupportsFloat)
    ):
        raise DetectionInputError(f"Values must be numbers; got {value!r} ({type(value).__name__}).")
    number = float(value)
    if math.isinf(number):
        raise DetectionInputError(f"Values must be finite; got {number} (leave missing points out or None).")
    return number


__all__ = [
    "DEFAULT_SENSITIVITY",
    "Detection",
    "DetectionInputError",
    "Direction",
    "Finding",
    "Grain",
    "Incident",
    "detect",
    "format_change",
    "format_moment",
    "format_number",
]
