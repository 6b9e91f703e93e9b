"""What the detector reports: anomalous points (findings), which of them matter, and incidents made of them."""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal

from tools.anomalies.formatting import format_change, format_moment, format_number

Direction = Literal["both", "spike", "drop"]

HOUR = timedelta(hours=1)


@dataclass(frozen=True)
class Finding:
    """One anomalous point: what was seen, what was expected and how far outside it was."""

    at: datetime
    value: float
    expected: float
    low: float
    high: float
    direction: Literal["above", "below"]
    change: float
    score: float
    # departure: this point is outside its band; shift: the points up to it stray from their bands more, or more
    # often, than the series' usual (denser spikes, a noisier stretch), though this one alone may not.
    kind: Literal["departure", "shift"] = "departure"

    def explain(self, metric: str) -> str:
        """One line for people, e.g. "orders on 2024-03-04: 312, expected 480–560, −38%"."""
        seen = (
            f"{metric} on {format_moment(self.at)}: {format_number(self.value)}, "
            f"expected {format_number(self.low)}–{format_number(self.high)}, {format_change(self.change)}"
        )
        if self.kind == "shift":
            return f"{seen}; a change in behaviour: the latest points stray from their range more than usual"
        return seen


@dataclass(frozen=True)
class Criteria:
    """What makes a point outside its band worth reporting."""

    sensitivity: float
    direction: Direction = "both"
    min_change: float = 0.0  # in the metric's units
    min_relative_change: float = 0.0  # a share of the expected value (0.1: 10%)

    def admits(self, finding: Finding) -> bool:
        """Whether the finding goes the wanted way and moved far enough to matter."""
        if self.direction == "spike" and finding.direction != "above":
            return False
        if self.direction == "drop" and finding.direction != "below":
            return False
        if abs(finding.value - finding.expected) < self.min_change:
            return False
        return math.isinf(finding.change) or abs(finding.change) >= self.min_relative_change


@dataclass(frozen=True)
class Incident:
    """Findings close together, reported once: when it started, its last finding, and its worst point."""

    start: datetime
    end: datetime
    worst: Finding
    findings: int

    @property
    def direction(self) -> Literal["above", "below"]:
        return self.worst.direction


def quiet_period(step: timedelta) -> timedelta:
    """How long without findings ends an incident: the next step, or an hour for steps shorter than an hour.

    (An hour is also what the model counts as one occasion of 5-minute points: one slow hour, one incident.)
    """
    return max(step, HOUR)


def noted_by_time(findings: list[Finding], alarms: list[Finding] | None) -> dict[datetime, Finding]:
    """Each noted point's finding, or where it has none, its alarm (a change in behaviour)."""
    return {finding.at: finding for finding in [*(alarms or ()), *findings]}  # a point's finding wins


def group_incidents(
    findings: list[Finding], step: timedelta, alarms: list[Finding] | None = None
) -> list[Incident]:
    """One incident per run of findings, each within `quiet_period(step)` of the one before (one alarm each).

    A run opens only at an alarm (`alarms`, the points whose alarm score passes; None: every finding is one):
    findings that are neither an alarm nor close after one are what the series does often, or the rest of a run
    already alarmed on. An incident's start depends only on the points up to it, so its alarm is online too.
    """
    quiet = quiet_period(step)
    opening = None if alarms is None else {alarm.at for alarm in alarms}
    incidents: list[Incident] = []
    run: list[Finding] = []
    for finding in sorted(noted_by_time(findings, alarms).values(), key=lambda item: item.at):
        if run and finding.at - run[-1].at > quiet:
            incidents.append(_incident(run))
            run = []
        if run or opening is None or finding.at in opening:
            run.append(finding)
    if run:
        incidents.append(_incident(run))
    return incidents


def _incident(run: list[Finding]) -> Incident:
    return Incident(run[0].at, run[-1].at, max(run, key=lambda finding: finding.score), len(run))
