"""Buttons under an answer: 👍/👎 feedback and "Show SQL"."""

from __future__ import annotations

import logging
from typing import Any

from bot.slack import messages
from bot.slack.answering import SlackAnswerer
from bot.slack.rendering.controls import parse_feedback, sql_blocks
from bot.slack.thread_reply import parse_answer_reference

log = logging.getLogger(__name__)


def on_feedback(body: dict[str, Any], answerer: SlackAnswerer) -> None:
    """Store the vote with the answer's message and the person who gave it."""
    vote, reference = parse_feedback(str(body["actions"][0]["value"]))
    session_id, _ = parse_answer_reference(reference)
    user = str(body["user"]["id"])
    message = body.get("message") or {}
    recorded = answerer.runtime.sessions.record_feedback(
        session_id=session_id,
        message_ref=str(message.get("ts") or reference)[:64],
        user=user,
        value="up" if vote == "up" else "down",
    )
    if not recorded:
        log.info("feedback for an unknown session %s ignored", session_id)
        return
    _tell(answerer, body, messages.FEEDBACK_THANKS.format(user=user))


def on_show_sql(body: dict[str, Any], answerer: SlackAnswerer) -> None:
    """Show the person who asked the SQL that produced the answer, read back from the stored tool runs."""
    session_id, call_ids = parse_answer_reference(str(body["actions"][0]["value"]))
    wanted = set(call_ids)
    statements = [
        str(run.input.get("sql"))
        for run in answerer.runtime.sessions.tool_runs(session_id)
        if run.tool_use_id in wanted and run.input.get("sql")
    ]
    if not statements:
        _tell(answerer, body, messages.NO_SQL_FOR_ANSWER)
        return
    _tell(answerer, body, messages.SQL_FOR_ANSWER, blocks=sql_blocks(statements))


def _tell(
    answerer: SlackAnswerer, body: dict[str, Any], text: str, blocks: list[dict[str, Any]] | None = None
) -> None:
    """An ephemeral reply in the thread of the clicked message, seen only by the person who clicked."""
    message = body.get("message") or {}
    answerer.client.chat_postEphemeral(
        channel=str(body["channel"]["id"]),
        user=str(body["user"]["id"]),
        thread_ts=message.get("thread_ts") or message.get("ts"),
        text=text,
        blocks=blocks,
    )
