"""The app's Messages tab: greet each person once with questions this project can answer."""

from __future__ import annotations

import logging
from typing import Any

from slack_sdk.errors import SlackApiError

from agent.suggestions import suggested_questions
from bot.slack import messages
from bot.slack.answering import SlackAnswerer
from bot.slack.rendering.markdown import section_block

log = logging.getLogger(__name__)

ASK_SUGGESTION_ACTION_ID = "ask_suggested_question"


def on_app_home_opened(body: dict[str, Any], event: dict[str, Any], answerer: SlackAnswerer) -> None:
    """On the first visit to the Messages tab, post suggestions as buttons and as the thread's prompts."""
    if event.get("tab") != "messages" or not event.get("channel"):
        return
    team_id = str(body.get("team_id") or "")
    user = str(event.get("user") or "")
    if not answerer.runtime.sessions.claim(f"slack-welcome:{team_id}:{user}"):
        return
    questions = suggested_questions(answerer.runtime.index())
    channel = str(event["channel"])
    response = answerer.client.chat_postMessage(
        channel=channel, text=messages.WELCOME, blocks=welcome_blocks(questions), unfurl_links=False
    )
    _suggest(answerer, channel, str(response["ts"]), questions)


def on_assistant_thread_started(event: dict[str, Any], answerer: SlackAnswerer) -> None:
    """A new thread in Slack's assistant view: offer the project's suggested questions as its prompts."""
    thread = event.get("assistant_thread") or {}
    if thread.get("channel_id") and thread.get("thread_ts"):
        questions = suggested_questions(answerer.runtime.index())
        _suggest(answerer, str(thread["channel_id"]), str(thread["thread_ts"]), questions)


def _suggest(answerer: SlackAnswerer, channel: str, thread_ts: str, questions: list[str]) -> None:
    try:
        answerer.client.assistant_threads_setSuggestedPrompts(
            channel_id=channel,
            thread_ts=thread_ts,
            title="Try asking",
            prompts=[{"title": question[:75], "message": question} for question in questions],
        )
    except SlackApiError as exc:
        # Suggested prompts are an extra; the welcome buttons offer the same questions.
        log.info("suggested prompts unavailable: %s", exc.response.get("error"))


def welcome_blocks(questions: list[str]) -> list[dict[str, Any]]:
    """The welcome text and one button per suggested question."""
    buttons = [
        {
            "type": "button",
            "action_id": f"{ASK_SUGGESTION_ACTION_ID}:{position}",
            "text": {"type": "plain_text", "text": question[:75]},
            "value": question[:2000],
        }
        for position, question in enumerate(questions)
    ]
    blocks: list[dict[str, Any]] = [section_block(messages.WELCOME)]
    if buttons:
        blocks.append({"type": "actions", "elements": buttons})
    return blocks


def on_ask_suggested_question(body: dict[str, Any], answerer: SlackAnswerer) -> None:
    """A suggestion button: the question is asked in a new thread and answered there."""
    action = body["actions"][0]
    answerer.ask_on_behalf(
        request=body,
        team_id=str(body.get("team", {}).get("id") or ""),
        channel=str(body["channel"]["id"]),
        user=str(body["user"]["id"]),
        text=str(action["value"]),
    )
