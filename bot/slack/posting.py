"""Posting into a thread with a fallback chain, so a rejected format never costs the user the answer."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.slack.rendering.markdown import MESSAGE_TEXT_LIMIT, SECTION_TEXT_LIMIT, split_text, to_mrkdwn

log = logging.getLogger(__name__)

# Errors that mean "this payload's shape was refused", where a plainer rendering will go through.
FORMAT_ERRORS = frozenset({"invalid_blocks", "invalid_blocks_format", "msg_too_long", "invalid_arguments"})

Blocks = list[dict[str, Any]]


def is_format_error(exc: SlackApiError) -> bool:
    return str(exc.response.get("error")) in FORMAT_ERRORS


def post_in_thread(
    client: WebClient, channel: str, thread_ts: str, *, text: str, variants: Sequence[Blocks]
) -> str:
    """Post the first block variant Slack accepts, else `text` alone; returns the message ts.

    Rate limits and server errors are retried by the client's retry handlers; only format refusals move on to
    the next, plainer variant.
    """
    fallback = _notification_text(text)
    for blocks in variants:
        try:
            response = client.chat_postMessage(
                channel=channel, thread_ts=thread_ts, text=fallback, blocks=blocks, unfurl_links=False
            )
            return str(response["ts"])
        except SlackApiError as exc:
            if not is_format_error(exc):
                raise
            log.warning("Slack refused a block layout (%s); trying a plainer one", exc.response.get("error"))
    last_ts = ""
    for chunk in split_text(to_mrkdwn(text), MESSAGE_TEXT_LIMIT // 2) or [fallback]:
        response = client.chat_postMessage(
            channel=channel, thread_ts=thread_ts, text=chunk, unfurl_links=False
        )
        last_ts = str(response["ts"])
    return last_ts


def update_message(
    client: WebClient, channel: str, ts: str, *, text: str, variants: Sequence[Blocks]
) -> bool:
    """Replace a message with the first variant Slack accepts; False when every variant was refused."""
    fallback = _notification_text(text)
    for blocks in variants:
        try:
            client.chat_update(channel=channel, ts=ts, text=fallback, blocks=blocks)
            return True
        except SlackApiError as exc:
            if not is_format_error(exc):
                raise
    return False


def _notification_text(text: str) -> str:
    """The plain `text` Slack shows in notifications and where blocks cannot render (the blocks hold it all)."""
    plain = to_mrkdwn(text).strip() or "…"
    return plain if len(plain) <= SECTION_TEXT_LIMIT else plain[: SECTION_TEXT_LIMIT - 1] + "…"
