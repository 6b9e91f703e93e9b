"""Running alerts at one scheduled time: claim each, evaluate, keep its incidents, post what people need to know.

- A run is claimed in the database before anything else, so across processes each (alert, time) runs once.
- Anomalies become incidents (agent.alerts.lifecycle): one message per incident, edited as it changes; the
  alerts of one model that open incidents in the same run share one message.
- A failure is posted once per streak of failures; the first run that works again says so.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Literal

from agent.alerts.definitions import AlertDefinition
from agent.alerts.drilldown import DrillDown, DrillDownUnavailable, QueryWatch, drill_down
from agent.alerts.evaluate import AlertEvaluation, evaluate_alert
from agent.alerts.incidents import IncidentStore, StoredIncident
from agent.alerts.keeping import IncidentKeeper, JudgedRun
from agent.alerts.monitor_series import MonitorPoints, UnsavedMonitorPoints, evaluate_monitor
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
from tools.semantic_layer.loading import optional_semantic_layer

if TYPE_CHECKING:
    from agent.runtime import Runtime

log = logging.getLogger(__name__)

OutcomeStatus = Literal["taken", "muted", "ok", "anomaly", "failed"]
Router = Callable[[AlertDefinition], str]
MentionFinder = Callable[[list[AlertDefinition]], list[str]]
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
    """Runs alerts against the runtime's warehouse and dbt index, recording every run and keeping incidents.

    `alerts` are every configured alert (a grouped message names them all); `route` picks an alert's channel and
    `mentions` who to tag (by default the alert's channel and owners, as loaded from the file and dbt).
    """

    def __init__(
        self,
        runtime: Runtime,
        notifier: AlertNotifier | None = None,
        *,
        alerts: Sequence[AlertDefinition] = (),
        route: Router | None = None,
        mentions: MentionFinder | None = None,
    ) -> None:
        self._runtime = runtime
        self._notifier = notifier
        self._alerts = {alert.name: alert for alert in alerts}
        self.route: Router = route or (lambda alert: alert.channel)
        self.runs = AlertRunStore(runtime.engine)
        self.incidents = IncidentStore(runtime.engine)
        self.monitor_points = MonitorPoints(runtime.engine)
        self.keeper = IncidentKeeper(
            self.incidents,
            notifier,
            alerts=self._alerts,
            chart=render_chart,
            route=self.route,
            mentions=mentions or owners_of,
        )

    @property
    def runtime(self) -> Runtime:
        return self._runtime

    def evaluate(
        self, alert: AlertDefinition, now: datetime | None = None, *, record: bool = False
    ) -> AlertEvaluation:
        """Query and detect; a monitor's new counts are stored only with `record` (a scheduled run). Raises
        AlertEvaluationError (or another BlueprintError)."""
        runtime = self._runtime
        # Alerts read through the policy, as the scheduled alerts' principal.
        warehouse = runtime.warehouse_for(Principal.alert(alert.name))
        if alert.monitor is not None:
            return evaluate_monitor(
                alert,
                index=runtime.index(),
                warehouse=warehouse,
                settings=runtime.settings,
                now=now or utc_now(),
                points=self.monitor_points if record else UnsavedMonitorPoints(self.monitor_points),
            )
        return evaluate_alert(
            alert,
            index=runtime.index(),
            warehouse=warehouse,
            settings=runtime.settings,
            now=now or utc_now(),
            # An alert on a dbt metric is computed by MetricFlow, as query_metrics computes it.
            semantic_layer=optional_semantic_layer(runtime.project_dir, warehouse.dialect.name),
        )

    def investigate(
        self, incident_id: int, *, watch: QueryWatch | None = None, asker: Principal | None = None
    ) -> tuple[StoredIncident, DrillDown]:
        """The deterministic drill-down of an incident's worst point, each query run through `watch` (a turn
        reports them) and read as `asker` may read (the person who asked, in a thread; else the alert's own
        principal); DrillDownUnavailable when it cannot."""
        incident = self.incidents.get(incident_id)
        alert = self._alerts.get(incident.alert) if incident else None
        if incident is None or alert is None:
            raise DrillDownUnavailable("that incident or its alert is no longer known")
        settings = self._runtime.settings
        drill = drill_down(
            alert,
            incident.state.worst.at,
            index=self._runtime.index(),
            # The splits are shown to whoever asked, where they asked: read as they may read, not as the alert
            # (whose rule may allow a column, or rows, that theirs does not).
            warehouse=self._runtime.warehouse_for(asker or Principal.alert(alert.name)),
            timeout_seconds=settings.query_timeout_seconds,
            max_rows=settings.max_result_rows,
            allowed_functions=settings.allowed_functions,
            watch=watch,
        )
        return incident, drill

    def preview(self, alert: AlertDefinition, now: datetime | None = None) -> AlertPreview:
        """What a run would post now, and its chart; nothing is recorded or posted."""
        evaluation = self.evaluate(alert, now)
        chart = render_chart(evaluation)
        finding = evaluation.finding
        notice = AnomalyNotice(alert, evaluation, finding, chart) if finding else None
        return AlertPreview(evaluation, notice, chart)

    def run(self, alert: AlertDefinition, scheduled_for: datetime, trigger: RunTrigger) -> RunOutcome:
        """Run once for `scheduled_for` unless another process has; never raises for the alert's own faults."""
        return self.run_group([alert], scheduled_for, trigger)[0]

    def run_group(
        self, alerts: Sequence[AlertDefinition], scheduled_for: datetime, trigger: RunTrigger
    ) -> list[RunOutcome]:
        """Run alerts due at the same time; the incidents they open share one message per channel."""
        for alert in alerts:
            self._alerts.setdefault(alert.name, alert)
        prepared = [self._prepare(alert, scheduled_for, trigger) for alert in alerts]
        judged = [item for item in prepared if isinstance(item, _Judged)]
        failed_posts = self.keeper.post_new([new for item in judged for new in item.run.new], scheduled_for)
        self.keeper.send_updates([changed for item in judged for changed in item.run.changed], scheduled_for)
        unposted = {item.incident_id for item in failed_posts}
        return [item.finish(self.runs, unposted) if isinstance(item, _Judged) else item for item in prepared]

    def _prepare(
        self, alert: AlertDefinition, scheduled_for: datetime, trigger: RunTrigger
    ) -> RunOutcome | _Judged:
        run_id = self.runs.claim(alert.name, scheduled_for, trigger)
        if run_id is None:
            return RunOutcome(
                alert.name, scheduled_for, trigger, "taken", f"{alert.name}: already run elsewhere"
            )
        try:
            return self._judge(run_id, alert, scheduled_for, trigger)
        except Exception as exc:  # A bug must not leave the run "running" forever or stop the scheduler.
            log.exception("alert %s failed unexpectedly", alert.name)
            self.runs.finish(run_id, status="failed", error=f"internal error: {type(exc).__name__}")
            return RunOutcome(alert.name, scheduled_for, trigger, "failed", f"{alert.name}: internal error")

    def _judge(
        self, run_id: int, alert: AlertDefinition, scheduled_for: datetime, trigger: RunTrigger
    ) -> RunOutcome | _Judged:
        window = alert.muted_at(scheduled_for) if trigger != "manual" else None
        muted_by = self.incidents.alert_state(alert.name).muted_by
        if window is not None or muted_by is not None:
            reason = f" ({window.reason})" if window and window.reason else ""
            if muted_by is not None:
                reason = f" (muted by {muted_by})"
            self.runs.finish(run_id, status="muted", summary=f"muted{reason}")
            return RunOutcome(alert.name, scheduled_for, trigger, "muted", f"{alert.name}: muted{reason}")
        try:
            evaluation = self.evaluate(alert, scheduled_for, record=True)
        except BlueprintError as exc:
            return self._failed(run_id, alert, scheduled_for, trigger, exc.message)
        posted: list[PostKind] = []
        if trigger != "manual":
            self._note_recovery(alert, scheduled_for, evaluation, posted)
        return _Judged(
            run_id, alert, scheduled_for, trigger, evaluation, self.keeper.judge(evaluation), posted
        )

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


@dataclass(frozen=True)
class _Judged:
    """A run that evaluated and judged its points, waiting for the group's posts before it is recorded."""

    run_id: int
    alert: AlertDefinition
    scheduled_for: datetime
    trigger: RunTrigger
    evaluation: AlertEvaluation
    run: JudgedRun
    posted: list[PostKind]

    def finish(self, runs: AlertRunStore, unposted: set[int]) -> RunOutcome:
        alert, run = self.alert, self.run
        posted = list(self.posted)
        new = [item for item in run.new if item.incident_id not in unposted]
        if new:
            posted.append("anomaly")
        if run.changed:
            posted.append("update")
        status: OutcomeStatus = "anomaly" if run.anomalous or new else "ok"
        if run.taken and not new:
            status = "taken"
        summary = run.summary
        where = ""
        if len(new) < len(run.new):
            where = f"; posting to {run.new[0].channel} failed (see the logs)"
        elif new:
            where = f"; posted to {new[0].channel}"
        elif run.changed:
            where = "; its message updated"
        runs.finish(
            self.run_id,
            status="anomaly" if status == "anomaly" else "ok",
            summary=summary,
            error="posting failed" if len(new) < len(run.new) else None,
            posted=_last(posted),
        )
        prefix = "" if status != "ok" or run.changed else "no anomaly. "
        message = f"{alert.name}: {prefix}{summary}{where}"
        return RunOutcome(
            alert.name, self.scheduled_for, self.trigger, status, message, posted, self.evaluation
        )


def owners_of(alerts: list[AlertDefinition]) -> list[str]:
    """Everyone the alerts name as owners, once each, in order."""
    return list(dict.fromkeys(owner for alert in alerts for owner in alert.owners))


def render_chart(evaluation: AlertEvaluation, last_points: int | None = None) -> bytes:
    """The alert's chart: the recent series, its expected band, the anomalies marked."""
    # Imported here: matplotlib loads only when a chart is drawn.
    from tools.charts.anomaly_chart import render_anomaly_chart

    alert = evaluation.alert
    return render_anomaly_chart(
        evaluation.detection,
        title=f"Alert {alert.name}: {evaluation.metric}",
        metric=evaluation.metric,
        last_points=last_points or _CHART_POINTS[alert.grain],
    )


def _last(posted: list[PostKind]) -> PostKind | None:
    return posted[-1] if posted else None
