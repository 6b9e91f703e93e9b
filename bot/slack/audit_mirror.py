"""The audit channel (BLUEPRINTDATA_SLACK_AUDIT_CHANNEL): each question and its answer, summarised, with a link
to the thread, so that admins see what is asked without reading every channel. Refusals (at Slack's door, by
the policy, or by a budget) are summarised too: who, where and why, never the data."""

from __future__ import annotations

import logging

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from agent.loop import TurnOutcome
from bot.slack.questions import SlackQuestion

log = logging.getLogger(__name__)
_EXCERPT = 300
_REFUSED = "⛔ refused"


def mirror_turn(
    client: WebClient, audit_channel: str | None, question: SlackQuestion, outcome: TurnOutcome
) -> None:
    """Post one summary of the turn to the audit channel; a failure is logged, never shown to the asker."""
    if not audit_channel:
        return
    lines = [_asked(question.user, question.channel, question.is_direct_message, question.text)]
    cost = f"${outcome.usage.cost_usd:,.4f}"
    if outcome.ok:
        lines.append(f"answered ({cost}): {_excerpt(outcome.text)}")
    elif not outcome.refusals:
        lines.append(f"failed ({cost}): {_excerpt(outcome.text)}")
    if outcome.refusals:
        lines.append(f"{_REFUSED}: {_excerpt('; '.join(outcome.refusals))}")
    _post(client, audit_channel, lines, question.channel, question.message_ts)


def mirror_refusal(
    client: WebClient,
    audit_channel: str | None,
    *,
    user: str,
    channel: str | None,
    message_ts: str | None,
    question: str,
    reason: str,
) -> None:
    """Post a question refused before any turn (a guest, an outsider, a channel the policy does not admit)."""
    if not audit_channel:
        return
    lines = [
        _asked(user, channel, (channel or "").startswith("D"), question),
        f"{_REFUSED} at the door: {_excerpt(reason)}",
    ]
    _post(client, audit_channel, lines, channel, message_ts)


def _asked(user: str, channel: str | None, direct_message: bool, text: str) -> str:
    where = "a DM" if direct_message or not channel else f"<#{channel}>"
    return f"<@{user}> asked in {where}: {_excerpt(text)}"


def _post(
    client: WebClient, audit_channel: str, lines: list[str], channel: str | None, message_ts: str | None
) -> None:
    link = None
    if channel and message_ts:
        try:
            link = client.chat_getPermalink(channel=channel, message_ts=message_ts).get("permalink")
        except SlackApiError:
            link = None
    text = "\n".join(lines) + (f"\n<{link}|Open the thread>" if link else "")
    try:
        client.chat_postMessage(channel=audit_channel, text=text, unfurl_links=False, unfurl_media=False)
    except SlackApiError as exc:
        log.warning("could not post to the audit channel: %s", exc.response.get("error"))


def _excerpt(text: str) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= _EXCERPT else flat[: _EXCERPT - 1] + "…"
