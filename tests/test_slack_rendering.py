"""The Slack rendering layer: answers, tables and controls stay within Slack's limits and lose nothing."""

from __future__ import annotations

import csv
import datetime as dt
import io
import random
import re
from collections import Counter
from decimal import Decimal
from typing import Any

import pytest

from bot.slack.rendering.controls import (
    FEEDBACK_ACTION_ID,
    SHOW_SQL_ACTION_ID,
    answer_controls,
    error_blocks,
    parse_feedback,
    sql_blocks,
)
from bot.slack.rendering.markdown import (
    MARKDOWN_MESSAGE_LIMIT,
    MAX_BLOCKS,
    SECTION_TEXT_LIMIT,
    TABLE_CHARACTER_LIMIT,
    TABLE_COLUMN_LIMIT,
    TABLE_ROW_LIMIT,
    answer_fallback_sections,
    answer_messages,
    split_text,
    to_mrkdwn,
)
from bot.slack.rendering.tables import (
    EMPTY_TEXT,
    NULL_TEXT,
    format_cell,
    table_as_text,
    table_block,
    table_csv,
    table_fits,
    table_summary,
)
from bot.slack.rendering.untrusted import WORD_JOINER, UntrustedStream, plain_untrusted
from tools.results import Column, ResultTable

FENCE_LINE = re.compile(r"^[ \t]*(`{3,}|~{3,})")


def _without_fences(text: str) -> str:
    return "\n".join(line for line in text.split("\n") if not FENCE_LINE.match(line))


def _squash(text: str) -> str:
    return re.sub(r"\s+", "", text)


def _fence_lines(text: str) -> list[str]:
    return [line for line in text.split("\n") if FENCE_LINE.match(line)]


def assert_same_content(original: str, chunks: list[str]) -> None:
    """Apart from whitespace and the fences added at splits, the chunks hold the original, in order."""
    expected = _squash(_without_fences(original))
    position = 0
    for chunk in chunks:
        piece = _squash(_without_fences(chunk))
        assert expected.startswith(piece, position), "a chunk's content is not the next part of the original"
        position += len(piece)
    assert position == len(expected), "content was lost"


def assert_fences_balanced(chunk: str) -> None:
    assert len(_fence_lines(chunk)) % 2 == 0, f"unbalanced code fence in chunk:\n{chunk[:200]}…"


def long_answer(seed: int = 7, size: int = 30_000) -> str:
    """Varied Markdown like the model writes: headings, lists, links, tables, code blocks big and small."""
    rng = random.Random(seed)
    words = [
        "revenue",
        "orders",
        "customers",
        "churn",
        "cohort",
        "weekly",
        "average",
        "median",
        "region",
        "dbt",
        "model",
        "staging",
        "mart",
    ]
    parts: list[str] = []
    while sum(len(part) + 2 for part in parts) < size:
        kind = rng.choice(["paragraph", "list", "heading", "code", "table", "long_line"])
        if kind == "paragraph":
            sentence = " ".join(rng.choice(words) for _ in range(rng.randint(20, 120)))
            parts.append(
                f"The **{rng.choice(words)}** in [the docs](https://example.com/{rng.randint(1, 99)}) {sentence}."
            )
        elif kind == "list":
            parts.append(
                "\n".join(f"- item `{rng.choice(words)}` with *{rng.choice(words)}*" for _ in range(8))
            )
        elif kind == "heading":
            parts.append(f"## {rng.choice(words).title()} by {rng.choice(words)}")
        elif kind == "code":
            lines = [
                f"select {rng.choice(words)}, count(*) from {rng.choice(words)} group by 1" for _ in range(10)
            ]
            parts.append("```sql\n" + "\n".join(lines) + "\n\n-- next\n" + "\n".join(lines) + "\n```")
        elif kind == "table":
            rows = "\n".join(f"| {rng.choice(words)} | {rng.randint(1, 9_999)} |" for _ in range(6))
            parts.append("| name | value |\n|---|---:|\n" + rows)
        else:
            parts.append("https://example.com/" + "x" * 700)
    # One code block longer than a whole message, so a split must fall inside it.
    big = "\n".join(f"    {index:05d} | select * from orders where id = {index}" for index in range(450))
    parts.insert(len(parts) // 2, "```python\n" + big + "\n```")
    return "\n\n".join(parts)


# --- Markdown -> mrkdwn ---------------------------------------------------------------------------------------


def test_mrkdwn_converts_bold_links_lists_and_headings() -> None:
    markdown = (
        "# Weekly revenue\n"
        "## **Top** regions\n"
        "Revenue is **up 12%** this week, see [the dashboard](https://bi.example.com/d/1).\n"
        "- EMEA\n"
        "- APAC\n"
        "1. first"
    )
    mrkdwn = to_mrkdwn(markdown)
    lines = mrkdwn.split("\n")
    assert lines[0] == "*Weekly revenue*"
    assert lines[1] == "*Top regions*"
    assert "*up 12%*" in lines[2] and "**" not in mrkdwn
    # A link shows its real address, wherever its text came from.
    assert "the dashboard (https://bi.example.com/d/1)" in lines[2]
    assert lines[3:5] == ["• EMEA", "• APAC"]
    assert lines[5] == "1. first"


def test_mrkdwn_keeps_code_shows_slack_tokens_as_text_and_escapes_the_rest() -> None:
    markdown = "Use `count(*)` or `sum(*)` when a < b & c > d, cc <@U123> <#C42> <https://x.io>\n> a quote"
    mrkdwn = to_mrkdwn(markdown)
    assert "`count(*)` or `sum(*)`" in mrkdwn
    assert "a &lt; b &amp; c &gt; d" in mrkdwn
    # Model text cannot mention anyone: the tokens are shown as text (a word joiner after "<").
    assert "&lt;\u2060@U123&gt; &lt;\u2060#C42&gt; https://x.io" in mrkdwn
    assert mrkdwn.endswith("\n> a quote")


def test_mrkdwn_code_blocks_are_left_alone_and_lose_the_language_tag() -> None:
    mrkdwn = to_mrkdwn("Run:\n```sql\nselect * from t where **x** < 3\n```")
    assert mrkdwn == "Run:\n```\nselect * from t where **x** &lt; 3\n```"


# --- splitting ---------------------------------------------------------------------------------------------------


def test_split_text_returns_short_text_unchanged_and_nothing_for_empty() -> None:
    assert split_text("hello **world**", 100) == ["hello **world**"]
    assert split_text("", 100) == []
    assert split_text("  \n\n ", 100) == []


def test_split_text_prefers_paragraphs_then_lines_then_spaces() -> None:
    paragraphs = "aaaa aaaa\naaaa aaaa\n\nbbbb bbbb bbbb"
    assert split_text(paragraphs, 25) == ["aaaa aaaa\naaaa aaaa", "bbbb bbbb bbbb"]
    lines = "aaaa aaaa aaaa\nbbbb bbbb bbbb"
    assert split_text(lines, 20) == ["aaaa aaaa aaaa", "bbbb bbbb bbbb"]
    assert split_text("aaaa aaaa aaaa bbbb", 15) == ["aaaa aaaa aaaa", "bbbb"]
    assert split_text("x" * 25, 10) == ["x" * 10, "x" * 10, "x" * 5]


def test_split_text_keeps_the_indentation_of_the_next_line() -> None:
    text = "- parent item with words\n  - nested item"
    assert split_text(text, 30) == ["- parent item with words", "  - nested item"]


def test_split_code_block_is_closed_and_reopened_with_its_language() -> None:
    code = "\n".join(f"x_{index} = {index}" for index in range(60))
    text = "Intro.\n\n```python\n" + code + "\n```\n\nOutro."
    chunks = split_text(text, 120)
    assert len(chunks) > 3
    for chunk in chunks:
        assert len(chunk) <= 120
        assert_fences_balanced(chunk)
    inside = [chunk for chunk in chunks if "x_" in chunk]
    assert inside[0].startswith("Intro.\n\n```python\n") and inside[-1].endswith("\n```\n\nOutro.")
    assert all(chunk.startswith("```python\n") for chunk in inside[1:])
    assert all(chunk.endswith("\n```") for chunk in inside[:-1])
    assert_same_content(text, chunks)


@pytest.mark.parametrize("limit", [60, 97, 256, 1_000, 5_000])
def test_split_text_respects_every_limit_and_loses_nothing(limit: int) -> None:
    text = long_answer(seed=limit, size=12_000)
    chunks = split_text(text, limit)
    assert all(0 < len(chunk) <= limit for chunk in chunks)
    for chunk in chunks:
        assert_fences_balanced(chunk)
    assert_same_content(text, chunks)


# --- answers -----------------------------------------------------------------------------------------------------


def test_empty_answer_gives_no_messages() -> None:
    assert answer_messages("") == []
    assert answer_messages(" \n ") == []
    assert answer_fallback_sections("") == []


def test_short_answer_is_one_markdown_block() -> None:
    assert answer_messages("**Revenue** rose 4%.\n") == [
        [{"type": "markdown", "text": "**Revenue** rose 4%."}]
    ]


def test_long_answer_becomes_several_messages_within_the_markdown_limit() -> None:
    answer = long_answer()
    assert len(answer) > 30_000
    messages = answer_messages(answer)
    assert len(messages) >= 3
    texts = []
    for blocks in messages:
        assert all(block["type"] == "markdown" for block in blocks)
        total = sum(len(block["text"]) for block in blocks)
        assert 0 < total <= MARKDOWN_MESSAGE_LIMIT
        assert len(blocks) <= MAX_BLOCKS
        for block in blocks:
            assert_fences_balanced(block["text"])
            texts.append(block["text"])
    # The answer as shown: its links followed by their address (untrusted.py).
    assert_same_content(plain_untrusted(answer), texts)
    # The code block longer than a message was split inside, and reopened as python.
    assert sum(text.startswith("```python\n") for text in texts) >= 1


def test_fallback_sections_mirror_the_markdown_messages_within_section_limits() -> None:
    answer = long_answer()
    messages = answer_messages(answer)
    fallback = answer_fallback_sections(answer)
    assert len(fallback) == len(messages)
    for markdown_blocks, sections in zip(messages, fallback, strict=True):
        assert 0 < len(sections) <= MAX_BLOCKS
        for section in sections:
            assert section["type"] == "section" and section["text"]["type"] == "mrkdwn"
            assert 0 < len(section["text"]["text"]) <= SECTION_TEXT_LIMIT
            assert_fences_balanced(section["text"]["text"])
        # The same words as the markdown message (markup aside; links put the URL first; no language tags).
        words = Counter(re.findall(r"[a-z]{4,}", markdown_blocks[0]["text"]))
        del words["python"]
        fallback_text = " ".join(section["text"]["text"] for section in sections)
        assert Counter(re.findall(r"[a-z]{4,}", fallback_text)) == words


# --- tables ------------------------------------------------------------------------------------------------------


def result(columns: list[tuple[str, str]], rows: list[list[Any]], *, truncated: bool = False) -> ResultTable:
    return ResultTable(
        columns=[Column(name=name, type=kind) for name, kind in columns],
        rows=rows,
        truncated=truncated,
        elapsed_ms=1.0,
        result_id="r_test",
        sql="select 1",
    )


def wide_result(row_count: int = 500, column_count: int = 25) -> ResultTable:
    columns = [(f"col_{index}", "INT64" if index % 2 else "STRING") for index in range(column_count)]
    rows = [
        [row * 1_000 + column if column % 2 else f"value {row}/{column}" for column in range(column_count)]
        for row in range(row_count)
    ]
    return result(columns, rows)


def cell_texts(block: dict[str, Any]) -> list[list[str]]:
    return [[cell["text"] for cell in row] for row in block["rows"]]


def test_large_result_is_capped_to_slack_table_limits() -> None:
    table = wide_result()
    assert not table_fits(table)
    block = table_block(table)
    assert block is not None and block["type"] == "table"
    rows = cell_texts(block)
    assert 1 < len(rows) <= TABLE_ROW_LIMIT
    assert all(len(row) == TABLE_COLUMN_LIMIT for row in rows)
    assert len(block["column_settings"]) == TABLE_COLUMN_LIMIT
    assert rows[0] == [f"col_{index}" for index in range(TABLE_COLUMN_LIMIT)]
    assert all(cell.strip() for row in rows for cell in row)
    assert sum(len(cell) for row in rows for cell in row) <= TABLE_CHARACTER_LIMIT
    assert all(cell["type"] == "raw_text" for row in block["rows"] for cell in row)


def test_table_keeps_header_plus_99_rows_when_characters_allow() -> None:
    table = result([("n", "INT64")], [[index] for index in range(150)])
    block = table_block(table)
    assert block is not None
    assert len(block["rows"]) == TABLE_ROW_LIMIT  # the header is one of Slack's 100 rows
    assert cell_texts(block)[-1] == ["98"]
    assert not table_fits(table)
    assert table_fits(result([("n", "INT64")], [[index] for index in range(99)]))


def test_table_stops_at_slack_character_limit() -> None:
    table = result([(f"c{index}", "STRING") for index in range(20)], [["x" * 10] * 20 for _ in range(99)])
    block = table_block(table)
    assert block is not None
    assert sum(len(cell) for row in cell_texts(block) for cell in row) <= TABLE_CHARACTER_LIMIT
    assert len(block["rows"]) < 100
    assert not table_fits(table)


def test_cells_are_never_empty_and_read_well() -> None:
    table = result(
        [
            ("customer_id", "INT64"),
            ("name", "STRING"),
            ("revenue", "NUMERIC"),
            ("day", "DATE"),
            ("at", "TIMESTAMP"),
        ],
        [
            [1234, None, Decimal("12345.50"), dt.date(2024, 1, 2), dt.datetime(2024, 1, 2, 3, 4, 5)],
            [5, "", Decimal("0.125"), None, None],
            [6, "   ", None, dt.date(2024, 3, 1), None],
        ],
    )
    block = table_block(table)
    assert block is not None
    rows = cell_texts(block)
    assert rows[1] == ["1234", NULL_TEXT, "12,345.50", "2024-01-02", "2024-01-02 03:04:05"]
    assert rows[2] == ["5", EMPTY_TEXT, "0.125", NULL_TEXT, NULL_TEXT]
    assert rows[3][1] == EMPTY_TEXT
    aligns = [setting["align"] for setting in block["column_settings"]]
    assert aligns == ["right", "left", "right", "left", "left"]
    assert table_fits(table)


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (1234567, "1,234,567"),
        (True, "true"),
        (1234567.891, "1,234,567.89"),
        (3.14159265, "3.14159"),
        (2.5, "2.5"),
        (0.0, "0"),
        (float("nan"), "NaN"),
        (Decimal("1E+3"), "1,000"),
        (Decimal("0.000000012345"), "1.234e-8"),
        ({"a": 1}, '{"a": 1}'),
        (b"\x01\xff", "0x01ff"),
    ],
)
def test_format_cell(value: object, text: str) -> None:
    assert format_cell(value) == text


def test_no_columns_gives_no_table_block() -> None:
    empty = result([], [])
    assert table_block(empty) is None
    assert not table_fits(empty)


def test_csv_round_trips_every_row() -> None:
    table = wide_result()
    table.rows[0][0] = 'comma, "quote"\nnewline'
    table.rows[1][0] = None
    parsed = list(csv.reader(io.StringIO(table_csv(table).decode("utf-8"))))
    assert parsed[0] == table.column_names()
    assert len(parsed) == 1 + 500
    assert all(len(row) == 25 for row in parsed)
    assert parsed[1][0] == 'comma, "quote"\nnewline'
    assert parsed[2][0] == ""
    assert parsed[500][1] == str(499 * 1_000 + 1)


def test_table_as_text_is_fenced_aligned_and_within_budget() -> None:
    text = table_as_text(wide_result(), max_chars=2_900)
    assert len(text) <= 2_900
    assert text.startswith("```\ncol_0")
    assert_fences_balanced(text)
    assert re.search(r"\n… [\d,]+ more rows, \d+ more columns$", text)
    body = text.split("\n```")[0].split("\n")[1:]
    assert len({len(line) for line in body[1:3]}) == 1  # rows of the same shape line up


def test_table_as_text_shows_small_results_whole_and_escapes_mrkdwn() -> None:
    table = result([("name", "STRING"), ("n", "INT64")], [["a & <b>", 1], [None, 22]])
    text = table_as_text(table)
    assert text == "```\nname      n\n-------  --\na &amp; &lt;b&gt;   1\n∅        22\n```"
    for max_chars in (300, 500, 1_000):
        assert len(table_as_text(wide_result(), max_chars=max_chars)) <= max_chars


def test_table_summary() -> None:
    assert table_summary(result([("a", "INT64")] * 3, [[1, 2, 3]] * 12)) == "12 rows × 3 columns"
    assert table_summary(result([("a", "INT64")], [[1]])) == "1 row × 1 column"
    truncated = result([("a", "INT64")] * 3, [[1, 2, 3]] * 10_000, truncated=True)
    assert table_summary(truncated) == "first 10,000 rows (truncated) × 3 columns"


# --- controls ----------------------------------------------------------------------------------------------------


def test_answer_controls_carry_the_reference_not_the_sql() -> None:
    block = answer_controls("session-1|call_a,call_b", has_sql=True)
    assert block["type"] == "actions"
    up, down, show_sql = block["elements"]
    assert up["action_id"].startswith(FEEDBACK_ACTION_ID) and down["action_id"].startswith(FEEDBACK_ACTION_ID)
    assert up["action_id"] != down["action_id"]
    assert show_sql["action_id"] == SHOW_SQL_ACTION_ID
    assert show_sql["value"] == "session-1|call_a,call_b"
    assert parse_feedback(up["value"]) == ("up", "session-1|call_a,call_b")
    assert parse_feedback(down["value"]) == ("down", "session-1|call_a,call_b")
    assert all(
        element["type"] == "button" and len(element["value"]) <= 2_000 for element in block["elements"]
    )


def test_answer_controls_without_sql_has_only_votes() -> None:
    elements = answer_controls("ref", has_sql=False)["elements"]
    assert [element["text"]["text"] for element in elements] == ["👍", "👎"]


def test_answer_controls_refuse_a_reference_too_long_for_a_button() -> None:
    with pytest.raises(ValueError, match="button value"):
        answer_controls("x" * 2_000, has_sql=True)
    with pytest.raises(ValueError):
        answer_controls("", has_sql=False)


@pytest.mark.parametrize("value", ["", "up", "up:", "sideways:ref", "ref-without-vote"])
def test_parse_feedback_rejects_malformed_values(value: str) -> None:
    with pytest.raises(ValueError, match="malformed feedback value"):
        parse_feedback(value)


def test_parse_feedback_keeps_colons_in_the_reference() -> None:
    assert parse_feedback("down:T1:C2:123.456") == ("down", "T1:C2:123.456")


def test_sql_blocks_are_fenced_sections_within_limits() -> None:
    blocks = sql_blocks(["select a < b from t", "  ", "select 2"])
    assert [block["text"]["text"] for block in blocks] == [
        "```\nselect a &lt; b from t\n```",
        "```\nselect 2\n```",
    ]
    markdown = sql_blocks(["select 1"], as_markdown=True)
    assert markdown == [{"type": "markdown", "text": "```sql\nselect 1\n```"}]


def test_huge_sql_is_shortened_with_a_note() -> None:
    huge = "select\n" + ",\n".join(f"  column_{index}" for index in range(3_000)) + "\nfrom t"
    for as_markdown in (False, True):
        blocks = sql_blocks([huge, "select 1"], as_markdown=as_markdown)
        texts = [
            block["text"] if block["type"] == "markdown" else block.get("text", {}).get("text", "")
            for block in blocks
        ]
        assert len(blocks) <= MAX_BLOCKS
        assert sum(len(text) for text in texts) <= MARKDOWN_MESSAGE_LIMIT
        assert blocks[-1]["type"] == "context"
        assert "0 of 2 statements shown in full" in blocks[-1]["elements"][0]["text"]
        for block in blocks[:-1]:
            assert_fences_balanced(block["text"] if as_markdown else block["text"]["text"])
            if not as_markdown:
                assert len(block["text"]["text"]) <= SECTION_TEXT_LIMIT


def test_error_blocks_are_short_and_show_the_reference() -> None:
    section, context = error_blocks("The warehouse <timed out> " + "x" * 2_000, "err_42")
    assert section["type"] == "section" and section["text"]["text"].startswith(
        ":warning: The warehouse &lt;timed"
    )
    assert len(section["text"]["text"]) < 600
    assert context == {"type": "context", "elements": [{"type": "mrkdwn", "text": "Reference: `err_42`"}]}


# --- text from data or the model ---------------------------------------------------------------------------------

HOSTILE_VALUES = (
    "<!channel> ping",
    "<!here> <!everyone>",
    "<!subteam^S0123|@oncall> look",
    "<@U123ABC>",
    "<https://evil.example/login|Reset-your-password>",
    "[Reset your password](https://evil.example/login)",
    "cc @channel and @here",
)
# What Slack would read as a notification or a link with hidden address.
_LIVE_TOKEN = re.compile(r"<[!@#]|<https?:[^>]*\|| @(?:channel|here|everyone)\b|\]\(https?:")


@pytest.mark.parametrize("value", HOSTILE_VALUES)
def test_untrusted_text_cannot_notify_or_hide_a_link(value: str) -> None:
    shown = plain_untrusted(value)
    assert not _LIVE_TOKEN.search(" " + shown), shown
    assert shown.replace(WORD_JOINER, "").replace(" (https://evil.example/login)", "").strip()
    if "evil.example" in value:
        assert "https://evil.example/login" in shown
    assert plain_untrusted(shown) == shown  # Made plain twice, shown the same.


def test_answer_blocks_and_fallbacks_show_model_tokens_as_text() -> None:
    answer = "Top values: " + ", ".join(HOSTILE_VALUES)
    rendered = [block["text"] for blocks in answer_messages(answer) for block in blocks]
    rendered += [s["text"]["text"] for blocks in answer_fallback_sections(answer) for s in blocks]
    rendered.append(to_mrkdwn(answer))
    for text in rendered:
        assert not _LIVE_TOKEN.search(" " + text), text
        assert "https://evil.example/login" in text


def test_streamed_pieces_are_held_until_a_token_closes() -> None:
    answer = "See " + " and ".join(HOSTILE_VALUES) + " done"
    for size in (1, 2, 5, 13):
        stream = UntrustedStream()
        shown = [stream.push(answer[i : i + size]) for i in range(0, len(answer), size)]
        shown.append(stream.flush())
        assert "".join(shown) == plain_untrusted(answer)
        for piece in shown:
            assert not _LIVE_TOKEN.search(" " + piece), piece


def test_table_cells_from_data_cannot_notify() -> None:
    table = result([("value", "VARCHAR")], [[value] for value in HOSTILE_VALUES])
    block = table_block(table)
    assert block is not None
    cells = [cell["text"] for row in block["rows"] for cell in row]
    assert all(not _LIVE_TOKEN.search(" " + cell) for cell in cells)
    assert "<" not in table_as_text(table)  # The text variant escapes every "<" as an entity.
