"""Events API events as Slack builds them: user messages and mentions, App Home opens, the event_callback body.

A user's message also enters the channel's history, as on Slack, so conversations.replies shows it.
"""

from __future__ import annotations

import base64
import json
import re
import secrets
import string
import time
import uuid
from typing import Any

from tests.fakes.slack.ids import dm_channel, slack_id
from tests.fakes.slack.messages import SlackMessage
from tests.fakes.slack.workspace import Workspace

_MENTION = re.compile(r"<@([UW][A-Z0-9]+)>")


class EventBuilder:
    """Builds the events a test sends to the app."""

    def __init__(self, workspace: Workspace) -> None:
        self.workspace = workspace

    def app_mention(
        self, text: str, *, user: str, channel: str, ts: str | None = None, thread_ts: str | None = None
    ) -> dict[str, Any]:
        """An app_mention event; the bot's mention is put in front of `text` unless it is already there."""
        mention = f"<@{self.workspace.app.bot_user_id}>"
        full_text = text if mention in text else f"{mention} {text}"
        return self._user_message("app_mention", full_text, user, channel, ts, thread_ts, channel_type=None)

    def channel_message(
        self, text: str, *, user: str, channel: str, ts: str | None = None, thread_ts: str | None = None
    ) -> dict[str, Any]:
        """A message event in a public channel (channel_type "channel")."""
        return self._user_message("message", text, user, channel, ts, thread_ts, channel_type="channel")

    def direct_message(
        self,
        text: str,
        *,
        user: str,
        channel: str | None = None,
        ts: str | None = None,
        thread_ts: str | None = None,
    ) -> dict[str, Any]:
        """A message event in the user's DM with the app (channel_type "im")."""
        return self._user_message(
            "message", text, user, channel or dm_channel(user), ts, thread_ts, channel_type="im"
        )

    def app_home_opened(self, user: str, tab: str = "messages", channel: str | None = None) -> dict[str, Any]:
        """An app_home_opened event; on the home tab it carries the view published for the user, if any."""
        event: dict[str, Any] = {
            "type": "app_home_opened",
            "user": user,
            "channel": channel or dm_channel(user),
            "tab": tab,
            "event_ts": f"{time.time():.6f}",
        }
        view = self.workspace.home_view(user)
        if tab == "home" and view:
            event["view"] = view
        return event

    def event_payload(self, event: dict[str, Any], *, event_id: str | None = None) -> dict[str, Any]:
        """The event_callback body Slack wraps an event in (sent as JSON in HTTP mode)."""
        app = self.workspace.app
        context = {
            "et": event.get("type"),
            "tid": app.team_id,
            "aid": app.app_id,
            "cid": event.get("channel"),
        }
        encoded = base64.urlsafe_b64encode(json.dumps(context).encode()).decode().rstrip("=")
        return {
            "token": app.verification_token,
            "team_id": app.team_id,
            "api_app_id": app.app_id,
            "event": event,
            "type": "event_callback",
            "event_id": event_id or slack_id("Ev"),
            "event_time": int(time.time()),
            "authorizations": [
                {
                    "enterprise_id": None,
                    "team_id": app.team_id,
                    "user_id": app.bot_user_id,
                    "is_bot": True,
                    "is_enterprise_install": False,
                }
            ],
            "is_ext_shared_channel": False,
            "event_context": f"4-{encoded}",
        }

    def _user_message(
        self,
        event_type: str,
        text: str,
        user: str,
        channel: str,
        ts: str | None,
        thread_ts: str | None,
        *,
        channel_type: str | None,
    ) -> dict[str, Any]:
        """A user's message as an event; it also enters the channel's history."""
        workspace = self.workspace
        if ts:
            workspace.clock.observe(ts)
        ts = ts or workspace.clock.next_ts()
        event: dict[str, Any] = {
            "user": user,
            "type": event_type,
            "ts": ts,
            "client_msg_id": str(uuid.uuid4()),
            "text": text,
            "team": workspace.app.team_id,
        }
        with workspace.lock:
            if thread_ts:
                event["thread_ts"] = thread_ts
                parent = workspace.history.get((channel, thread_ts))
                if parent:
                    event["parent_user_id"] = parent.user
            blocks = _rich_text_blocks(text)
            event.update({"blocks": blocks, "channel": channel, "event_ts": ts})
            if channel_type:
                event["channel_type"] = channel_type
            workspace.history.setdefault(
                (channel, ts),
                SlackMessage(
                    channel=channel,
                    ts=ts,
                    text=text,
                    user=user,
                    blocks=blocks,
                    thread_ts=thread_ts,
                    origin="event",
                ),
            )
        return event


def _rich_text_blocks(text: str) -> list[dict[str, Any]]:
    """The rich_text block Slack adds to a user's message, with mentions as user elements."""
    elements: list[dict[str, Any]] = []
    position = 0
    for match in _MENTION.finditer(text):
        if match.start() > position:
            elements.append({"type": "text", "text": text[position : match.start()]})
        elements.append({"type": "user", "user_id": match.group(1)})
        position = match.end()
    if position < len(text):
        elements.append({"type": "text", "text": text[position:]})
    block_id = "".join(secrets.choice(string.ascii_letters + string.digits) for _ in range(5))
    return [
        {
            "type": "rich_text",
            "block_id": block_id,
            "elements": [{"type": "rich_text_section", "elements": elements}],
        }
    ]
