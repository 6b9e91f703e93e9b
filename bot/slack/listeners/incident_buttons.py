"""The buttons on an incident's message: Acknowledge, Snooze (1 day, 1 week), Resolve, Mute this alert.

The action applies at once (a few store writes and one message edit); a refusal is told only to whoever clicked.
"""

from __future__ import annotations

import logging
from typing import Any

from slack_sdk import WebClient

from agent.alerts.incident_actions import INCIDENT_ACTIONS
from agent.clock import utc_now
from bot.alerts.configured import ConfiguredAlerts
from bot.alerts.incident_rendering import INCIDENT_ACTION_PREFIX

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
