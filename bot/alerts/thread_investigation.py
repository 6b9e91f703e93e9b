"""A reply typed in an alert's thread is an investigation, the same as the Investigate button.

The rule: every reply in a thread whose session an alert opened (its metadata names the alert) runs as an
investigation turn, whatever it asks ("why?", "what happened?", "which channel?"). Guessing which words ask why
would miss most ways of asking; the thread exists for this incident, so its replies are about it. With an API key
that is the bounded agent turn (agent.alerts.investigation: read-only tools, bounds on rounds, tool calls, tokens
and time, the fixed answer shape); without one, the deterministic drill-down of the thread's incident, with its
chart. A direct `/command` in the thread still runs as the command.
"""

from __future__ import annotations

import threading
from typing import Any

from slack_sdk import WebClient

from agent.alerts.investigation import InvestigationTurn
from agent.events import EventSink, StatusChanged, TurnFinished, TurnStarted
from agent.loop import TurnOutcome
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

    def __call__(self, session: SessionRecord) -> InvestigationTurn | DrillDownTurn | None:
        metadata = session.metadata or {}
        if not metadata.get("alert"):
            return None
        runtime = self._alerts.runner.runtime
        if runtime.settings.anthropic_api_key is not None:
            return InvestigationTurn(runtime)
        incident = str(metadata.get("incident") or "")
        if not incident.isdigit():
            return None  # An alert post from before incidents: nothing to split without a model.
        channel, thread_ts = str(metadata.get("channel") or ""), str(metadata.get("thread_ts") or "")
        return DrillDownTurn(self._alerts, int(incident), self._client, channel, thread_ts)


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
        if text.lstrip().startswith("/"):  # A direct command needs no model: it runs as anywhere else.
            agent = self._alerts.runner.runtime.agent()
            return agent.handle(session_id, text, sink, author=author, cancel=cancel)
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
