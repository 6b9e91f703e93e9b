"""Private answers: a question asked in a channel (`/blueprintdata private ...`, `@BlueprintData privately
...`, or the "Answer privately" shortcut on a message) is answered in the asker's DM, under the channel's
policy.

Why a DM and not an ephemeral reply: Slack cannot update an ephemeral message (chat.update refuses it), so the
status line and a streamed answer cannot be shown; files (charts, CSV) cannot be shared ephemerally; an
ephemeral message in a thread shows only in an active thread, and it is gone when Slack reloads or on another
device, so there is nowhere to ask a follow-up. A DM thread is a normal thread: the answer streams, carries
its chart, and follow-ups there keep the channel's policy (bot/slack/private_origin.py). A question asked
inside a thread brings that thread along: the DM's conversation opens with the thread's messages quoted as
context (read from Slack, never written to), so the answer and its follow-ups know what the thread was about.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from typing import Any

from slack_sdk.errors import SlackApiError

from agent.errors import StoreError
from agent.sessions import SessionKey
from agent.unicode_text import valid_unicode
from bot.slack import messages
from bot.slack.answering import SlackAnswerer
from bot.slack.private_origin import private_session_metadata
from bot.slack.questions import SlackQuestion, strip_mention
from bot.slack.rendering.untrusted import plain_untrusted
from bot.slack.thread_context import private_thread_seed, quoted_thread

log = logging.getLogger(__name__)

# The message shortcut's callback_id (deploy/slack-manifest.yaml).
PRIVATE_SHORTCUT = "answer_privately"

# `private how many ...`, `privately: how many ...`: the keyword, then the question.
_PRIVATE = re.compile(r"^\s*(?:private|privately)(?:\s*[:,\-]\s*|\s+|$)", re.I)


@dataclass(frozen=True)
class InThread:
    """Where in a channel's thread a private question was asked: the thread, and the question's own message."""

    thread_ts: str
    message_ts: str


@dataclass(frozen=True)
class PrivateQuestion:
    """A question asked in a channel, to be answered to its asker alone: who, where, and what."""

    team_id: str
    channel: str
    user: str
    text: str
    in_thread: InThread | None = None


def private_question(text: str) -> str | None:
    """The question when `text` asks for a private answer ("" when only the keyword is there); else None."""
    match = _PRIVATE.match(text)
    return text[match.end() :].strip() if match else None


def answer_privately(answerer: SlackAnswerer, asked: PrivateQuestion) -> str:
    """Open the asker's DM, post the question there as a new thread that remembers its channel, and answer it
    there; returns the DM's channel id. SlackApiError when the DM cannot be opened or posted in."""
    client = answerer.client
    dm = str(client.conversations_open(users=asked.user)["channel"]["id"])
    shown = plain_untrusted(valid_unicode(asked.text))
    root = client.chat_postMessage(
        channel=dm,
        text=messages.PRIVATE_QUESTION.format(channel=asked.channel, text=shown),
        unfurl_links=False,
    )
    ts = str(root["ts"])
    # Opened before the question is accepted: the answer (and every follow-up) finds the channel it came from.
    _open_dm_session(answerer, asked, dm, ts)
    question = SlackQuestion.opening_thread(
        team_id=asked.team_id, channel=dm, ts=ts, user=asked.user, text=asked.text
    )
    answerer.accept(question, "asked")
    return dm


def _open_dm_session(answerer: SlackAnswerer, asked: PrivateQuestion, dm: str, ts: str) -> None:
    """The DM thread's session, remembering the channel; asked in a thread, it opens with that thread's
    messages as context (only read from Slack)."""
    key = SessionKey.slack_thread(asked.team_id, dm, ts)
    metadata = private_session_metadata(
        team_id=asked.team_id, dm_channel=dm, thread_ts=ts, channel=asked.channel, user=asked.user
    )
    thread = asked.in_thread
    earlier = (
        quoted_thread(
            answerer.client,
            asked.channel,
            thread.thread_ts,
            leaving_out=thread.message_ts,
            bot_user_id=answerer.bot_user_id,
        )
        if thread is not None
        else None
    )
    if earlier is None:
        answerer.runtime.sessions.open(key, metadata=metadata)
        return
    seed = private_thread_seed(asked.user, asked.channel, earlier)
    answerer.runtime.sessions.seed(key, seed, title=asked.text, metadata=metadata)


def on_private_mention(question: SlackQuestion, answerer: SlackAnswerer, text: str) -> None:
    """`@BlueprintData privately ...` in a channel (or `privately ...` in the bot's thread there): answered in a
    DM; the thread hears only that it was."""
    client = answerer.client
    # The mention was stored on arrival; it is answered elsewhere, so it leaves the inbox here.
    answerer.inbox.drop(question.message_key)
    if not answerer.runtime.sessions.claim(f"slack-private:{question.message_key}"):
        return  # A redelivery of a mention already moved to the DM.
    in_thread = InThread(question.thread_ts, question.message_ts) if question.joins_existing_thread else None
    failure = _moved_to_dm(
        answerer, PrivateQuestion(question.team_id, question.channel, question.user, text, in_thread)
    )
    if failure is not None:
        _tell_asker(answerer, question, failure)
        return
    client.chat_postMessage(
        channel=question.channel,
        thread_ts=question.thread_ts,
        text=messages.PRIVATE_ANSWER_SENT.format(user=question.user),
        unfurl_links=False,
    )


def on_private_command(answerer: SlackAnswerer, asked: PrivateQuestion) -> str:
    """`/blueprintdata private ...`: answered in a DM; returns what to tell the asker (ephemerally)."""
    if not asked.text:
        return messages.PRIVATE_NEEDS_QUESTION
    failure = _moved_to_dm(answerer, asked)
    return messages.PRIVATE_ANSWER_COMING if failure is None else failure


def _moved_to_dm(answerer: SlackAnswerer, asked: PrivateQuestion) -> str | None:
    """`answer_privately`, or what to tell the asker when it could not be done."""
    try:
        answer_privately(answerer, asked)
    except SlackApiError as exc:
        log.warning("could not answer privately: %s", exc.response.get("error"))
        return messages.PRIVATE_NO_DM
    except StoreError as exc:  # The DM's session could not be stored: its answer would not know the channel.
        return exc.message
    return None


def on_private_shortcut(body: dict[str, Any], answerer: SlackAnswerer) -> str:
    """The "Answer privately" message shortcut: the message's text, answered to the person who used it in a
    DM; returns what to tell them (ephemerally)."""
    message = body.get("message") or {}
    text = strip_mention(str(message.get("text") or ""), answerer.bot_user_id)
    # A reply in a thread: the thread comes along as context (a thread's first message has no earlier ones).
    thread_ts, message_ts = str(message.get("thread_ts") or ""), str(message.get("ts") or "")
    in_thread = InThread(thread_ts, message_ts) if thread_ts and thread_ts != message_ts else None
    return on_private_command(
        answerer,
        PrivateQuestion(
            team_id=str((body.get("team") or {}).get("id") or (body.get("user") or {}).get("team_id") or ""),
            channel=str(body["channel"]["id"]),
            user=str(body["user"]["id"]),
            text=text,
            in_thread=in_thread,
        ),
    )


def _tell_asker(answerer: SlackAnswerer, question: SlackQuestion, text: str) -> None:
    try:
        # In a thread only when there is one: Slack shows an ephemeral reply only in an existing thread.
        thread = question.thread_ts if question.joins_existing_thread else None
        answerer.client.chat_postEphemeral(
            channel=question.channel, user=question.user, thread_ts=thread, text=text
        )
    except SlackApiError as exc:
        log.warning("could not tell the asker: %s", exc.response.get("error"))
