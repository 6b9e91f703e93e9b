"""Turning Slack event payloads into questions for the agent, and deciding which messages to ignore."""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass
from typing import Any

from agent.sessions import InboxEntry, InboxKind, SessionKey

# Message subtypes that are not a person asking something: edits, deletions, joins, bot posts...
_IGNORED_SUBTYPES_ALLOW = {None, "thread_broadcast", "file_share"}


@dataclass(frozen=True)
class SlackQuestion:
    """A message the bot should answer, and where the answer goes."""

    event_id: str | None
    team_id: str
    channel: str
    thread_ts: str
    message_ts: str
    user: str
    text: str
    is_direct_message: bool

    @classmethod
    def opening_thread(cls, *, team_id: str, channel: str, ts: str, user: str, text: str) -> SlackQuestion:
        """A question the bot posted on someone's behalf as a new thread's first message (at `ts`)."""
        return cls(
            event_id=None,
            team_id=team_id,
            channel=channel,
            thread_ts=ts,
            message_ts=ts,
            user=user,
            text=text,
            is_direct_message=channel.startswith("D"),
        )

    @property
    def session_key(self) -> SessionKey:
        """One Slack thread is one session."""
        return SessionKey.slack_thread(self.team_id, self.channel, self.thread_ts)

    @property
    def message_key(self) -> str:
        """The message, whichever event (message or app_mention) or redelivery of it carried it."""
        return f"slack:{self.team_id}:{self.channel}:{self.message_ts}"

    def inbox_entry(self, kind: InboxKind, *, message_key: str | None = None) -> InboxEntry:
        """This question as an inbox entry to answer, placed in its thread by its ts; under `message_key` when
        it was stored before it was posted (asked on someone's behalf), else its own."""
        return InboxEntry(
            message_key=message_key or self.message_key,
            conversation_key=self.session_key.conversation_key,
            position=self.message_ts,
            kind=kind,
            payload={"question": asdict(self)},
        )

    @classmethod
    def from_inbox_payload(cls, payload: dict[str, Any]) -> SlackQuestion:
        """The question stored by `inbox_entry`."""
        return cls(**payload["question"])

    @property
    def thread_age_seconds(self) -> float:
        """How long after the thread began this message was sent (both times are Slack's)."""
        return float(self.message_ts) - float(self.thread_ts)

    @property
    def joins_existing_thread(self) -> bool:
        """Asked inside a thread that began before the bot was involved."""
        return self.thread_ts != self.message_ts


def is_from_a_person(event: dict[str, Any], bot_user_id: str | None) -> bool:
    """False for our own messages, other bots, edits, joins and other non-questions."""
    if event.get("subtype") not in _IGNORED_SUBTYPES_ALLOW:
        return False
    if event.get("bot_id") or event.get("bot_profile"):
        return False
    user = event.get("user")
    return bool(user) and user != bot_user_id and bool((event.get("text") or "").strip())


def mentions(text: str, user_id: str | None) -> bool:
    return bool(user_id) and f"<@{user_id}>" in text


def strip_mention(text: str, user_id: str | None) -> str:
    """The question without the leading bot mention."""
    if user_id:
        text = re.sub(rf"<@{re.escape(user_id)}(\|[^>]*)?>", "", text)
    return " ".join(text.split()) if "\n" not in text else text.strip()


def question_from_event(
    body: dict[str, Any], event: dict[str, Any], bot_user_id: str | None
) -> SlackQuestion:
    """A SlackQuestion from an Events API body and its event (app_mention or message)."""
    team_id = str(event.get("team") or body.get("team_id") or "")
    message_ts = str(event["ts"])
    return SlackQuestion(
        event_id=body.get("event_id"),
        team_id=team_id,
        channel=str(event["channel"]),
        thread_ts=str(event.get("thread_ts") or message_ts),
        message_ts=message_ts,
        user=str(event.get("user")),
        text=strip_mention(str(event.get("text") or ""), bot_user_id),
        is_direct_message=event.get("channel_type") == "im",
    )


def received_inbox_entry(envelope: dict[str, Any], bot_user_id: str | None) -> InboxEntry | None:
    """What to store of an arriving Events API envelope before it is acknowledged, or None for events that can
    never become a question (App Home, edits, bots, messages that mention us: those also come as app_mention).

    The whole body is kept so that, if this process dies before its listener ran, another can run it again.
    """
    body = envelope.get("payload")
    if not isinstance(body, dict) or not isinstance(body.get("event"), dict):
        return None
    event: dict[str, Any] = body["event"]
    if event.get("type") not in {"app_mention", "message"} or not event.get("ts") or not event.get("channel"):
        return None
    if not is_from_a_person(event, bot_user_id):
        return None
    question = question_from_event(body, event, bot_user_id)
    kind: InboxKind
    if event["type"] == "app_mention":
        kind = "mention"
    elif question.is_direct_message:
        kind = "direct"
    elif event.get("thread_ts") and not mentions(str(event.get("text") or ""), bot_user_id):
        kind = "reply"
    else:
        return None
    return InboxEntry(
        message_key=question.message_key,
        conversation_key=question.session_key.conversation_key,
        position=question.message_ts,
        kind=kind,
        payload={"body": body},
    )
