"""Trying an alert before enabling it: its history replayed through the same lifecycle the scheduler runs.

The detector judges every point only from the points before it, so evaluating the whole history once gives each
point the verdict a daily run would have given it; feeding the points one at a time through `advance` then gives
the incidents, and the messages, the scheduler would have posted.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from agent.alerts.definitions import AlertDefinition
from agent.alerts.evaluate import AlertEvaluation
from agent.alerts.keeping import judged_points
from agent.alerts.lifecycle import IncidentState, advance

_PERIOD = {"day": timedelta(days=1), "hour": timedelta(hours=1)}


@dataclass(frozen=True)
class Replay:
    """What the alert would have done since `since`: its incidents, new messages and thread notes."""

    alert: AlertDefinition
    since: datetime
    points: int
    incidents: list[IncidentState] = field(default_factory=list)
    thread_notes: int = 0

    @property
    def messages(self) -> int:
        """New messages posted: one per incident (a reopened incident keeps its message)."""
        return len(self.incidents)


def replay_span(alert: AlertDefinition, periods: int) -> AlertDefinition:
    """The alert with enough history to judge the last `periods` points."""
    return alert.model_copy(update={"history": max(alert.history, periods + alert.min_history + 1)})


def periods_in(alert: AlertDefinition, span: timedelta) -> int:
    return max(1, int(span / _PERIOD[alert.grain]))


def replay(evaluation: AlertEvaluation, since: datetime) -> Replay:
    """Feed the judged points from `since` on, one per run, through the incident lifecycle."""
    alert = evaluation.alert
    points = [point for point in judged_points(evaluation, None, every=True) if point.at >= since]
    incidents: list[IncidentState] = []
    notes = 0
    current: IncidentState | None = None
    for point in points:
        for change in advance(
            current,
            [point],
            resolve_after=alert.resolve_after,
            suppression=alert.suppression_interval,
        ):
            if change.existing and incidents:
                incidents[-1] = change.state
                notes += len(change.steps)
            else:
                incidents.append(change.state)
            current = change.state
    return Replay(alert, since, len(points), incidents, notes)
