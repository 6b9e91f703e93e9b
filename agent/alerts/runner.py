"""Running one alert at one scheduled time: claim it, evaluate, and post what people need to know, once.

- A run is claimed in the database before anything else, so across processes each (alert, time) runs once.
- An anomaly is posted once per point: the same anomalous day is not posted again by the next runs, and
  `cooldown` keeps an alert quiet for a while after it posted.
- A failure is posted once per streak of failures; the first run that works again says so.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Literal

from agent.alerts.definitions import AlertDefinition
from agent.alerts.evaluate import AlertEvaluation, evaluate_alert
from agent.alerts.notices import (
    AlertNotice,
    AlertNotifier,
    AnomalyNotice,
    FailureNotice,
    PostedNotice,
    RecoveryNotice,
)
from agent.alerts.runs import AlertRunStore, PostKind, RunTrigger
from agent.clock import utc_now
from tools.errors import BlueprintError
from tools.policy import Principal

if TYPE_CHECKING:
    from agent.runtime import Runtime

log = logging.getLogger(__name__)

OutcomeStatus = Literal["taken", "muted", "ok", "anomaly", "failed"]
# Points drawn in an alert's chart: the last two months of days, the last week of hours.
_CHART_POINTS = {"day": 60, "hour": 24 * 7}


@dataclass(frozen=True)
class RunOutcome:
    """What one run did, in one line for people, and what it posted."""

    alert: str
    scheduled_for: datetime
    trigger: RunTrigger
    status: OutcomeStatus
    message: str
    posted: list[PostKind] = field(default_factory=list)
    evaluation: AlertEvaluation | None = None


@dataclass(frozen=True)
class AlertPreview:
    """A run without side effects: what would be posted (None when nothing is anomalous) and the chart."""

    evaluation: AlertEvaluation
    notice: AnomalyNotice | None
    chart_png: bytes


class AlertRunner:
    """Runs alerts against the runtime's warehouse and dbt index, recording every run."""

    def __init__(self, runtime: Runtime, notifier: AlertNotifier | None = None) -> None:
        self._runtime = runtime
        self._notifier = notifier
        self.runs = AlertRunStore(runtime.engine)

    def evaluate(self, alert: AlertDefinition, now: datetime | None = None) -> AlertEvaluation:
        """Query and detect, nothing recorded; raises AlertEvaluationError (or another BlueprintError)."""
        runtime = self._runtime
        return evaluate_alert(
            alert,
            index=runtime.index(),
            warehouse=runtime.warehouse_for(Principal.alert(alert.name)),
            settings=runtime.settings,
            now=now or utc_now(),
        )

    def preview(self, alert: AlertDefinition, now: datetime | None = None) -> AlertPreview:
        """What a run would post now, and its chart; nothing is recorded or posted."""
        evaluation = self.evaluate(alert, now)
        chart = render_chart(evaluation)
        finding = evaluation.finding
        notice = AnomalyNotice(alert, evaluation, finding, chart) if finding else None
        return AlertPreview(evaluation, notice, chart)

    def run(self, alert: AlertDefinition, scheduled_for: datetime, trigger: RunTrigger) -> RunOutcome:
        """Run once for `scheduled_for` unless another process has; never raises for the alert's own faults."""
        run_id = self.runs.claim(alert.name, scheduled_for, trigger)
        if run_id is None:
            return RunOutcome(
                alert.name, scheduled_for, trigger, "taken", f"{alert.name}: already run elsewhere"
            )
        try:
            return self._run_claimed(run_id, alert, scheduled_for, trigger)
        except Exception as exc:  # A bug must not leave the run "running" forever or stop the scheduler.
            log.exception("alert %s failed unexpectedly", alert.name)
            self.runs.finish(run_id, status="failed", error=f"internal error: {type(exc).__name__}")
            return RunOutcome(alert.name, scheduled_for, trigger, "failed", f"{alert.name}: internal error")

    def _run_claimed(
        self, run_id: int, alert: AlertDefinition, scheduled_for: datetime, trigger: RunTrigger
    ) -> RunOutcome:
        window = alert.muted_at(scheduled_for) if trigger != "manual" else None
        if window is not None:
            reason = f" ({window.reason})" if window.reason else ""
            self.runs.finish(run_id, status="muted", summary=f"muted{reason}")
            return RunOutcome(alert.name, scheduled_for, trigger, "muted", f"{alert.name}: muted{reason}")
        try:
            evaluation = self.evaluate(alert, scheduled_for)
        except BlueprintError as exc:
            return self._failed(run_id, alert, scheduled_for, trigger, exc.message)
        posted: list[PostKind] = []
        if trigger != "manual":
            self._note_recovery(alert, scheduled_for, evaluation, posted)
        finding = evaluation.finding
        if finding is None:
            summary = evaluation.latest_summary()
            self.runs.finish(run_id, status="ok", summary=summary, posted=_last(posted))
            return RunOutcome(
                alert.name,
                scheduled_for,
                trigger,
                "ok",
                f"{alert.name}: no anomaly. {summary}",
                posted,
                evaluation,
            )
        summary = finding.explain(evaluation.metric)
        quiet = self._quiet_reason(alert, scheduled_for, finding.at.isoformat())
        # Drawn before the point is reserved: a chart that fails must not leave the point taken and unposted.
        chart = render_chart(evaluation) if quiet is None else None
        if quiet is None and not self.runs.claim_point(run_id, finding.at.isoformat()):
            quiet = "already posted by another run"
        if quiet is not None:
            self.runs.finish(run_id, status="anomaly", summary=f"{summary} ({quiet})", posted=_last(posted))
            message = f"{alert.name}: {summary}; not posted again ({quiet})"
            return RunOutcome(alert.name, scheduled_for, trigger, "anomaly", message, posted, evaluation)
        notice = AnomalyNotice(alert, evaluation, finding, chart)
        where = self._post(notice)
        if where is None:
            self.runs.release_point(run_id)
            self.runs.finish(
                run_id, status="anomaly", summary=summary, error="posting failed", posted=_last(posted)
            )
            message = f"{alert.name}: {summary}; posting to {alert.channel} failed (see the logs)"
            return RunOutcome(alert.name, scheduled_for, trigger, "anomaly", message, posted, evaluation)
        posted.append("anomaly")
        self.runs.finish(
            run_id,
            status="anomaly",
            summary=summary,
            posted="anomaly",
            channel=where.channel,
            message_ts=where.ts,
        )
        message = f"{alert.name}: {summary}; posted to {alert.channel}"
        return RunOutcome(alert.name, scheduled_for, trigger, "anomaly", message, posted, evaluation)

    def _quiet_reason(self, alert: AlertDefinition, now: datetime, point: str) -> str | None:
        earlier = self.runs.posted_point(alert.name, point)
        if earlier is not None:
            return f"posted on {earlier.started_at:%Y-%m-%d %H:%M} UTC"
        if alert.cooldown:
            last = self.runs.last_anomaly_post(alert.name)
            if last is not None and last.scheduled_for + alert.cooldown > now:
                return f"cooldown until {last.scheduled_for + alert.cooldown:%Y-%m-%d %H:%M} UTC"
        return None

    def _failed(
        self, run_id: int, alert: AlertDefinition, scheduled_for: datetime, trigger: RunTrigger, error: str
    ) -> RunOutcome:
        log.warning("alert run failed: %s", error)
        posted: list[PostKind] = []
        if trigger != "manual":
            streak = self.runs.failure_streak(alert.name, scheduled_for)
            if not any(run.posted == "failure" for run in streak):
                where = self._post(FailureNotice(alert, error))
                if where is not None:
                    posted.append("failure")
        self.runs.finish(run_id, status="failed", error=error, posted=_last(posted))
        said = "; posted to the channel" if posted else ""
        return RunOutcome(alert.name, scheduled_for, trigger, "failed", f"{error}{said}", posted)

    def _note_recovery(
        self,
        alert: AlertDefinition,
        scheduled_for: datetime,
        evaluation: AlertEvaluation,
        posted: list[PostKind],
    ) -> None:
        streak = self.runs.failure_streak(alert.name, scheduled_for)
        if streak and any(run.posted == "failure" for run in streak):
            since = streak[-1].scheduled_for.astimezone(alert.zone)
            if self._post(RecoveryNotice(alert, since, evaluation.latest_summary())) is not None:
                posted.append("recovery")

    def _post(self, notice: AlertNotice) -> PostedNotice | None:
        if self._notifier is None:
            raise RuntimeError("AlertRunner.run needs a notifier; use preview() for a dry run")
        try:
            return self._notifier.post(notice)
        except Exception:  # Slack down or refusing: recorded, retried by a later run.
            log.exception("posting alert %s to %s failed", notice.alert.name, notice.alert.channel)
            return None


def render_chart(evaluation: AlertEvaluation) -> bytes:
    """The alert's chart: the recent series, its expected band, the anomalies marked."""
    # Imported here: matplotlib loads only when a chart is drawn.
    from tools.charts.anomaly_chart import render_anomaly_chart

    alert = evaluation.alert
    return render_anomaly_chart(
        evaluation.detection,
        title=f"Alert {alert.name}: {evaluation.metric}",
        metric=evaluation.metric,
        last_points=_CHART_POINTS[alert.grain],
    )


def _last(posted: list[PostKind]) -> PostKind | None:
    return posted[-1] if posted else None
