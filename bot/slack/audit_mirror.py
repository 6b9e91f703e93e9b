"""The audit channel (BLUEPRINTDATA_SLACK_AUDIT_CHANNEL): each question and its answer, summarised, with a link
to the thread, so that admins see what is asked without reading every channel."""

from __future__ import annotations

import logging

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from agent.loop import TurnOutcome
from bot.slack.questions import SlackQuestion

log = logging.getLogger(__name__)
_EXCERPT = 300


def mirror_turn(
    client: WebClient, audit_channel: str | None, question: SlackQuestion, outcome: TurnOutcome
) -> None:
    """Post one line about the turn to the audit channel; a failure is logged, never shown to the asker."""
    if not audit_channel:
        return
    try:
        link = client.chat_getPermalink(channel=question.channel, message_ts=question.message_ts).get(
            "permalink"
        )
    except SlackApiError:
        link = None
    where = "a DM" if question.is_direct_message else f"<#{question.channel}>"
    result = "answered" if outcome.ok else "failed"
    text = (
        f"<@{question.user}> asked in {where}: {_excerpt(question.text)}\n"
        f"{result} (${outcome.usage.cost_usd:,.4f}): {_excerpt(outcome.text)}"
        + (f"\n<{link}|Open the thread>" if link else "")
    )
    try:
        client.chat_postMessage(channel=audit_channel, text=text, unfurl_links=False, unfurl_media=False)
    except SlackApiError as exc:
        log.warning("could not post to the audit channel: %s", exc.response.get("error"))


def _excerpt(text: str) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= _EXCERPT else flat[: _EXCERPT - 1] + "…"
