"""The /blueprintdata slash command: a question or a direct command, answered in a new thread."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from slack_sdk.errors import SlackApiError

from bot.slack import messages
from bot.slack.answering import SlackAnswerer

log = logging.getLogger(__name__)


def on_slash_command(command: dict[str, Any], respond: Callable[..., Any], answerer: SlackAnswerer) -> None:
    """`/blueprintdata question` or `/blueprintdata /sql ...`; an empty text or `help` shows how to use it."""
    text = str(command.get("text") or "").strip()
    if not text or text.lower() == "help":
        respond(text=messages.SLASH_HELP, response_type="ephemeral")
        return
    try:
        answerer.ask_on_behalf(
            team_id=str(command.get("team_id") or ""),
            channel=str(command["channel_id"]),
            user=str(command["user_id"]),
            text=text,
        )
    except SlackApiError as exc:
        log.info("slash command could not post: %s", exc.response.get("error"))
        respond(text=messages.SLASH_NOT_IN_CHANNEL, response_type="ephemeral")
