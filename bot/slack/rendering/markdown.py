"""Answer text for Slack: Slack's limits, Markdown to mrkdwn, and splitting long text into messages that fit."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from markdown_to_mrkdwn import SlackMarkdownConverter

from bot.slack.rendering.untrusted import plain_untrusted, visible_links

Block = dict[str, Any]

# Slack's documented limits, in one place (https://docs.slack.dev/reference/block-kit/blocks/ and the
# chat.postMessage reference). Exceeding any of them gets the whole message refused with invalid_blocks or
# msg_blocks_too_long, so every renderer here stays at or under them.
SECTION_TEXT_LIMIT = 3_000  # section block: text object of at most 3,000 characters
MARKDOWN_MESSAGE_LIMIT = 12_000  # markdown blocks: 12,000 characters in all, per message
MAX_BLOCKS = 50  # blocks in one message
MESSAGE_TEXT_LIMIT = 40_000  # chat.postMessage `text`: Slack truncates past 40,000 characters
CONTEXT_TEXT_LIMIT = 2_000  # context block: text of each element
BUTTON_TEXT_LIMIT = 75  # button label, and a button's accessibility_label
BUTTON_VALUE_LIMIT = 2_000  # button value, handed back to us on click
ACTION_ID_LIMIT = 255  # action_id of an interactive element
TABLE_ROW_LIMIT = 100  # table block: rows, the header row included (it is just the first row)
TABLE_COLUMN_LIMIT = 20  # table block: cells in a row, and column_settings items
TABLE_CHARACTER_LIMIT = 10_000  # table block: characters across all cells of the table

# Our own budget, under the 12,000 markdown limit: Slack has refused messages with msg_blocks_too_long a little
# above 13,000 characters of blocks in all (slackapi/bolt-js#2509), and the caller adds controls to the last part.
ANSWER_CHUNK_LIMIT = MARKDOWN_MESSAGE_LIMIT - 1_000

# A fenced code block's opening or closing line: ``` or ~~~ (3 or more), then an optional info string.
_FENCE_LINE = re.compile(r"^[ \t]*(?P<marker>`{3,}|~{3,})[ \t]*(?P<info>.*?)[ \t]*$")
# Slack's own <...> syntax (mentions, channels, special mentions, links) must survive escaping.
_SLACK_TOKEN = r"<(?:[@#!][^<>\s]*|(?:https?|mailto):[^<>\s]+)>"
_MRKDWN_ESCAPES = re.compile(
    rf"(?P<token>{_SLACK_TOKEN})|(?P<quote>^[ \t]*>)|(?P<amp>&(?!(?:amp|lt|gt);))|(?P<lt><)|(?P<gt>>)",
    re.MULTILINE,
)
_INLINE_CODE = re.compile(r"`[^`\n]+`")
_HEADING = re.compile(r"^#{1,6}[ \t]")
_PLACEHOLDER = "\x00{}\x00"
_PLACEHOLDER_PATTERN = re.compile("\x00(\\d+)\x00")
_FENCE_WITH_LANGUAGE = re.compile(r"^([ \t]*)(`{3,})[^`\s]+[ \t]*$", re.MULTILINE)


def escape_mrkdwn(text: str) -> str:
    """Plain text made safe inside mrkdwn: &, < and > as Slack's three entities."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def to_mrkdwn(markdown: str) -> str:
    """Standard Markdown (as the model writes it) as Slack mrkdwn: *bold*, • lists, bold headings.

    The text comes from the model or from data: its mentions and broadcasts show as plain text, and its links
    as their real address (see untrusted.py).
    """
    markdown = plain_untrusted(markdown)
    protected: list[str] = []

    def protect(match: re.Match[str]) -> str:
        protected.append(match.group(0))
        return _PLACEHOLDER.format(len(protected) - 1)

    lines = []
    fence: _Fence | None = None
    for line in _escape_for_mrkdwn(markdown).split("\n"):
        next_fence = _fence_after_line(fence, line)
        if fence is None and next_fence is None:
            if _HEADING.match(line):
                # A heading becomes one bold line; bold markers inside it would nest and show as stray asterisks.
                line = line.replace("**", "").replace("__", "")
            # The converter rewrites * and _ inside `code` too (count(*) would lose its star), so hide code spans.
            line = _INLINE_CODE.sub(protect, line)
        lines.append(line)
        fence = next_fence
    # Deny by default: whatever link the converter made from the text, the text did not choose how it reads.
    converted = visible_links(str(SlackMarkdownConverter().convert("\n".join(lines))))
    converted = _PLACEHOLDER_PATTERN.sub(lambda match: protected[int(match.group(1))], converted)
    # mrkdwn has no language tags: "```sql" would show "sql" as the first line of the code.
    return _FENCE_WITH_LANGUAGE.sub(r"\1\2", converted)


def section_block(mrkdwn: str) -> Block:
    """A section block of mrkdwn text; the caller keeps the text within SECTION_TEXT_LIMIT."""
    return {"type": "section", "text": {"type": "mrkdwn", "text": mrkdwn}}


def context_block(mrkdwn: str) -> Block:
    """A context block (small grey text) of one mrkdwn element."""
    return {"type": "context", "elements": [{"type": "mrkdwn", "text": mrkdwn}]}


def answer_messages(markdown: str) -> list[list[Block]]:
    """The blocks of each message needed to show the whole answer as markdown blocks; [] for an empty answer.

    The answer comes from the model or from data: its mentions, broadcasts and links are made plain first.
    """
    return [
        [{"type": "markdown", "text": chunk}]
        for chunk in split_text(plain_untrusted(markdown).strip(), ANSWER_CHUNK_LIMIT)
    ]


def answer_fallback_sections(markdown: str) -> list[list[Block]]:
    """The same answer as mrkdwn section blocks, for where the markdown block is refused.

    Message i here shows the same part of the answer as message i of `answer_messages`, so a caller can offer
    them as two variants of one message.
    """
    messages = []
    for chunk in split_text(plain_untrusted(markdown).strip(), ANSWER_CHUNK_LIMIT):
        # Well under MAX_BLOCKS: even if escaping made every character five ("&" as "&amp;"), 11,000 characters
        # of markdown give about 20 sections of 3,000.
        messages.append([section_block(part) for part in split_text(to_mrkdwn(chunk), SECTION_TEXT_LIMIT)])
    return messages


def split_text(text: str, limit: int) -> list[str]:
    """`text` in chunks of at most `limit` characters, split at paragraph breaks, else line breaks, else spaces.

    Only the whitespace at each split point is dropped; nothing else is lost or reordered. A code fence that is
    split is closed at the end of one chunk and opened again (same language tag) at the start of the next.
    ValueError when `limit` cannot hold even a fence's opening and closing lines.
    """
    if limit < 1:
        raise ValueError(f"limit must be positive, got {limit}")
    chunks: list[str] = []
    rest = text
    fence: _Fence | None = None  # a code block still open at the end of the previous chunk
    while rest and not rest.isspace():
        opener = fence.opening_line + "\n" if fence else ""
        if fence and len(opener) + len(fence.marker) + 1 > limit // 2:
            opener = fence.marker + "\n"  # a tag this long would leave too little room for the code itself
        budget = limit - len(opener)
        if len(rest) <= budget:
            chunks.append(opener + rest)
            break
        cut, closer, fence = _cut_with_room_for_closer(rest, budget, fence)
        body = rest[: cut.end].rstrip()
        if body:
            chunks.append(opener + body + closer)
        rest = rest[cut.next_start :]
    return chunks


@dataclass(frozen=True)
class _Fence:
    """An open fenced code block: the marker that closes it and the line that opens it again."""

    marker: str
    opening_line: str


@dataclass(frozen=True)
class _Cut:
    end: int  # this chunk is text[:end]
    next_start: int  # the next chunk starts at text[next_start:]
    at_line_end: bool  # text[:end] ends with a whole line


def _cut_with_room_for_closer(
    text: str, budget: int, fence: _Fence | None
) -> tuple[_Cut, str, _Fence | None]:
    """The cut, the fence closer it needs, and the fence left open; the chunk plus closer fits in `budget`."""
    reserve = 0
    while True:
        if budget - reserve < 1:
            raise ValueError(f"limit too small to split text with code fences (need more than {reserve})")
        cut = _cut_point(text, budget - reserve)
        open_fence = _fence_after(fence, text[: cut.end], cut.at_line_end)
        closer = "\n" + open_fence.marker if open_fence else ""
        if len(closer) <= reserve:
            return cut, closer, open_fence
        # Cutting inside a code block: find a cut that leaves room for the closing fence.
        reserve = len(closer)


def _cut_point(text: str, budget: int) -> _Cut:
    """Where to split so that text[:end] fits in `budget`: a late paragraph break, line break or space."""
    candidates = [
        text.rfind(
            "\n\n", 1, budget + 2
        ),  # a break starting at index <= budget leaves text[:index] in budget
        text.rfind("\n", 1, budget + 1),
        max(text.rfind(" ", 1, budget + 1), text.rfind("\t", 1, budget + 1)),
    ]
    found = [index for index in candidates if index > 0]
    # Prefer the strongest break in the second half of the window; a break near the start makes tiny chunks.
    late = [index for index in found if index >= budget // 2]
    if late or found:
        end = late[0] if late else max(found)
        return _cut_before_whitespace(text, end)
    return _cut_inside_line(text, budget)


def _cut_before_whitespace(text: str, end: int) -> _Cut:
    if text[end] != "\n":
        line_start = text.rfind("\n", 0, end) + 1
        if line_start > 0 and _is_fence_line(_line_at(text, line_start)):
            # Never split a fence line: its two halves would read as other fences.
            return _cut_before_whitespace(text, line_start - 1)
    stop = end
    while stop < len(text) and text[stop].isspace():
        stop += 1
    # Drop the whitespace between the chunks, but keep the indentation that starts the next line.
    last_newline = text.rfind("\n", end, stop)
    next_start = last_newline + 1 if last_newline != -1 and stop < len(text) else stop
    return _Cut(end=end, next_start=next_start, at_line_end=text[end] == "\n")


def _cut_inside_line(text: str, budget: int) -> _Cut:
    """A hard cut in a line with no whitespace to split at; never inside a fence line."""
    line_start = text.rfind("\n", 0, budget) + 1
    if line_start > 1 and _is_fence_line(_line_at(text, line_start)):
        return _cut_before_whitespace(text, line_start - 1)
    return _Cut(end=budget, next_start=budget, at_line_end=False)


def _line_at(text: str, start: int) -> str:
    end = text.find("\n", start)
    return text[start:] if end == -1 else text[start:end]


def _is_fence_line(line: str) -> bool:
    return _FENCE_LINE.match(line) is not None


def _fence_after(fence: _Fence | None, text: str, ends_with_whole_line: bool) -> _Fence | None:
    """The code block open after `text`, given the one open before it; a partial last line is not a fence."""
    lines = text.split("\n")
    if not ends_with_whole_line:
        lines = lines[:-1]
    for line in lines:
        fence = _fence_after_line(fence, line)
    return fence


def _fence_after_line(fence: _Fence | None, line: str) -> _Fence | None:
    match = _FENCE_LINE.match(line)
    if match is None:
        return fence
    marker, info = match.group("marker"), match.group("info")
    if fence is None:
        if marker.startswith("`") and "`" in info:
            return None  # ```a``` on one line is inline code, not a fence
        language = info.split()[0] if info else ""
        return _Fence(marker=marker, opening_line=marker + language)
    closes = marker[0] == fence.marker[0] and len(marker) >= len(fence.marker) and not info
    return None if closes else fence


def _escape_for_mrkdwn(markdown: str) -> str:
    """&, < and > escaped as mrkdwn requires, except Slack's own <...> tokens and a leading > quote marker."""

    def replace(match: re.Match[str]) -> str:
        kind = match.lastgroup
        if kind == "amp":
            return "&amp;"
        if kind == "lt":
            return "&lt;"
        if kind == "gt":
            return "&gt;"
        return match.group(0)

    return _MRKDWN_ESCAPES.sub(replace, markdown)
