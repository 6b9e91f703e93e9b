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

The move to the DM survives its process dying at any instant, as a question asked on someone's behalf does
(bot/slack/asked_on_behalf.py): the click (or the mention, stored on arrival) is held in the inbox before
anything is posted, the DM's question and the channel's note carry its key, and the inbox runs it again
should the process die before the DM's question is accepted; that try finds what was posted instead of posting
it again.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from typing import Any

from slack_sdk.errors import SlackApiError

from agent.errors import StoreError
from agent.sessions import InboxEntry, SessionKey
from agent.unicode_text import valid_unicode
from bot.slack import messages
from bot.slack.answering import SlackAnswerer
from bot.slack.asked_on_behalf import AskedOnBehalf, post_marked_once
from bot.slack.private_origin import private_session_metadata
from bot.slack.questions import SlackQuestion, received_inbox_entry, strip_mention
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


def answer_privately(
    answerer: SlackAnswerer, asked: PrivateQuestion, held: InboxEntry, *, note_in_thread: str | None
) -> bool:
    """Move `asked` to the asker's DM, once whatever dies when: `held` (the request that asked it, run again by
    the inbox should this process die) is stored before anything is posted; then the DM is opened, the question
    posted there as a new thread that remembers its channel, the channel's thread `note_in_thread` (if any)
    told, and the question accepted there. False when it was not this call's to move (moved before, or in hand
    elsewhere); SlackApiError when the DM cannot be opened or posted in; StoreError when the store failed."""
    key = held.message_key
    return answerer.ask_once(held, lambda again: _post_in_dm(answerer, asked, key, again, note_in_thread))


def _post_in_dm(
    answerer: SlackAnswerer, asked: PrivateQuestion, key: str, again: bool, note_in_thread: str | None
) -> SlackQuestion:
    """The question posted in the DM (found there instead on a try `again` that an earlier one got to), and
    what comes with it: its session, and the channel's note. Each message is marked with `key`, so posted once."""
    client = answerer.client
    dm = str(client.conversations_open(users=asked.user)["channel"]["id"])
    shown = messages.PRIVATE_QUESTION.format(
        channel=asked.channel, text=plain_untrusted(valid_unicode(asked.text))
    )
    ts = post_marked_once(client, key, again=again, channel=dm, thread_ts=None, text=shown)
    # Opened before the question is accepted: the answer (and every follow-up) finds the channel it came from.
    _open_dm_session(answerer, asked, dm, ts)
    if note_in_thread is not None:
        note = messages.PRIVATE_ANSWER_SENT.format(user=asked.user)
        try:
            post_marked_once(
                client, key, again=again, channel=asked.channel, thread_ts=note_in_thread, text=note
            )
        except SlackApiError as exc:  # The answer is on its way: a missing note is no reason to lose it.
            log.warning("could not leave the private answer's note: %s", exc.response.get("error"))
    return SlackQuestion.opening_thread(
        team_id=asked.team_id, channel=dm, ts=ts, user=asked.user, text=asked.text
    )


def _open_dm_session(answerer: SlackAnswerer, asked: PrivateQuestion, dm: str, ts: str) -> None:
    """The DM thread's session, remembering the channel; asked in a thread, it opens with that thread's
    messages as context (only read from Slack)."""
    key = SessionKey.slack_thread(asked.team_id, dm, ts)
    if answerer.runtime.sessions.find(key) is not None:
        return  # Opened by an earlier try, which died before the question was accepted: seeded once.
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


def on_private_mention(
    body: dict[str, Any], question: SlackQuestion, answerer: SlackAnswerer, text: str
) -> None:
    """`@BlueprintData privately ...` in a channel (or `privately ...` in the bot's thread there): answered in a
    DM; the thread hears only that it was."""
    # The event was stored on arrival (`body`, to run again): it is held until it is the DM's question.
    held = received_inbox_entry({"payload": body}, answerer.bot_user_id)
    if held is None:
        return  # Never for a mention or a reply in a thread: both are stored.
    in_thread = InThread(question.thread_ts, question.message_ts) if question.joins_existing_thread else None
    moved = _moved_to_dm(
        answerer,
        PrivateQuestion(question.team_id, question.channel, question.user, text, in_thread),
        held,
        note_in_thread=question.thread_ts,
    )
    if isinstance(moved, str):
        _tell_asker(answerer, question, moved)


def on_private_command(
    answerer: SlackAnswerer, asked: PrivateQuestion, request: dict[str, Any]
) -> str | None:
    """`/blueprintdata private ...` (or the shortcut: `request`, the interaction's body): answered in a DM;
    returns what to tell the asker (ephemerally), None when the click was handled before (nothing to say)."""
    if not asked.text:
        return messages.PRIVATE_NEEDS_QUESTION
    click = AskedOnBehalf.of(
        request,
        team_id=asked.team_id,
        channel=asked.channel,
        user=asked.user,
        text=asked.text,
        thread_ts=None,
    )
    moved = _moved_to_dm(answerer, asked, click.held_entry(request), note_in_thread=None)
    if moved is False:
        return None
    return messages.PRIVATE_ANSWER_COMING if moved is True else moved


def _moved_to_dm(
    answerer: SlackAnswerer, asked: PrivateQuestion, held: InboxEntry, *, note_in_thread: str | None
) -> bool | str:
    """`answer_privately`, or what to tell the asker when it could not be done."""
    try:
        return answer_privately(answerer, asked, held, note_in_thread=note_in_thread)
    except SlackApiError as exc:
        log.warning("could not answer privately: %s", exc.response.get("error"))
        return messages.PRIVATE_NO_DM
    except StoreError as exc:  # Left to the inbox, which tries again; meanwhile the asker hears why.
        return exc.message


def on_private_shortcut(body: dict[str, Any], answerer: SlackAnswerer) -> str | None:
    """The "Answer privately" message shortcut: the message's text, answered to the person who used it in a
    DM; returns what to tell them (ephemerally), None when the click was handled before."""
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
        body,
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
