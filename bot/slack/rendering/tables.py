"""Query results for Slack: a table block within Slack's limits, a monospace fallback, a CSV and a summary line."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import math
import re
from decimal import Decimal
from typing import Any

from bot.slack.rendering.markdown import (
    TABLE_CHARACTER_LIMIT,
    TABLE_COLUMN_LIMIT,
    TABLE_ROW_LIMIT,
    Block,
    escape_mrkdwn,
)
from bot.slack.rendering.untrusted import plain_untrusted
from tools.results import Column, ResultTable

NULL_TEXT = "∅"  # a SQL NULL; Slack refuses empty cells, and NULL is not the same as ''
EMPTY_TEXT = "—"  # an empty (or all-whitespace) string
CELL_TEXT_LIMIT = (
    300  # our cap on one table cell: longer values are clipped with … (the CSV keeps them whole)
)
TEXT_CELL_WIDTH = 30  # our cap on a column's width in the monospace fallback
TEXT_LINE_WIDTH = 120  # our cap on a line of the monospace fallback: Slack wraps longer lines in code blocks
WRAP_AFTER = 40  # a text column with a value longer than this wraps instead of being cut off on screen

# Integers that are identifiers or years read wrong with separators ("2,024", "user_id 1,234").
_PLAIN_INTEGER_COLUMN = re.compile(r"(^|_)(id|key|year|code|zip|number|no)$", re.IGNORECASE)
_NUMERIC_TYPE = re.compile(
    r"INT|FLOAT|DOUBLE|REAL|DECIMAL|NUMERIC|NUMBER|BIGNUMERIC|MONEY|HUGEINT|SERIAL", re.IGNORECASE
)


def format_cell(value: object, *, group_digits: bool = True) -> str:
    """A value as readable, never-empty text: NULL as ∅, '' as —, 1,234,567 and 1,234.57, ISO dates."""
    if value is None:
        return NULL_TEXT
    if isinstance(value, str):
        return value if value.strip() else EMPTY_TEXT
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return f"{value:,}" if group_digits else str(value)
    if isinstance(value, float | Decimal):
        return _format_fraction(value, group_digits=group_digits)
    if isinstance(value, dt.datetime):
        return value.isoformat(sep=" ")
    if isinstance(value, dt.date | dt.time):
        return value.isoformat()
    if isinstance(value, bytes):
        return "0x" + value.hex() if value else EMPTY_TEXT
    if isinstance(value, dict | list | tuple):
        return json.dumps(value, default=str, ensure_ascii=False)
    return str(value) or EMPTY_TEXT


def table_block(table: ResultTable) -> Block | None:
    """Slack's table block: header row plus as many rows as fit in 100 rows, 20 columns and 10,000 characters.

    None when the result has no columns. Slack counts the header as one of its 100 rows, so at most 99 data rows.
    """
    if not table.columns:
        return None
    rows = _block_rows(table)
    columns = table.columns[:TABLE_COLUMN_LIMIT]
    settings: list[dict[str, Any]] = []
    for position, column in enumerate(columns):
        if _is_numeric(table, position, column):
            settings.append({"align": "right"})
        else:
            wraps = any(len(row[position]) > WRAP_AFTER for row in rows[1:])
            settings.append({"align": "left", "is_wrapped": wraps})
    return {
        "type": "table",
        "column_settings": settings,
        # raw_text is not parsed by Slack; made plain anyway, as a copy of it pasted elsewhere may be.
        "rows": [[{"type": "raw_text", "text": plain_untrusted(text)} for text in row] for row in rows],
    }


def table_fits(table: ResultTable) -> bool:
    """Whether the table block shows the whole result: every row, every column, no cell clipped."""
    if not table.columns or len(table.columns) > TABLE_COLUMN_LIMIT or table.row_count > TABLE_ROW_LIMIT - 1:
        return False
    rows = _block_rows(table)
    if len(rows) - 1 < table.row_count:
        return False
    return all(
        len(_cell_text(value, column)) <= CELL_TEXT_LIMIT
        for row in table.rows
        for value, column in zip(row, table.columns, strict=False)
    )


def table_as_text(table: ResultTable, max_chars: int = 2_900, *, mrkdwn: bool = True) -> str:
    """A ``` fenced, column-aligned rendering of as much of the result as fits in `max_chars`.

    Rows and columns that do not fit are counted in a closing "… N more rows" line. With `mrkdwn` (the default,
    for a section block) &, < and > are escaped.
    """
    if max_chars < 300:
        raise ValueError(f"max_chars must be at least 300, got {max_chars}")
    escape = escape_mrkdwn if mrkdwn else _unchanged
    if not table.columns:
        return escape("(no columns)")
    line_width = min(TEXT_LINE_WIDTH, (max_chars - 80) // 2)
    cells = [
        [
            _clip(_header_text(column, position), TEXT_CELL_WIDTH)
            for position, column in enumerate(table.columns)
        ],
        *(
            [
                _clip(_cell_text(value, column), TEXT_CELL_WIDTH)
                for value, column in _row_cells(row, table.columns)
            ]
            for row in table.rows[:200]  # more rows than this never fit in a message
        ),
    ]
    widths = [max(len(row[position]) for row in cells) for position in range(len(table.columns))]
    right = [_is_numeric(table, position, column) for position, column in enumerate(table.columns)]
    shown = _columns_within(widths, line_width)

    def line(row: list[str]) -> str:
        padded = [
            row[position].rjust(widths[position])
            if right[position]
            else row[position].ljust(widths[position])
            for position in range(shown)
        ]
        return escape("  ".join(padded).rstrip())

    def header() -> list[str]:
        return [line(cells[0]), "  ".join("-" * widths[position] for position in range(shown))]

    while shown > 1 and len(_fenced(header(), "… more")) > max_chars // 2:
        shown -= 1  # escaping (& as &amp;) can lengthen a header past the budget
    lines = header()
    hidden_columns = len(table.columns) - shown
    body_rows = 0
    for row in cells[1:]:
        candidate = line(row)
        footer = _more_line(table.row_count - body_rows - 1, hidden_columns)
        if len(_fenced([*lines, candidate], footer)) > max_chars:
            break
        lines.append(candidate)
        body_rows += 1
    if table.row_count == 0:
        lines.append("(no rows)")
    return _fenced(lines, _more_line(table.row_count - body_rows, hidden_columns))


def table_csv(table: ResultTable) -> bytes:
    """The whole result as UTF-8 CSV with a header row; NULL as an empty field."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(table.column_names())
    for row in table.rows:
        writer.writerow([_csv_value(value) for value in row])
    return buffer.getvalue().encode("utf-8")


def table_summary(table: ResultTable) -> str:
    """One line about the result's size, e.g. '12 rows × 3 columns' or 'first 10,000 rows (truncated) × 3 columns'."""
    rows = _count(table.row_count, "row")
    if table.truncated:
        rows = f"first {rows} (truncated)"
    return f"{rows} × {_count(len(table.columns), 'column')}"


def _block_rows(table: ResultTable) -> list[list[str]]:
    """Header and data rows as cell texts, stopping at Slack's row and character limits."""
    columns = table.columns[:TABLE_COLUMN_LIMIT]
    header = [
        _clip(_header_text(column, position), CELL_TEXT_LIMIT) for position, column in enumerate(columns)
    ]
    rows = [header]
    used = sum(len(text) for text in header)
    for row in table.rows[: TABLE_ROW_LIMIT - 1]:
        texts = [
            _clip(_cell_text(value, column), CELL_TEXT_LIMIT) for value, column in _row_cells(row, columns)
        ]
        used += sum(len(text) for text in texts)
        if used > TABLE_CHARACTER_LIMIT:
            break
        rows.append(texts)
    return rows


def _row_cells(row: list[Any], columns: list[Column]) -> list[tuple[Any, Column]]:
    """(value, column) for each column; a short row reads as NULLs rather than shifting cells."""
    return [
        (row[position] if position < len(row) else None, column) for position, column in enumerate(columns)
    ]


def _cell_text(value: object, column: Column) -> str:
    return format_cell(value, group_digits=not _PLAIN_INTEGER_COLUMN.search(column.name))


def _header_text(column: Column, position: int) -> str:
    return column.name if column.name.strip() else f"column {position + 1}"


def _is_numeric(table: ResultTable, position: int, column: Column) -> bool:
    values = [
        row[position] for row in table.rows[:1_000] if position < len(row) and row[position] is not None
    ]
    if values:
        return all(
            isinstance(value, int | float | Decimal) and not isinstance(value, bool) for value in values
        )
    return bool(_NUMERIC_TYPE.search(column.type))


def _format_fraction(value: float | Decimal, *, group_digits: bool) -> str:
    if isinstance(value, float) and not math.isfinite(value):
        return "NaN" if math.isnan(value) else ("∞" if value > 0 else "-∞")
    if isinstance(value, Decimal):
        if not value.is_finite():
            return "NaN" if value.is_nan() else ("∞" if value > 0 else "-∞")
        exponent = value.as_tuple().exponent
        if isinstance(exponent, int) and exponent >= -6:
            # A NUMERIC(10, 2) amount keeps its scale: 12.50, not 12.5.
            return format(value, ",f" if group_digits else "f")
    if value == 0:
        return "0"
    magnitude = math.floor(math.log10(abs(float(value)))) + 1  # digits before the point; <= 0 below 1
    if magnitude < -5:
        return f"{value:.3e}"
    # About six significant digits, but never fewer than two decimals' worth of precision for large amounts.
    decimals = min(10, max(2, 6 - magnitude))
    text = format(value, f"{',' if group_digits else ''}.{decimals}f")
    return text.rstrip("0").rstrip(".") if "." in text else text


def _csv_value(value: object) -> object:
    if value is None:
        return ""
    if isinstance(value, dt.datetime):
        return value.isoformat(sep=" ")
    if isinstance(value, dt.date | dt.time):
        return value.isoformat()
    if isinstance(value, bytes):
        return "0x" + value.hex()
    if isinstance(value, dict | list | tuple):
        return json.dumps(value, default=str, ensure_ascii=False)
    return value


def _columns_within(widths: list[int], line_width: int) -> int:
    """How many leading columns fit on one line; always at least one."""
    total = 0
    for count, width in enumerate(widths):
        total += width + (2 if count else 0)
        if total > line_width:
            return max(1, count)
    return len(widths)


def _more_line(hidden_rows: int, hidden_columns: int) -> str:
    parts = []
    if hidden_rows > 0:
        parts.append(f"{hidden_rows:,} more {'row' if hidden_rows == 1 else 'rows'}")
    if hidden_columns > 0:
        parts.append(f"{hidden_columns:,} more {'column' if hidden_columns == 1 else 'columns'}")
    return "… " + ", ".join(parts) if parts else ""


def _fenced(lines: list[str], footer: str) -> str:
    text = "```\n" + "\n".join(lines) + "\n```"
    return text + "\n" + footer if footer else text


def _clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _count(number: int, noun: str) -> str:
    return f"{number:,} {noun}" if number == 1 else f"{number:,} {noun}s"


def _unchanged(text: str) -> str:
    return text
