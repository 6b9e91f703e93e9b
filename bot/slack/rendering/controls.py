"""Block Kit controls around an answer: feedback and "Show SQL" buttons, the SQL on request, a failure notice."""

from __future__ import annotations

from bot.slack.rendering.markdown import (
    ANSWER_CHUNK_LIMIT,
    BUTTON_VALUE_LIMIT,
    MAX_BLOCKS,
    SECTION_TEXT_LIMIT,
    Block,
    context_block,
    escape_mrkdwn,
    section_block,
    split_text,
)

# Action ids are prefixes: the two vote buttons share one block, where Slack wants distinct action ids, so they
# are "answer_feedback:up" and "answer_feedback:down"; listeners match on the prefix and read the vote from the
# button's value with parse_feedback.
FEEDBACK_ACTION_ID = "answer_feedback"
SHOW_SQL_ACTION_ID = "show_sql"
VOTES = ("up", "down")
ERROR_TEXT_LIMIT = 500  # our cap: a failure notice is one short paragraph

_VOTE_BUTTONS = {"up": ("👍", "Helpful answer"), "down": ("👎", "Not helpful")}


def answer_controls(answer_ref: str, *, has_sql: bool) -> Block:
    """An actions block: 👍 / 👎 (values "up:<ref>" / "down:<ref>") and, when has_sql, "Show SQL" (value <ref>).

    The reference identifies the answer; never the SQL itself, as a button value holds at most 2,000 characters.
    ValueError when the reference is empty or too long for a button value.
    """
    if not answer_ref:
        raise ValueError("answer_ref must not be empty")
    longest_value = f"down:{answer_ref}"
    if len(longest_value) > BUTTON_VALUE_LIMIT:
        raise ValueError(
            f"answer_ref is {len(answer_ref)} characters; a button value holds {BUTTON_VALUE_LIMIT}, "
            "so reference fewer query calls"
        )
    elements = [
        _button(
            label, f"{FEEDBACK_ACTION_ID}:{vote}", f"{vote}:{answer_ref}", accessibility_label=description
        )
        for vote, (label, description) in _VOTE_BUTTONS.items()
    ]
    if has_sql:
        elements.append(_button("Show SQL", SHOW_SQL_ACTION_ID, answer_ref))
    return {"type": "actions", "elements": elements}


def parse_feedback(value: str) -> tuple[str, str]:
    """(vote, answer_ref) from a feedback button's value "up:<ref>" or "down:<ref>"; ValueError otherwise."""
    vote, separator, answer_ref = value.partition(":")
    if not separator or vote not in VOTES or not answer_ref:
        raise ValueError(
            f"malformed feedback value {value[:100]!r}: expected 'up:<answer_ref>' or 'down:<answer_ref>'"
        )
    return vote, answer_ref


def sql_blocks(statements: list[str], *, as_markdown: bool = False) -> list[Block]:
    """The SQL behind an answer, fenced, in one message's worth of blocks; a context line says what was left out.

    Section blocks by default, which every client renders; `as_markdown` gives ```sql markdown blocks instead.
    """
    limit = SECTION_TEXT_LIMIT if not as_markdown else ANSWER_CHUNK_LIMIT
    blocks: list[Block] = []
    used = 0
    cleaned = [statement.strip() for statement in statements if statement.strip()]
    complete = 0
    for statement in cleaned:
        parts = split_text(_fenced_sql(statement, as_markdown=as_markdown), limit)
        for part in parts:
            # One block stays free for the note; the message stays within the markdown budget either way.
            if used + len(part) > ANSWER_CHUNK_LIMIT or len(blocks) >= MAX_BLOCKS - 1:
                break
            blocks.append(_text_block(part, as_markdown=as_markdown))
            used += len(part)
        else:
            complete += 1
            continue
        break
    if complete < len(cleaned):
        blocks.append(context_block(f"SQL shortened: {complete} of {len(cleaned)} statements shown in full."))
    return blocks


def error_blocks(message: str, reference: str) -> list[Block]:
    """A short, friendly failure notice, with the reference to quote when asking for help underneath."""
    text = message.strip() or "Something went wrong while answering."
    if len(text) > ERROR_TEXT_LIMIT:
        text = text[: ERROR_TEXT_LIMIT - 1] + "…"
    return [
        section_block(f":warning: {escape_mrkdwn(text)}"),
        context_block(f"Reference: `{escape_mrkdwn(reference[:200])}`"),
    ]


def _button(text: str, action_id: str, value: str, *, accessibility_label: str | None = None) -> Block:
    button: Block = {
        "type": "button",
        "text": {"type": "plain_text", "text": text, "emoji": True},
        "action_id": action_id,
        "value": value,
    }
    if accessibility_label:
        button["accessibility_label"] = accessibility_label
    return button


def _fenced_sql(statement: str, *, as_markdown: bool) -> str:
    if not as_markdown:
        # mrkdwn shows a language tag as a line of the code, and needs &, < and > escaped even inside code.
        # mrkdwn has no longer fences: a zero-width space keeps ``` inside the SQL from closing the block.
        body = escape_mrkdwn(statement).replace("```", "`\u200b`\u200b`")
        return f"```\n{body}\n```"
    fence = "```"
    while fence in statement:
        fence += "`"  # a longer fence, so backticks inside the SQL cannot close it
    return f"{fence}sql\n{statement}\n{fence}"


def _text_block(text: str, *, as_markdown: bool) -> Block:
    return {"type": "markdown", "text": text} if as_markdown else section_block(text)
