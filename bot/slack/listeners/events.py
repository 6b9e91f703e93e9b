"""Listeners for Slack events: mentions, direct messages and replies in the bot's threads.

The entry gate (bot/slack/gate.py) has already dropped what is not a person's message. Each listener only decides
whether and where to answer, then hands off: the answer runs on our own worker pool,
so Bolt acknowledges the event at once.
"""

from __future__ import annotations

from typing import Any

from bot.slack.answering import SlackAnswerer
from bot.slack.listeners.private import on_private_mention, private_question
from bot.slack.questions import mentions, question_from_event


def on_app_mention(body: dict[str, Any], event: dict[str, Any], answerer: SlackAnswerer) -> None:
    """`@bot question` in a channel: answer in the thread of the mention (the entry gate admitted it);
    `@bot privately question`: answer in the asker's DM, under the channel's policy."""
    question = question_from_event(body, event, answerer.bot_user_id)
    private = private_question(question.text)
    if private and not question.is_direct_message:
        on_private_mention(body, question, answerer, private)
        return
    answerer.accept(question, "mention")


def on_message(body: dict[str, Any], event: dict[str, Any], answerer: SlackAnswerer) -> None:
    """A direct message, or a reply without a mention in a thread the bot was asked in."""
    question = question_from_event(body, event, answerer.bot_user_id)
    if question.is_direct_message:
        answerer.accept(question, "direct")
        return
    # A mention also arrives as app_mention; answering both would answer twice.
    if mentions(str(event.get("text") or ""), answerer.bot_user_id):
        return
    # Judged from the thread's stored messages, not from a session: the mention that opened the thread may
    # still be waiting for a worker (or for its own listener), and its session not exist yet.
    if not event.get("thread_ts"):
        return
    if answerer.is_bots_thread(question):
        private = private_question(question.text)
        if private:
            on_private_mention(body, question, answerer, private)
            return
        answerer.accept(question, "reply")
    else:
        answerer.ignore(question)
