"""The choices a series' model rests on (step, scale, seasonal cycle), made from the history seen so far.

They are made again each time the history doubles, from the points before that moment only, and hold until the
next time. So a choice may change as a series grows (a weekly cycle once three weeks are known, plain values once
a zero appears), and the verdicts given before it changed stay as they were: running over a whole series gives
the same verdicts as running again at every point.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from tools.anomalies.timeline import Grain, GridPlaces, place_on_grid, seasonal_period, step_of
from tools.anomalies.transforms import FloatArray, Transform, choose_transform

_DAY, _WEEK = timedelta(days=1), timedelta(days=7)


@dataclass(frozen=True)
class ModelChoices:
    """What a stretch of verdicts was made with."""

    step: timedelta
    transform: Transform
    period: int  # the seasonal cycle in steps (1: none yet)


@dataclass(frozen=True)
class Stretch:
    """Points [start, end) in time order, judged with choices made from the points before `start`."""

    start: int
    end: int
    choices: ModelChoices


def choose(
    times: list[datetime], values: FloatArray, grain: Grain | None, grid_places: GridPlaces
) -> ModelChoices:
    """The step, scale and seasonal cycle that the points seen so far support (`grid_places`: the whole series')."""
    step = step_of(times, grain)
    grid = place_on_grid(grid_places.first(len(times), step), values)
    return ModelChoices(step, choose_transform(grid), seasonal_period(step, len(grid)))


def stretches(
    times: list[datetime], values: FloatArray, grain: Grain | None, first: int, grid_places: GridPlaces
) -> list[Stretch]:
    """The stretches of a series from point `first` on: each ends when the history has doubled, or earlier when
    it first spans enough of a day or a week for that cycle to be learnt (so a cycle is used as soon as known)."""
    count = len(times)
    milestones = _cycle_milestones(times)
    start, result = max(first, 2), []
    while start < count:
        end = min([2 * start, count, *(point for point in milestones if point > start)])
        result.append(Stretch(start, end, choose(times[:start], values[:start], grain, grid_places)))
        start = end
    return result


def _cycle_milestones(times: list[datetime]) -> list[int]:
    """The first points whose history spans 1.25 days, 1.25 weeks and 2 weeks (when seasonal_period may take them up)."""
    milestones = []
    for span in (1.25 * _DAY, 1.25 * _WEEK, 2 * _WEEK):
        point = next((index for index, moment in enumerate(times) if moment - times[0] >= span), None)
        if point is not None:
            milestones.append(point + 1)
    return milestones
