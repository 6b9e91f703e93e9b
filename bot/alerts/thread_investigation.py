"""A reply typed in an alert's thread, in Slack: which turn answers it is the agent's choice
(agent.alerts.investigation.alert_thread_turn: the bounded investigation with an API key, the deterministic
drill-down without one, a direct `/command` as the command); Slack only shows the drill-down, its answer in the
fixed shape in Markdown (the thread's answer renders it as it renders the model's) and its chart in the thread.
"""

from __future__ import annotations

from slack_sdk import WebClient

from agent.alerts.drilldown import DrillDown
from agent.alerts.incidents import StoredIncident
from agent.alerts.investigation import alert_thread_turn
from agent.loop import Turn
from agent.sessions import SessionRecord
from bot.alerts.configured import ConfiguredAlerts
from bot.alerts.investigation_rendering import investigation_text, upload_drill_down_chart


class AlertThreadTurns:
    """Picks the turn for a reply in a Slack thread: an investigation in an alert's thread, else None."""

    def __init__(self, alerts: ConfiguredAlerts, client: WebClient) -> None:
        self._alerts = alerts
        self._client = client

    def __call__(self, session: SessionRecord) -> Turn | None:
        metadata = session.metadata or {}
        view = SlackDrillDownView(
            self._client, str(metadata.get("channel") or ""), str(metadata.get("thread_ts") or "")
        )
        return alert_thread_turn(self._alerts.runner, session, view)


class SlackDrillDownView:
    """A drill-down in an alert's Slack thread: the answer in Markdown, then the leading split's chart."""

    def __init__(self, client: WebClient, channel: str, thread_ts: str) -> None:
        self._client = client
        self._channel = channel
        self._thread_ts = thread_ts

    def text(self, incident: StoredIncident, drill: DrillDown) -> str:
        return investigation_text(incident, drill)

    def shown(self, drill: DrillDown) -> None:
        upload_drill_down_chart(self._client, self._channel, self._thread_ts, drill)
