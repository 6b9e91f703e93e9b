"""Text from data or from the model, made unable to notify or mislead in Slack.

Broadcasts (<!channel>, <!here>, <!everyone>), user-group and user mentions (<!subteam^…>, <@U…>) and channel
links are shown as the plain text they are, and every link shows its real address. The bot's own mentions (the
asker in "<@U> asked:", alert owners) are written by the bot around this text, never passed through it.

A word joiner (U+2060, invisible) after the "<" or "@" is what stops Slack from reading a token: the text
looks the same, and neutralising twice changes nothing.
"""

from __future__ import annotations

import re

WORD_JOINER = "\u2060"
# <!channel>, <!subteam^S1|@team>, <@U123|name>, <#C123|general>: special, user and channel tokens; and what
# is left of a link cut short (a truncated value), which a later ">" in the message could still close.
_MENTION_TOKEN = re.compile(r"<(?=[!@#]|[a-z][a-z0-9+.\-]*:)", re.I)
# <https://evil.example|Reset your password>, <mailto:a@b.c|mail>, <https://x>: Slack's own link syntax.
_SLACK_LINK = re.compile(r"<(?P<url>[a-z][a-z0-9+.\-]*:[^<>|\s]+)(?:\|(?P<label>[^<>]*))?>", re.I)
# [Reset your password](https://evil.example): a Markdown link hides its address behind its label too.
# Its address may hold one level of parentheses (https://en.wikipedia.org/wiki/Foo_(bar)).
_MARKDOWN_LINK = re.compile(
    r"(?<!!)\[(?P<label>[^\[\]\n]+)\]\((?P<url>[a-z][a-z0-9+.\-]*:(?:[^()\s]|\([^()\s]*\))+)\)", re.I
)
# What is left that Markdown could still read as a link ([label](url "title"), [label][ref], [ref]: url):
# broken by an invisible word joiner, deny by default.
_MARKDOWN_LINK_REST = re.compile(r"\](?=[(\[:])")
# @channel, @here, @everyone typed as words: Slack reads them as broadcasts in some message kinds.
_BARE_BROADCAST = re.compile(r"@(?=(?:channel|here|everyone)\b)", re.I)
# How far back a stream holds text that may still become a token; a longer token is released as it is.
_HOLD_LIMIT = 400


def plain_untrusted(text: str) -> str:
    """`text` with every Slack token shown as plain text and every link followed by its real address."""
    text = _SLACK_LINK.sub(_visible_link, text)
    text = _MARKDOWN_LINK.sub(_visible_link, text)
    if "]" in text:
        text = _MARKDOWN_LINK_REST.sub("]" + WORD_JOINER, text)
    text = _MENTION_TOKEN.sub("<" + WORD_JOINER, text)
    return _BARE_BROADCAST.sub("@" + WORD_JOINER, text)


def visible_links(mrkdwn: str) -> str:
    """Every labelled Slack link in `mrkdwn` shown as its label and its real address.

    For converted text: a Markdown link whose address plain_untrusted could not read (parentheses in it) still
    becomes a Slack link in the converter, and must not hide where it goes either.
    """
    return _SLACK_LINK.sub(_visible_link, mrkdwn) if "|" in mrkdwn else mrkdwn


def _visible_link(match: re.Match[str]) -> str:
    url, label = match.group("url"), (match.group("label") or "").strip()
    if not label or label == url:
        return url
    return f"{label} ({url})"


class UntrustedStream:
    """`plain_untrusted` for text that arrives in pieces: a token split across pieces is held until it closes."""

    def __init__(self) -> None:
        self._pending = ""

    def push(self, delta: str) -> str:
        """The part of the text so far that is safe to show now."""
        text = self._pending + delta
        cut = _complete_up_to(text)
        self._pending = text[cut:]
        return plain_untrusted(text[:cut])

    def flush(self) -> str:
        """Whatever is still held, at the end of the text."""
        rest, self._pending = self._pending, ""
        return plain_untrusted(rest)


def _complete_up_to(text: str) -> int:
    """Where the text may be cut without splitting a possible token, link or @broadcast."""
    cut = len(text)
    start = max(0, len(text) - _HOLD_LIMIT)
    opening = text.rfind("<", start)
    if opening != -1 and ">" not in text[opening:]:
        cut = min(cut, opening)
    bracket = text.rfind("[", start)
    if bracket != -1 and not _markdown_link_closed(text[bracket:]):
        cut = min(cut, bracket)
    at = text.rfind("@", max(0, len(text) - 10))
    if at != -1:
        partial = text[at + 1 :].lower()
        if any(word.startswith(partial) for word in ("channel", "here", "everyone")):
            cut = min(cut, at)
    return cut


def _markdown_link_closed(text: str) -> bool:
    """False while `[label](url` may still become a link; True once it is one, or cannot be."""
    close = text.find("]")
    if close == -1:
        return "\n" in text
    after = text[close + 1 :]
    if not after:
        return False
    if not after.startswith("("):
        return True
    return ")" in after or any(space in after for space in " \n")
