"""A question asked on someone's behalf (a slash command, a button, a private answer's move to a DM): stored
before the bot posts it, posted once.

The interaction is stored in the inbox as received, keyed by the click (its trigger id), before anything is
posted; it becomes a question only once posted. A process that dies in between leaves it to the inbox, which
runs the interaction through the app again: the post is then looked for (by the key in its metadata) before
posting, so a crash at any instant neither loses the click nor posts it twice. `post_marked_once` does that
for any message the bot posts on the way (a private answer's question in the DM, and its note in the
channel: bot/slack/listeners/private.py).
"""

from __future__ import annotations

import hashlib
import json
import time
from dataclasses import dataclass
from typing import Any

from slack_sdk import WebClient

from agent.sessions import InboxEntry, SessionKey
from agent.unicode_text import valid_unicode
from bot.slack import messages
from bot.slack.questions import SlackQuestion
from bot.slack.rendering.untrusted import plain_untrusted

_METADATA_TYPE = "blueprintdata_asked"
# How many of a channel's newest messages (a thread's first) are searched for an earlier try's post: it was
# made moments after the click, unless every process was down since (then, in a channel this busy, or a thread
# this long, a second post is possible).
_CHANNEL_LOOKUP = 200
_THREAD_LOOKUP = 1000


@dataclass(frozen=True)
class AskedOnBehalf:
    """One click asking `text` for `user` in `channel` (in `thread_ts`, or as a new thread)."""

    key: str
    team_id: str
    channel: str
    user: str
    text: str
    thread_ts: str | None

    @classmethod
    def of(
        cls,
        request: dict[str, Any],
        *,
        team_id: str,
        channel: str,
        user: str,
        text: str,
        thread_ts: str | None,
    ) -> AskedOnBehalf:
        """The click that `request` (the interaction's body, as Slack sent it) is: the same for a replay."""
        click = (
            str(request.get("trigger_id") or "")
            or hashlib.sha256(json.dumps(request, sort_keys=True, default=str).encode()).hexdigest()
        )
        return cls(f"asked:{team_id}:{click}", team_id, channel, user, text, thread_ts)

    def held_entry(self, request: dict[str, Any]) -> InboxEntry:
        """The click as stored before it is posted: the request to run again, in the thread when there is one
        (it holds the thread's later questions back), else in a conversation of its own."""
        conversation = (
            SessionKey.slack_thread(self.team_id, self.channel, self.thread_ts).conversation_key
            if self.thread_ts
            else self.key
        )
        clicked = (request.get("actions") or [{}])[0].get("action_ts") or f"{time.time():.6f}"
        return InboxEntry(self.key, conversation, str(clicked), "asked", {"body": request})

    def question(self, channel: str, ts: str) -> SlackQuestion:
        """The question, once posted at `ts`."""
        return SlackQuestion(
            event_id=None,
            team_id=self.team_id,
            channel=channel,
            thread_ts=self.thread_ts or ts,
            message_ts=ts,
            user=self.user,
            text=self.text,
            is_direct_message=self.channel.startswith("D"),
        )

    def post_once(self, client: WebClient, *, again: bool) -> SlackQuestion:
        """Post "<user> asked: ..." (as a new thread, or in the thread), marked with the click's key; unless
        `again` (the click run again) and an earlier try of it posted it already (then that post)."""
        ts = post_marked_once(
            client, self.key, again=again, channel=self.channel, thread_ts=self.thread_ts, text=self._shown
        )
        return self.question(self.channel, ts)

    @property
    def _shown(self) -> str:
        return messages.ASKED_ON_BEHALF.format(user=self.user, text=plain_untrusted(valid_unicode(self.text)))


def post_marked(client: WebClient, key: str, *, channel: str, thread_ts: str | None, text: str) -> str:
    """Post `text` (as a new thread, or in the thread) marked with `key` in its metadata, so that a later try
    finds it (`post_marked_once`); returns its ts."""
    response = client.chat_postMessage(
        channel=channel,
        thread_ts=thread_ts,
        text=text,
        unfurl_links=False,
        metadata={"event_type": _METADATA_TYPE, "event_payload": {"key": key}},
    )
    return str(response["ts"])


def _find_marked(client: WebClient, key: str, *, channel: str, thread_ts: str | None) -> str | None:
    """The ts of the message `post_marked` posted with `key` in the channel (or the thread), if an earlier try
    did."""
    if thread_ts:
        found = client.conversations_replies(
            channel=channel, ts=thread_ts, include_all_metadata=True, limit=_THREAD_LOOKUP
        )
    else:
        found = client.conversations_history(
            channel=channel, include_all_metadata=True, limit=_CHANNEL_LOOKUP
        )
    for message in found.get("messages") or []:
        metadata = message.get("metadata") or {}
        if (
            metadata.get("event_type") == _METADATA_TYPE
            and (metadata.get("event_payload") or {}).get("key") == key
        ):
            return str(message["ts"])
    return None


def post_marked_once(
    client: WebClient, key: str, *, again: bool, channel: str, thread_ts: str | None, text: str
) -> str:
    """The ts of `text` posted marked with `key`: looked for first when `again` (an earlier try may have posted
    it before dying), posted when not found."""
    found = _find_marked(client, key, channel=channel, thread_ts=thread_ts) if again else None
    return found or post_marked(client, key, channel=channel, thread_ts=thread_ts, text=text)
