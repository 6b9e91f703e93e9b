"""An incident's life as a pure function of the points an alert judged, oldest first.

The scheduler feeds each run's new points through `advance`; `alerts test` feeds a whole history through the
same function, one point at a time, so what a replay shows is what the scheduler would have posted.

- An anomaly with no incident open opens one; one while an incident is open adds to it.
- `resolve_after` points in a row back in range resolve the incident by themselves.
- An anomaly within `suppression` (in the metric's own time) of the end of an incident that resolved by itself
  reopens that incident instead of opening a new one: a flapping metric stays one message.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Literal

from tools.anomalies import Finding

AUTO = "auto"  # resolved_by when the metric came back by itself

StepKind = Literal["opened", "grew", "reopened", "resolved"]


@dataclass(frozen=True)
class IncidentState:
    """What is known about one incident: when it started, its anomalies, and whether (and how) it ended."""

    start: datetime
    last_anomaly: datetime
    anomalies: int
    in_range_streak: int
    worst: Finding
    latest: Finding
    resolved_at: datetime | None = None  # the point that ended it, for one resolved by itself
    resolved_by: str | None = None  # AUTO, or the Slack user who resolved it

    @property
    def is_open(self) -> bool:
        return self.resolved_by is None

    @classmethod
    def opened_by(cls, finding: Finding) -> IncidentState:
        return cls(finding.at, finding.at, 1, 0, finding, finding)

    def with_anomaly(self, finding: Finding) -> IncidentState:
        worst = finding if finding.score > self.worst.score else self.worst
        return replace(
            self,
            last_anomaly=finding.at,
            anomalies=self.anomalies + 1,
            in_range_streak=0,
            worst=worst,
            latest=finding,
            resolved_at=None,
            resolved_by=None,
        )


@dataclass(frozen=True)
class JudgedPoint:
    """A point the detector had enough history to judge, and its finding when it was anomalous."""

    at: datetime
    finding: Finding | None
    # Whether the finding may open (or reopen) an incident: the detector's alarm (Detection.alarms). A finding
    # that is not one grows an open incident, and otherwise is what the series often does: no incident.
    alarm: bool = True


@dataclass(frozen=True)
class IncidentStep:
    """One thing that happened to an incident at one point."""

    kind: StepKind
    point: datetime


@dataclass
class IncidentChange:
    """An incident as a batch of points left it: the one that was there (`existing`) or a new one."""

    existing: bool
    state: IncidentState
    steps: list[IncidentStep] = field(default_factory=list)


def advance(
    current: IncidentState | None,
    points: Sequence[JudgedPoint],
    *,
    resolve_after: int,
    suppression: timedelta | None,
) -> list[IncidentChange]:
    """The incidents `points` touch, in order; `current` is the alert's latest incident (open or not)."""
    changes: list[IncidentChange] = []
    change = IncidentChange(True, current) if current is not None else None
    for point in points:
        state = change.state if change is not None else None
        if point.finding is None:
            if state is not None and state.is_open:
                streak = state.in_range_streak + 1
                if streak >= resolve_after:
                    change = _touched(change, changes)
                    change.state = replace(
                        state, in_range_streak=streak, resolved_at=point.at, resolved_by=AUTO
                    )
                    change.steps.append(IncidentStep("resolved", point.at))
                else:
                    change = _touched(change, changes)
                    change.state = replace(state, in_range_streak=streak)
            continue
        if state is not None and state.is_open:
            change = _touched(change, changes)
            change.state = state.with_anomaly(point.finding)
            change.steps.append(IncidentStep("grew", point.at))
        elif not point.alarm:
            continue
        elif state is not None and _reopens(state, point.at, suppression):
            change = _touched(change, changes)
            change.state = state.with_anomaly(point.finding)
            change.steps.append(IncidentStep("reopened", point.at))
        else:
            change = IncidentChange(False, IncidentState.opened_by(point.finding))
            change.steps.append(IncidentStep("opened", point.at))
            changes.append(change)
    return changes


def _touched(change: IncidentChange | None, changes: list[IncidentChange]) -> IncidentChange:
    """The change, listed among those to store once something happened to it."""
    assert change is not None
    if not any(existing is change for existing in changes):
        changes.append(change)
    return change


def _reopens(state: IncidentState, at: datetime, suppression: timedelta | None) -> bool:
    return (
        suppression is not None
        and state.resolved_by == AUTO
        and state.resolved_at is not None
        and at - state.resolved_at <= suppression
    )
