"""The audit channel (BLUEPRINTDATA_SLACK_AUDIT_CHANNEL): each question and its answer, summarised, with a link
to the thread, so that admins see what is asked without reading every channel. A private answer (given in the
asker's DM) is named by the channel it was asked from, and summarised no further than a public one. Refusals (at Slack's door, by
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
    client: WebClient,
    audit_channel: str | None,
    question: SlackQuestion,
    outcome: TurnOutcome,
    *,
    asked_privately_from: str | None = None,
) -> None:
    """Post one summary of the turn to the audit channel; a failure is logged, never shown to the asker.

    `asked_privately_from`: the channel a private answer's question was asked from (the turn ran in a DM)."""
    if not audit_channel:
        return
    lines = [
        _asked(
            question.user, question.channel, question.is_direct_message, question.text, asked_privately_from
        )
    ]
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
    asked_privately_from: str | None = None,
) -> None:
    """Post a question refused before any turn (a guest, an outsider, a channel the policy does not admit)."""
    if not audit_channel:
        return
    lines = [
        _asked(user, channel, (channel or "").startswith("D"), question, asked_privately_from),
        f"{_REFUSED} at the door: {_excerpt(reason)}",
    ]
    _post(client, audit_channel, lines, channel, message_ts)


def _asked(
    user: str, channel: str | None, direct_message: bool, text: str, asked_privately_from: str | None
) -> str:
    if asked_privately_from:
        where = f"privately from <#{asked_privately_from}>"
    else:
        where = "in a DM" if direct_message or not channel else f"in <#{channel}>"
    return f"<@{user}> asked {where}: {_excerpt(text)}"


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
