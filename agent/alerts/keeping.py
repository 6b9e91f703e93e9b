"""Keeping incidents: a run's new points through the lifecycle, into the store, then out to Slack.

`judge` decides and stores (claiming the points and any new incident first); `post_new` posts new incidents,
several alerts' incidents for one channel in one message; `send_updates` edits the messages of incidents that
changed and says what changed in their threads.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from functools import partial

from agent.alerts.definitions import AlertDefinition
from agent.alerts.evaluate import AlertEvaluation
from agent.alerts.incidents import IncidentStore, StoredIncident
from agent.alerts.lifecycle import IncidentChange, IncidentStep, JudgedPoint, advance
from agent.alerts.notices import (
    AlertNotifier,
    AnomalyNotice,
    IncidentEntry,
    IncidentNote,
    IncidentNotice,
    NoteKind,
    PostedNotice,
)
from tools.anomalies import Finding
from tools.anomalies.findings import noted_by_time

log = logging.getLogger(__name__)

ChartRenderer = Callable[[AlertEvaluation], bytes]
Router = Callable[[AlertDefinition], str]
MentionFinder = Callable[[list[AlertDefinition]], list[str]]


@dataclass(frozen=True)
class NewIncident:
    """An incident stored and waiting for its first message."""

    alert: AlertDefinition
    incident_id: int
    anomaly: AnomalyNotice
    channel: str


@dataclass(frozen=True)
class ChangedIncident:
    """An incident with a message that changed in this run, and the steps to tell in its thread."""

    alert: AlertDefinition
    incident_id: int
    steps: list[IncidentStep]
    chart_png: bytes | None


@dataclass
class JudgedRun:
    """What one alert's run decided: incidents to post, incidents to update, and a line for people."""

    new: list[NewIncident] = field(default_factory=list)
    changed: list[ChangedIncident] = field(default_factory=list)
    anomalous: bool = False
    taken: bool = False
    summary: str = ""


def judged_points(
    evaluation: AlertEvaluation, after: datetime | None, *, every: bool = False
) -> list[JudgedPoint]:
    """The judged points newer than `after`; on an alert's first run, its last `check_last` points (`every`:
    all of them)."""
    detection = evaluation.detection
    findings = noted_by_time(detection.findings, detection.alarms)
    judged = []
    for at, expected in zip(detection.timestamps, detection.expected, strict=True):
        if math.isnan(expected):
            continue
        finding = findings.get(at)
        judged.append(JudgedPoint(at, finding, finding is not None and detection.opens_incident(finding)))
    if every:
        return judged
    if after is None:
        since = detection.timestamps[-min(evaluation.alert.check_last, len(detection.timestamps))]
        return [point for point in judged if point.at >= since]
    return [point for point in judged if point.at > after]


class IncidentKeeper:
    """Applies runs to the incidents in the store and tells Slack (through the notifier) what changed."""

    def __init__(
        self,
        store: IncidentStore,
        notifier: AlertNotifier | None,
        *,
        alerts: Mapping[str, AlertDefinition],
        chart: ChartRenderer,
        route: Router,
        mentions: MentionFinder,
    ) -> None:
        self.store = store
        self._notifier = notifier
        self._alerts = alerts
        self._chart = chart
        self._route = route
        self._mentions = mentions

    def judge(self, alert: AlertEvaluation) -> JudgedRun:
        """Run the new points through the lifecycle and store the result; nothing is posted yet."""
        evaluation, definition = alert, alert.alert
        state = self.store.alert_state(definition.name)
        points = judged_points(evaluation, state.last_point)
        latest = self.store.latest(definition.name)
        run = JudgedRun(anomalous=any(point.finding for point in points))
        if points and not self.store.claim_points(definition.name, state.last_point, points[-1].at):
            run.taken = True
            run.summary = "its new points were judged by another run"
            return run
        changes = advance(
            latest.state if latest else None,
            points,
            resolve_after=definition.resolve_after,
            suppression=definition.suppression_interval,
        )
        chart: bytes | None = None
        for change in changes:
            if chart is None and any(step.kind != "resolved" for step in change.steps):
                chart = self._chart(evaluation)
            self._store(definition, evaluation, latest, change, chart, run)
        if latest is not None and latest.state.is_open and latest.message_ts is None and not changes:
            # Its first post failed (or was waiting): post it now.
            run.new.append(self._new(definition, evaluation, latest.id, latest.state.latest, chart))
        run.summary = self._summary(definition, evaluation, changes, latest)
        final = changes[-1].state if changes else (latest.state if latest else None)
        run.anomalous = run.anomalous or (final is not None and final.is_open)
        return run

    def _store(
        self,
        alert: AlertDefinition,
        evaluation: AlertEvaluation,
        latest: StoredIncident | None,
        change: IncidentChange,
        chart: bytes | None,
        run: JudgedRun,
    ) -> None:
        if change.existing and latest is not None:
            self.store.save_state(latest.id, change.state)
            if latest.message_ts is None and change.state.is_open:
                run.new.append(self._new(alert, evaluation, latest.id, change.state.latest, chart))
            elif change.steps and latest.message_ts is not None:
                news = any(step.kind != "resolved" for step in change.steps)
                run.changed.append(ChangedIncident(alert, latest.id, change.steps, chart if news else None))
            return
        incident_id = self.store.open_incident(alert.name, change.state)
        if incident_id is None:
            run.taken = True
            return
        run.new.append(self._new(alert, evaluation, incident_id, change.state.latest, chart))

    def _new(
        self,
        alert: AlertDefinition,
        evaluation: AlertEvaluation,
        incident_id: int,
        finding: Finding,
        chart: bytes | None,
    ) -> NewIncident:
        png = chart if chart is not None else self._chart(evaluation)
        return NewIncident(
            alert, incident_id, AnomalyNotice(alert, evaluation, finding, png), self._route(alert)
        )

    def _summary(
        self,
        alert: AlertDefinition,
        evaluation: AlertEvaluation,
        changes: list[IncidentChange],
        latest: StoredIncident | None,
    ) -> str:
        steps = [step.kind for change in changes for step in change.steps]
        if not steps:
            if latest is not None and latest.state.is_open:
                return f"incident open since {latest.state.start:%Y-%m-%d}; {evaluation.latest_summary()}"
            return evaluation.latest_summary()
        last = changes[-1].state
        what = {
            "opened": "incident opened",
            "grew": "incident grew",
            "reopened": "incident reopened",
            "resolved": "incident resolved",
        }[steps[-1]]
        return f"{what}: {last.latest.explain(alert.display_metric())}"

    # ----------------------------------------------------------------- telling Slack

    def post_new(self, new: list[NewIncident], now: datetime) -> list[NewIncident]:
        """Post new incidents, one message per channel; returns those whose post failed."""
        by_channel: dict[str, list[NewIncident]] = {}
        for item in new:
            by_channel.setdefault(item.channel, []).append(item)
        failed: list[NewIncident] = []
        for channel, items in by_channel.items():
            entries = [self._entry(item.alert, item.incident_id) for item in items]
            notice = IncidentNotice(
                [entry for entry in entries if entry is not None],
                channel,
                now,
                anomalies=[item.anomaly for item in items],
                mentions=self._mentions([item.alert for item in items]),
            )
            where = self._send(partial(self._notifier_or_fail().post, notice))
            if where is None or where.ts is None:
                failed.extend(items)
                continue
            for item in items:
                self.store.set_message(item.incident_id, where.channel, where.ts)
        return failed

    def send_updates(self, changed: list[ChangedIncident], now: datetime) -> None:
        """Edit each changed incident's message and tell the change in its thread (unless snoozed)."""
        for item in changed:
            incident = self.store.get(item.incident_id)
            if incident is None or incident.channel is None or incident.message_ts is None:
                continue
            where = PostedNotice(incident.channel, incident.message_ts)
            self.refresh(where, now)
            if incident.status(now) == "snoozed":
                continue
            for position, step in enumerate(item.steps):
                last = position == len(item.steps) - 1
                kind: NoteKind = "resolved" if step.kind == "resolved" else step.kind  # type: ignore[assignment]
                if step.kind == "opened":
                    continue
                note = IncidentNote(item.alert, kind, incident, chart_png=item.chart_png if last else None)
                self.note(where, note)

    def refresh(self, where: PostedNotice, now: datetime) -> None:
        """Edit a message to show its incidents' current state."""
        assert where.ts is not None
        incidents = self.store.in_message(where.channel, where.ts)
        entries = [
            IncidentEntry(self._alerts[incident.alert], incident)
            for incident in incidents
            if incident.alert in self._alerts
        ]
        if not entries:
            return
        mentions = self._mentions([entry.alert for entry in entries])
        notice = IncidentNotice(entries, where.channel, now, mentions=mentions)
        self._send(lambda: self._notifier_or_fail().update(where, notice))

    def alert(self, name: str) -> AlertDefinition | None:
        return self._alerts.get(name)

    def note(self, where: PostedNotice, note: IncidentNote) -> None:
        self._send(lambda: self._notifier_or_fail().reply(where, note))

    def _entry(self, alert: AlertDefinition, incident_id: int) -> IncidentEntry | None:
        incident = self.store.get(incident_id)
        return IncidentEntry(alert, incident) if incident else None

    def _notifier_or_fail(self) -> AlertNotifier:
        if self._notifier is None:
            raise RuntimeError("AlertRunner.run needs a notifier; use preview() for a dry run")
        return self._notifier

    def _send(self, call: Callable[[], PostedNotice | None]) -> PostedNotice | None:
        try:
            return call()
        except RuntimeError:
            raise
        except (
            Exception
        ):  # Slack down or refusing: logged; the store keeps the state, a later run retries posts.
            log.exception("alert message to Slack failed")
            return None
