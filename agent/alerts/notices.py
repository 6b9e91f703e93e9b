"""What an alert tells people (an anomaly, a failure, a recovery), as data, and the port a front door posts it
through. Front doors render notices in their own medium (bot/alerts/rendering.py for Slack)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal, Protocol

from agent.alerts.definitions import AlertDefinition
from agent.alerts.evaluate import AlertEvaluation
from agent.alerts.incidents import StoredIncident
from agent.sessions import SeedContext
from tools.anomalies import Finding
from tools.anomalies.detector import format_moment, format_number

DEFAULT_WHAT_TO_DO = (
    "check for a cause you know of (a release, an outage, a campaign, a tracking change); "
    "if there is none, ask me in this thread which segment drove it"
)
INVESTIGATION_SHAPE = """You are investigating an alert's incident. Answer in exactly this shape (Slack mrkdwn), nothing else:
*Summary:* two sentences: what moved, and where it sits.
*Possible drivers:* one bullet per driver; each names the split (a column of the model: channel, country,
category...) and quotes the query you ran with run_query that shows it, in a code block.
*Evidence:* the queries you ran and the bytes they scanned.
*Confidence:* high, medium or low, and why in a few words.
Claim no cause beyond what your queries show; if nothing stands out, say so."""
_CONTEXT_POINTS = 14
# Who speaks for the alert in its thread's history.
ALERT_AUTHOR = "alert"
# A warehouse error can quote a whole query; the channel needs the gist, the logs keep the rest.
_ERROR_CHARS = 600


@dataclass(frozen=True)
class AnomalyNotice:
    """An anomaly among the latest points, with its chart."""

    alert: AlertDefinition
    evaluation: AlertEvaluation
    finding: Finding
    chart_png: bytes | None

    def what_to_do(self) -> str:
        """The alert's own advice, or ours."""
        return self.alert.what_to_do or DEFAULT_WHAT_TO_DO

    def seed(self) -> SeedContext:
        """How the alert's thread starts as a conversation: the alert speaks first, then what it found."""
        return SeedContext(
            author=ALERT_AUTHOR,
            opening=f"[automatic message from the scheduled alert {self.alert.name}, not from a person]",
            context=self.context_for_model(),
        )

    def title(self) -> str:
        """The alert thread's session title."""
        return f"Alert {self.alert.name}: {self.finding.explain(self.evaluation.metric)}"

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
            f"Latest points:\n{points}\n"
            f"{self.alert.description.strip() if self.alert.description else ''}\n"
            f"What I suggested: {self.what_to_do()}\n"
            f"If someone here asks why it happened, investigate with read-only queries and answer as follows.\n"
            f"{INVESTIGATION_SHAPE}"
        )


@dataclass(frozen=True)
class FailureNotice:
    """The alert could not run; said once per streak of failures."""

    alert: AlertDefinition
    error: str

    def short_error(self) -> str:
        """The error's gist for a channel; the logs keep the rest."""
        return self.error if len(self.error) <= _ERROR_CHARS else self.error[: _ERROR_CHARS - 1] + "…"


@dataclass(frozen=True)
class RecoveryNotice:
    """The alert runs again after failing."""

    alert: AlertDefinition
    failing_since: datetime
    latest: str


@dataclass(frozen=True)
class IncidentEntry:
    """One alert's incident as its message shows it."""

    alert: AlertDefinition
    incident: StoredIncident


@dataclass(frozen=True)
class IncidentNotice:
    """An incident message: one or more incidents (alerts of one model in one run share one), in their current
    state; on first posting, `anomalies` brings the findings' charts and what the thread's session starts from."""

    entries: list[IncidentEntry]
    channel: str
    now: datetime
    anomalies: list[AnomalyNotice] = field(default_factory=list)
    mentions: list[str] = field(default_factory=list)  # Slack ids or user groups, already resolved

    @property
    def alert(self) -> AlertDefinition:
        """The first alert (the message's channel and the thread's session are named after it)."""
        return self.entries[0].alert

    @property
    def key(self) -> int:
        """The incident the message's buttons name; an action applies to every incident of the message."""
        return self.entries[0].incident.id

    def seed(self) -> SeedContext:
        """The thread's conversation starts from every anomaly the message reports."""
        first = self.anomalies[0].seed()
        context = "\n\n".join(anomaly.context_for_model() for anomaly in self.anomalies)
        return SeedContext(author=first.author, opening=first.opening, context=context)


NoteKind = Literal["grew", "reopened", "resolved", "acknowledged", "snoozed", "resolved_by_user", "muted"]


@dataclass(frozen=True)
class IncidentNote:
    """A line in an incident's thread: what changed and, for a new anomaly, its chart."""

    alert: AlertDefinition
    kind: NoteKind
    incident: StoredIncident
    user: str | None = None
    until: datetime | None = None
    chart_png: bytes | None = None


AlertNotice = AnomalyNotice | FailureNotice | RecoveryNotice | IncidentNotice


@dataclass(frozen=True)
class PostedNotice:
    """Where a notice went."""

    channel: str
    ts: str | None = None


class AlertNotifier(Protocol):
    """Posts notices to Slack (a list in tests): new messages, edits of an incident's message, thread notes."""

    def post(self, notice: AlertNotice) -> PostedNotice: ...

    def update(self, where: PostedNotice, notice: IncidentNotice) -> None: ...

    def reply(self, where: PostedNotice, note: IncidentNote) -> None: ...
