"""The buttons on an incident's message: Acknowledge, Snooze (1 day, 1 week), Resolve, Mute this alert.

The action applies at once (a few store writes and one message edit); a refusal is told only to whoever clicked.
Investigate is asked in the incident's thread on the clicker's behalf, and answered there as a reply typed in the
thread is (agent.alerts.investigation.alert_thread_turn: the bounded investigation with an API key, the
drill-down without one), governed, audited and mirrored like every other answer.
"""

from __future__ import annotations

import logging
from typing import Any

from agent.alerts.incident_actions import INCIDENT_ACTIONS
from agent.alerts.investigation import QUESTION
from agent.clock import utc_now
from bot.alerts.configured import ConfiguredAlerts
from bot.alerts.incident_rendering import INCIDENT_ACTION_PREFIX, INVESTIGATE
from bot.slack.answering import SlackAnswerer

log = logging.getLogger(__name__)


def on_incident_button(body: dict[str, Any], alerts: ConfiguredAlerts, answerer: SlackAnswerer) -> None:
    """Apply the clicked action to the message's incidents; tell the clicker when it cannot be done."""
    clicked = body["actions"][0]
    action = str(clicked.get("action_id", "")).removeprefix(INCIDENT_ACTION_PREFIX)
    user = str(body["user"]["id"])
    try:
        incident_id = int(str(clicked.get("value", "")))
    except ValueError:
        log.warning("incident button with a malformed value %r", clicked.get("value"))
        return
    message = body.get("message") or {}
    channel, thread_ts = str(body["channel"]["id"]), str(message.get("thread_ts") or message.get("ts"))
    if action == INVESTIGATE:
        # The thread's session names the message's incident (the one its buttons carry): its turn investigates it.
        team = str((body.get("team") or {}).get("id") or "")
        answerer.ask_on_behalf(
            request=body, team_id=team, channel=channel, user=user, text=QUESTION, thread_ts=thread_ts
        )
        return
    if action not in INCIDENT_ACTIONS:
        log.warning("unknown incident action %r", action)
        return
    refusal = alerts.desk().act(incident_id, action, user, utc_now())
    if refusal is not None:
        answerer.client.chat_postEphemeral(channel=channel, user=user, thread_ts=thread_ts, text=refusal)
