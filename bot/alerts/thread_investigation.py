"""A reply typed in an alert's thread, in Slack: which turn answers it is the agent's choice
(agent.alerts.investigation.alert_thread_turn: the bounded investigation with an API key, a direct `/command` as
the command); what Slack adds is the deterministic drill-down without a key, its answer in the fixed shape and its
chart in the thread.
"""

from __future__ import annotations

import threading
from typing import Any

from slack_sdk import WebClient

from agent.alerts.investigation import alert_thread_turn
from agent.events import EventSink, StatusChanged, TurnFinished, TurnStarted
from agent.loop import Turn, TurnOutcome
from agent.sessions import SessionRecord
from agent.usage import Usage
from bot.alerts.configured import ConfiguredAlerts
from bot.alerts.investigation_rendering import investigation_text, upload_drill_down_chart
from tools.errors import BlueprintError

_SPLITTING = "is splitting the metric by each of its model's dimensions…"


class AlertThreadTurns:
    """Picks the turn for a reply in a Slack thread: an investigation in an alert's thread, else None."""

    def __init__(self, alerts: ConfiguredAlerts, client: WebClient) -> None:
        self._alerts = alerts
        self._client = client

    def __call__(self, session: SessionRecord) -> Turn | None:
        metadata = session.metadata or {}
        channel, thread_ts = str(metadata.get("channel") or ""), str(metadata.get("thread_ts") or "")
        return alert_thread_turn(
            self._alerts.runner.runtime,
            session,
            lambda incident: DrillDownTurn(self._alerts, incident, self._client, channel, thread_ts),
        )


class DrillDownTurn:
    """The deterministic drill-down as a turn: its answer in the fixed shape, then its chart in the thread."""

    def __init__(
        self, alerts: ConfiguredAlerts, incident_id: int, client: WebClient, channel: str, thread_ts: str
    ) -> None:
        self._alerts = alerts
        self._incident_id = incident_id
        self._client = client
        self._channel = channel
        self._thread_ts = thread_ts

    def handle(
        self,
        session_id: str,
        text: str,
        sink: EventSink,
        *,
        author: str | None = None,
        cancel: threading.Event | None = None,
        **_: Any,
    ) -> TurnOutcome:
        """Split the incident's metric (read-only queries, bounded by the drill-down) and answer."""
        sink(TurnStarted(session_id=session_id, text=text))
        sink(StatusChanged(session_id=session_id, status=_SPLITTING))
        try:
            incident, drill = self._alerts.runner.investigate(self._incident_id)
        except BlueprintError as exc:
            answer = f"I cannot investigate this: {exc.message}"
            sink(TurnFinished(session_id=session_id, text=answer))
            return TurnOutcome(session_id, False, answer, Usage())
        answer = investigation_text(incident, drill)
        sink(TurnFinished(session_id=session_id, text=answer))
        if cancel is None or not cancel.is_set():
            upload_drill_down_chart(self._client, self._channel, self._thread_ts, drill)
        return TurnOutcome(session_id, True, answer, Usage())
