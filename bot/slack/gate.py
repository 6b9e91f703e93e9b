"""The one entry gate: every Slack request (mention, DM, thread reply, slash command, button, assistant thread,
home tab) is classified as an entry and admitted or refused here, before any listener runs.

Admission rules are plain functions of the entry; the gate runs them in order and the first refusal wins. The
rules today drop what is not a person's question (bots, edits, joins, empty text); channel and user policies
are further rules on the same list.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from slack_bolt import BoltContext, BoltResponse
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.slack.questions import is_from_a_person

log = logging.getLogger(__name__)

EntryKind = Literal[
    "mention",
    "direct_message",
    "thread_reply",
    "channel_message",
    "slash_command",
    "button",
    "shortcut",
    "assistant_thread",
    "home_tab",
    "other",
]
# Entries that carry a person's words for the agent.
MESSAGE_KINDS: frozenset[EntryKind] = frozenset(
    {"mention", "direct_message", "thread_reply", "channel_message"}
)


@dataclass(frozen=True)
class SlackEntry:
    """One request into the app, reduced to what admission decides on; `body` is the request as Slack sent it."""

    kind: EntryKind
    team_id: str
    channel: str | None
    user: str | None
    thread_ts: str | None
    body: dict[str, Any]

    @property
    def event(self) -> dict[str, Any]:
        """The Events API event ({} for commands and buttons)."""
        event = self.body.get("event")
        return event if isinstance(event, dict) else {}


@dataclass(frozen=True)
class Refusal:
    """Why an entry is not admitted; `message` is told to the person, None drops the entry silently."""

    reason: str
    message: str | None = None


AdmissionRule = Callable[[SlackEntry], Refusal | None]


def classify(body: dict[str, Any]) -> SlackEntry:
    """The entry a request body is (Events API, slash command or interactive payload)."""
    team = body.get("team")
    team_id = str(body.get("team_id") or (team.get("id") if isinstance(team, dict) else "") or "")
    if body.get("command"):
        return SlackEntry("slash_command", team_id, body.get("channel_id"), body.get("user_id"), None, body)
    if body.get("type") == "block_actions":
        channel, user = body.get("channel") or {}, body.get("user") or {}
        container = body.get("container") or {}
        thread = container.get("thread_ts") or container.get("message_ts")
        return SlackEntry("button", team_id, channel.get("id"), user.get("id"), thread, body)
    if body.get("type") == "message_action":  # A message shortcut: on `message`, in `channel`.
        channel, user, message = body.get("channel") or {}, body.get("user") or {}, body.get("message") or {}
        thread = message.get("thread_ts") or message.get("ts")
        return SlackEntry("shortcut", team_id, channel.get("id"), user.get("id"), thread, body)
    event = body.get("event")
    if body.get("type") != "event_callback" or not isinstance(event, dict):
        return SlackEntry("other", team_id, None, None, None, body)
    team_id = str(event.get("team") or team_id)
    event_type = event.get("type")
    if event_type in {"assistant_thread_started", "assistant_thread_context_changed"}:
        thread = event.get("assistant_thread") or {}
        return SlackEntry(
            "assistant_thread",
            team_id,
            thread.get("channel_id"),
            thread.get("user_id"),
            thread.get("thread_ts"),
            body,
        )
    kind: EntryKind = "other"
    if event_type == "app_mention":
        kind = "mention"
    elif event_type == "message":
        kind = _message_kind(event)
    elif event_type == "app_home_opened":
        kind = "home_tab"
    return SlackEntry(kind, team_id, event.get("channel"), event.get("user"), event.get("thread_ts"), body)


def _message_kind(event: dict[str, Any]) -> EntryKind:
    if event.get("channel_type") == "im":
        return "direct_message"
    return "thread_reply" if event.get("thread_ts") else "channel_message"


def from_a_person(bot_user_id: str | None) -> AdmissionRule:
    """Drop messages that are not a person asking: our own, other bots', edits, joins, empty text."""

    def rule(entry: SlackEntry) -> Refusal | None:
        if entry.kind in MESSAGE_KINDS and not is_from_a_person(entry.event, bot_user_id):
            return Refusal("not a person's message")
        return None

    return rule


class EntryGate:
    """Runs the admission rules for every request, as a Bolt global middleware."""

    def __init__(self, rules: Sequence[AdmissionRule], client: WebClient) -> None:
        self._rules = list(rules)
        self._client = client

    def admit(self, entry: SlackEntry) -> Refusal | None:
        """None when every rule admits the entry; else the first refusal."""
        for rule in self._rules:
            refusal = rule(entry)
            if refusal is not None:
                return refusal
        return None

    def middleware(
        self, body: dict[str, Any], context: BoltContext, next: Callable[[], BoltResponse]
    ) -> BoltResponse:
        """Bolt middleware: admitted entries go on to their listener with `context["entry"]` set."""
        entry = classify(body)
        refusal = self.admit(entry)
        if refusal is None:
            context["entry"] = entry
            return next()
        log.info("%s refused: %s", entry.kind, refusal.reason)
        if refusal.message is None:
            return BoltResponse(status=200, body="")
        if entry.kind == "slash_command":
            # The acknowledgement itself carries the answer, seen only by the person who typed the command.
            return BoltResponse(status=200, body={"response_type": "ephemeral", "text": refusal.message})
        self._tell(entry, refusal.message)
        return BoltResponse(status=200, body="")

    def _tell(self, entry: SlackEntry, message: str) -> None:
        """Say why, where the person asked: never leave a refused question without an answer."""
        if entry.channel is None:
            return
        try:
            if entry.kind in {"button", "shortcut", "home_tab"} and entry.user:
                self._client.chat_postEphemeral(
                    channel=entry.channel, user=entry.user, text=message, thread_ts=entry.thread_ts
                )
                return
            thread = entry.thread_ts or entry.event.get("ts")
            self._client.chat_postMessage(
                channel=entry.channel, thread_ts=thread, text=message, unfurl_links=False
            )
        except SlackApiError as exc:
            log.warning("could not tell why an entry was refused: %s", exc.response.get("error"))
