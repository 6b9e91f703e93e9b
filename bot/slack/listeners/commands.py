"""The /blueprintdata slash command: a question or a direct command, answered in a new thread."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from slack_sdk.errors import SlackApiError

from bot.slack import messages
from bot.slack.answering import SlackAnswerer
from bot.slack.listeners.private import PrivateQuestion, on_private_command, private_question

log = logging.getLogger(__name__)


def on_slash_command(command: dict[str, Any], respond: Callable[..., Any], answerer: SlackAnswerer) -> None:
    """`/blueprintdata question`, `/blueprintdata private question` (answered in a DM) or `/blueprintdata /sql
    ...`; an empty text or `help` shows how to use it."""
    text = str(command.get("text") or "").strip()
    if not text or text.lower() == "help":
        respond(text=messages.SLASH_HELP, response_type="ephemeral")
        return
    team_id, channel, user = (
        str(command.get("team_id") or ""),
        str(command["channel_id"]),
        str(command["user_id"]),
    )
    private = private_question(text)
    if private is not None and not channel.startswith("D"):
        reply = on_private_command(answerer, PrivateQuestion(team_id, channel, user, private), command)
        if reply is not None:
            respond(text=reply, response_type="ephemeral")
        return
    text = private or text  # In a DM every answer is private already.
    try:
        answerer.ask_on_behalf(request=command, team_id=team_id, channel=channel, user=user, text=text)
    except SlackApiError as exc:
        log.info("slash command could not post: %s", exc.response.get("error"))
        respond(text=messages.SLASH_NOT_IN_CHANNEL, response_type="ephemeral")
