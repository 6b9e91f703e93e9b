"""The buttons on an incident's message: Acknowledge, Snooze (1 day, 1 week), Resolve, Mute this alert.

The action applies at once (a few store writes and one message edit); a refusal is told only to whoever clicked.
Investigate queries the warehouse, so it runs in its own thread and answers in the incident's thread.
"""

from __future__ import annotations

import logging
import threading
from typing import Any

from slack_sdk import WebClient

from agent.alerts.drill_down_turn import CANNOT_INVESTIGATE
from agent.alerts.incident_actions import INCIDENT_ACTIONS
from agent.alerts.investigation import InvestigationBounds, investigate_with_model
from agent.clock import utc_now
from agent.runtime import Runtime
from agent.sessions import SessionKey
from bot.alerts.configured import ConfiguredAlerts
from bot.alerts.incident_rendering import INCIDENT_ACTION_PREFIX, INVESTIGATE
from bot.alerts.investigation_rendering import investigation_text, upload_drill_down_chart
from tools.errors import BlueprintError

log = logging.getLogger(__name__)


def on_incident_button(body: dict[str, Any], alerts: ConfiguredAlerts, client: WebClient) -> None:
    """Apply the clicked action to the message's incidents; tell the clicker when it cannot be done."""
    clicked = body["actions"][0]
    action = str(clicked.get("action_id", "")).removeprefix(INCIDENT_ACTION_PREFIX)
    user = str(body["user"]["id"])
    try:
        incident_id = int(str(clicked.get("value", "")))
    except ValueError:
        log.warning("incident button with a malformed value %r", clicked.get("value"))
        return
    if action == INVESTIGATE:
        _investigate(body, incident_id, alerts, client)
        return
    if action not in INCIDENT_ACTIONS:
        log.warning("unknown incident action %r", action)
        return
    refusal = alerts.desk().act(incident_id, action, user, utc_now())
    if refusal is not None:
        message = body.get("message") or {}
        client.chat_postEphemeral(
            channel=str(body["channel"]["id"]),
            user=user,
            thread_ts=message.get("thread_ts") or message.get("ts"),
            text=refusal,
        )


def _investigate(body: dict[str, Any], incident_id: int, alerts: ConfiguredAlerts, client: WebClient) -> None:
    message = body.get("message") or {}
    channel, ts = str(body["channel"]["id"]), str(message.get("thread_ts") or message.get("ts"))
    runtime = alerts.runner.runtime
    session = runtime.sessions.find(SessionKey.slack_thread(str(body["team"]["id"]), channel, ts))
    if runtime.settings.anthropic_api_key is not None and session is not None:
        _investigate_with_model(runtime, session.id, channel, ts, client)
        return

    def run() -> None:
        try:
            incident, drill = alerts.runner.investigate(incident_id)
        except BlueprintError as exc:
            text = CANNOT_INVESTIGATE.format(reason=exc.message)
            client.chat_postMessage(channel=channel, thread_ts=ts, text=text, unfurl_links=False)
            return
        # Already Slack mrkdwn (bold, code blocks): posted as it is.
        text = investigation_text(incident, drill)
        client.chat_postMessage(channel=channel, thread_ts=ts, text=text, unfurl_links=False)
        upload_drill_down_chart(client, channel, ts, drill)

    threading.Thread(target=run, name=f"investigate-{incident_id}", daemon=True).start()


def _investigate_with_model(
    runtime: Runtime, session_id: str, channel: str, ts: str, client: WebClient
) -> None:
    """The bounded agent turn (agent.alerts.investigation), answered in the thread."""
    bounds = InvestigationBounds()

    def run() -> None:
        result = investigate_with_model(runtime, session_id, bounds)
        footer = bounds.footer(result.queries)
        text = (
            f"{result.text}\n{footer}"
            if result.ok
            else f"I could not finish the investigation: {result.text}"
        )
        client.chat_postMessage(channel=channel, thread_ts=ts, text=text, unfurl_links=False)

    threading.Thread(target=run, name=f"investigate-model-{ts}", daemon=True).start()
