"""What Slack sends the app over Socket Mode: Events API events, slash commands, button clicks and message
shortcuts."""

from __future__ import annotations

import time
import uuid
from typing import Any

from tests.fakes.slack.events import EventBuilder
from tests.fakes.slack.ids import slack_id, trigger_id
from tests.fakes.slack.response_urls import ResponseUrls
from tests.fakes.slack.socket_mode import SocketModeServer
from tests.fakes.slack.workspace import Workspace


class EnvelopeSender:
    """Wraps events and interactions in Socket Mode envelopes and delivers them; returns envelope ids."""

    def __init__(
        self,
        workspace: Workspace,
        socket_mode: SocketModeServer,
        events: EventBuilder,
        response_urls: ResponseUrls,
    ) -> None:
        self.workspace = workspace
        self.socket_mode = socket_mode
        self.events = events
        self.response_urls = response_urls

    def send_event(
        self,
        event: dict[str, Any],
        *,
        event_id: str | None = None,
        retry_attempt: int = 0,
        retry_reason: str = "",
        connection: int | None = None,
    ) -> str:
        """Deliver an Events API envelope to one connection (round robin, or the index among open ones)."""
        envelope = self._events_envelope(event, event_id, retry_attempt, retry_reason)
        return self.socket_mode.deliver(envelope, connection)

    def broadcast_event(
        self,
        event: dict[str, Any],
        *,
        event_id: str | None = None,
        retry_attempt: int = 0,
        retry_reason: str = "",
    ) -> list[str]:
        """Deliver the same event (same event_id, new envelope ids) to every open connection."""
        event_id = event_id or slack_id("Ev")
        return [
            self.socket_mode.deliver(
                self._events_envelope(event, event_id, retry_attempt, retry_reason), index
            )
            for index in range(self.socket_mode.open_connections)
        ]

    def send_slash_command(
        self, command: str, text: str = "", *, user: str, channel: str, connection: int | None = None
    ) -> str:
        """Deliver a slash command invocation (envelope type "slash_commands")."""
        app = self.workspace.app
        payload = {
            "token": app.verification_token,
            "team_id": app.team_id,
            "team_domain": app.team_domain,
            "channel_id": channel,
            "channel_name": "directmessage" if channel.startswith("D") else "general",
            "user_id": user,
            "user_name": user.lower(),
            "command": command,
            "text": text,
            "api_app_id": app.app_id,
            "is_enterprise_install": "false",
            "response_url": self.response_urls.new_url(channel, user, None, None),
            "trigger_id": trigger_id(),
        }
        envelope = _envelope("slash_commands", payload, accepts_response_payload=True)
        return self.socket_mode.deliver(envelope, connection)

    def send_block_action(
        self,
        action_id: str,
        value: str,
        *,
        user: str,
        channel: str,
        message_ts: str,
        thread_ts: str | None = None,
        connection: int | None = None,
    ) -> str:
        """Deliver a button click on a message (envelope type "interactive", payload type "block_actions")."""
        with self.workspace.lock:
            stored = self.workspace.history.get((channel, message_ts))
            message = (
                self.workspace.render(stored) if stored else {"type": "message", "ts": message_ts, "text": ""}
            )
            blocks = stored.blocks if stored else []
        block_id, button_text = _find_button(blocks, action_id)
        container: dict[str, Any] = {
            "type": "message",
            "message_ts": message_ts,
            "channel_id": channel,
            "is_ephemeral": False,
        }
        if thread_ts:
            container["thread_ts"] = thread_ts
        action = {
            "action_id": action_id,
            "block_id": block_id,
            "text": button_text,
            "value": value,
            "type": "button",
            "action_ts": f"{time.time():.6f}",
        }
        app = self.workspace.app
        payload: dict[str, Any] = {
            "type": "block_actions",
            "user": {"id": user, "username": user.lower(), "name": user.lower(), "team_id": app.team_id},
            "api_app_id": app.app_id,
            "token": app.verification_token,
            "container": container,
            "trigger_id": trigger_id(),
            "team": {"id": app.team_id, "domain": app.team_domain},
            "enterprise": None,
            "is_enterprise_install": False,
            "channel": {"id": channel, "name": "general"},
            "message": message,
            "state": {"values": {}},
            "response_url": self.response_urls.new_url(channel, user, message_ts, thread_ts),
            "actions": [action],
        }
        envelope = _envelope("interactive", payload, accepts_response_payload=False)
        return self.socket_mode.deliver(envelope, connection)

    def send_message_shortcut(
        self, callback_id: str, *, user: str, channel: str, message_ts: str, connection: int | None = None
    ) -> str:
        """Deliver a message shortcut used on a message (envelope "interactive", payload "message_action")."""
        with self.workspace.lock:
            stored = self.workspace.history.get((channel, message_ts))
            message = self.workspace.render(stored) if stored else {"type": "message", "ts": message_ts}
        app = self.workspace.app
        payload: dict[str, Any] = {
            "type": "message_action",
            "token": app.verification_token,
            "action_ts": f"{time.time():.6f}",
            "team": {"id": app.team_id, "domain": app.team_domain},
            "user": {"id": user, "username": user.lower(), "name": user.lower(), "team_id": app.team_id},
            "channel": {"id": channel, "name": "directmessage" if channel.startswith("D") else "general"},
            "is_enterprise_install": False,
            "enterprise": None,
            "callback_id": callback_id,
            "trigger_id": trigger_id(),
            "response_url": self.response_urls.new_url(channel, user, message_ts, message.get("thread_ts")),
            "message_ts": message_ts,
            "message": message,
        }
        envelope = _envelope("interactive", payload, accepts_response_payload=False)
        return self.socket_mode.deliver(envelope, connection)

    def _events_envelope(
        self, event: dict[str, Any], event_id: str | None, retry_attempt: int, retry_reason: str
    ) -> dict[str, Any]:
        payload = self.events.event_payload(event, event_id=event_id)
        envelope = _envelope("events_api", payload, accepts_response_payload=False)
        return {**envelope, "retry_attempt": retry_attempt, "retry_reason": retry_reason}


def _envelope(kind: str, payload: dict[str, Any], *, accepts_response_payload: bool) -> dict[str, Any]:
    return {
        "envelope_id": str(uuid.uuid4()),
        "payload": payload,
        "type": kind,
        "accepts_response_payload": accepts_response_payload,
    }


def _find_button(blocks: list[dict[str, Any]], action_id: str) -> tuple[str, dict[str, Any]]:
    """The block_id and text of the button with that action_id in a message, as a click reports them."""
    for block in blocks:
        candidates = list(block.get("elements") or [])
        if isinstance(block.get("accessory"), dict):
            candidates.append(block["accessory"])
        for element in candidates:
            if isinstance(element, dict) and element.get("action_id") == action_id:
                text = element.get("text") or {"type": "plain_text", "text": action_id, "emoji": True}
                return str(block.get("block_id") or slack_id("", 5)), text
    return slack_id("", 5), {"type": "plain_text", "text": action_id, "emoji": True}
