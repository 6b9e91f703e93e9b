"""What an alert tells people (an anomaly, a failure, a recovery) and the port a front door posts it through."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from agent.alerts.definitions import AlertDefinition
from agent.alerts.evaluate import AlertEvaluation
from tools.anomalies import Finding
from tools.anomalies.detector import format_moment, format_number

DEFAULT_WHAT_TO_DO = (
    "check for a cause you know of (a release, an outage, a campaign, a tracking change); "
    "if there is none, ask me in this thread which segment drove it"
)
_REPLY_HINT = "Reply in this thread to ask me about it, e.g. “which channel drove this?”"
_CONTEXT_POINTS = 14
# A warehouse error can quote a whole query; the channel needs the gist, the logs keep the rest.
_ERROR_CHARS = 600


@dataclass(frozen=True)
class AnomalyNotice:
    """An anomaly among the latest points, with its chart."""

    alert: AlertDefinition
    evaluation: AlertEvaluation
    finding: Finding
    chart_png: bytes | None

    def text(self) -> str:
        """The post: what happened, the alert, what to do."""
        icon = (
            ":chart_with_upwards_trend:"
            if self.finding.direction == "above"
            else ":chart_with_downwards_trend:"
        )
        lines = [f"{icon} *Alert {self.alert.name}*: {self.finding.explain(self.alert.display_metric())}"]
        if self.alert.description:
            lines.append(self.alert.description.strip())
        lines.append(f"*What to do:* {self.alert.what_to_do or DEFAULT_WHAT_TO_DO}")
        lines.append(f"_{_REPLY_HINT}_")
        return "\n".join(lines)

    def chart_filename(self) -> str:
        return f"{self.alert.name}-{self.finding.at:%Y%m%d-%H%M}.png"

    def context_for_model(self) -> str:
        """What the conversation in the alert's thread starts from: the metric, the query and the finding."""
        evaluation, finding = self.evaluation, self.finding
        detection = evaluation.detection
        recent = range(max(0, len(detection.timestamps) - _CONTEXT_POINTS), len(detection.timestamps))
        points = "\n".join(
            f"{format_moment(detection.timestamps[i])}: {format_number(detection.values[i])} "
            f"(expected {format_number(detection.low[i])}–{format_number(detection.high[i])})"
            for i in recent
        )
        return (
            f"I posted this alert: {self.finding.explain(evaluation.metric)}.\n"
            f"Alert: {self.alert.name} ({self.alert.watches()}), checked {evaluation.evaluated_at:%Y-%m-%d %H:%M %Z}"
            f" with sensitivity {self.alert.sensitivity}.\n"
            f"Metric: {evaluation.metric}. The point is {finding.direction} its expected range: value "
            f"{format_number(finding.value)}, expected {format_number(finding.expected)} "
            f"(range {format_number(finding.low)}–{format_number(finding.high)}), score {finding.score:.1f}.\n"
            f"The series comes from this read-only query ({evaluation.query.dialect}):\n"
            f"```sql\n{evaluation.query.sql}\n```\n"
            f"Latest points:\n{points}"
        )


@dataclass(frozen=True)
class FailureNotice:
    """The alert could not run; said once per streak of failures."""

    alert: AlertDefinition
    error: str

    def text(self) -> str:
        error = self.error if len(self.error) <= _ERROR_CHARS else self.error[: _ERROR_CHARS - 1] + "…"
        return (
            f":warning: *Alert {self.alert.name}* could not run: {error}\n"
            "I will say here when it works again, and will not repeat this message until then."
        )


@dataclass(frozen=True)
class RecoveryNotice:
    """The alert runs again after failing."""

    alert: AlertDefinition
    failing_since: datetime
    latest: str

    def text(self) -> str:
        return (
            f":white_check_mark: *Alert {self.alert.name}* runs again (it failed since "
            f"{self.failing_since:%Y-%m-%d %H:%M %Z}). Latest: {self.latest}."
        )


AlertNotice = AnomalyNotice | FailureNotice | RecoveryNotice


@dataclass(frozen=True)
class PostedNotice:
    """Where a notice went."""

    channel: str
    ts: str | None = None


class AlertNotifier(Protocol):
    """Posts a notice to the alert's channel (Slack in the bot; a list in tests)."""

    def post(self, notice: AlertNotice) -> PostedNotice: ...
