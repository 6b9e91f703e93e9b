"""Block Kit validation: what Slack would reject in a message's blocks, by its documented limits.

The wording imitates Slack's ("... [json-pointer:/blocks/0/text/text]") but is not guaranteed word for word.
"""

from __future__ import annotations

from typing import Any

MAX_BLOCKS = 50
MAX_SECTION_TEXT = 3000
MAX_SECTION_FIELD_TEXT = 2000
MAX_HEADER_TEXT = 150
MAX_MARKDOWN_TEXT = 12_000
MAX_TABLE_ROWS = 100
MAX_TABLE_COLUMNS = 20


def block_errors(blocks: list[Any]) -> list[str]:
    """What Slack would reject in a message's blocks, in Slack's style; empty when they are valid."""
    errors: list[str] = []
    if len(blocks) > MAX_BLOCKS:
        errors.append(f"no more than {MAX_BLOCKS} items allowed [json-pointer:/blocks]")
    markdown_total = 0
    tables = 0
    for index, block in enumerate(blocks):
        where = f"/blocks/{index}"
        if not isinstance(block, dict) or not isinstance(block.get("type"), str):
            errors.append(f"missing required field: type [json-pointer:{where}]")
            continue
        kind = block["type"]
        if kind == "section":
            errors.extend(_section_errors(block, where))
        elif kind == "header":
            errors.extend(_text_object_errors(block.get("text"), f"{where}/text", MAX_HEADER_TEXT))
        elif kind == "markdown":
            text = block.get("text")
            if not isinstance(text, str) or not text:
                errors.append(f"must be more than 0 characters [json-pointer:{where}/text]")
                continue
            markdown_total += len(text)
            if len(text) > MAX_MARKDOWN_TEXT:
                errors.append(
                    f"must be less than {MAX_MARKDOWN_TEXT + 1} characters [json-pointer:{where}/text]"
                )
        elif kind == "table":
            tables += 1
            if tables > 1:
                errors.append(f"only one table block is allowed per message [json-pointer:{where}]")
            errors.extend(_table_errors(block, where))
    if markdown_total > MAX_MARKDOWN_TEXT and not any("/text]" in error for error in errors):
        errors.append(
            f"the markdown blocks of a message must total less than {MAX_MARKDOWN_TEXT + 1} characters "
            "[json-pointer:/blocks]"
        )
    return errors


def _text_object_errors(text: Any, where: str, limit: int) -> list[str]:
    if not isinstance(text, dict) or text.get("type") not in ("plain_text", "mrkdwn"):
        return [f"must provide an object with type plain_text or mrkdwn [json-pointer:{where}]"]
    value = text.get("text")
    if not isinstance(value, str) or not value:
        return [f"must be more than 0 characters [json-pointer:{where}/text]"]
    if len(value) > limit:
        return [f"must be less than {limit + 1} characters [json-pointer:{where}/text]"]
    return []


def _section_errors(block: dict[str, Any], where: str) -> list[str]:
    fields = block.get("fields")
    if "text" not in block and not fields:
        return [f"must provide either text or fields [json-pointer:{where}]"]
    errors = _text_object_errors(block["text"], f"{where}/text", MAX_SECTION_TEXT) if "text" in block else []
    if isinstance(fields, list):
        if len(fields) > 10:
            errors.append(f"no more than 10 items allowed [json-pointer:{where}/fields]")
        for position, item in enumerate(fields):
            errors.extend(_text_object_errors(item, f"{where}/fields/{position}", MAX_SECTION_FIELD_TEXT))
    return errors


def _table_errors(block: dict[str, Any], where: str) -> list[str]:
    rows = block.get("rows")
    if not isinstance(rows, list) or not rows:
        return [f"must contain at least 1 item [json-pointer:{where}/rows]"]
    errors: list[str] = []
    if len(rows) > MAX_TABLE_ROWS:
        errors.append(f"no more than {MAX_TABLE_ROWS} items allowed [json-pointer:{where}/rows]")
    width: int | None = None
    for row_index, row in enumerate(rows):
        row_where = f"{where}/rows/{row_index}"
        if not isinstance(row, list) or not row:
            errors.append(f"must contain at least 1 item [json-pointer:{row_where}]")
            continue
        if len(row) > MAX_TABLE_COLUMNS:
            errors.append(f"no more than {MAX_TABLE_COLUMNS} items allowed [json-pointer:{row_where}]")
        if width is None:
            width = len(row)
        elif len(row) != width:
            errors.append(f"all rows must have the same number of cells [json-pointer:{row_where}]")
        for cell_index, cell in enumerate(row):
            errors.extend(_cell_errors(cell, f"{row_where}/{cell_index}"))
    settings = block.get("column_settings")
    if settings is not None:
        if not isinstance(settings, list) or len(settings) > MAX_TABLE_COLUMNS:
            errors.append(
                f"no more than {MAX_TABLE_COLUMNS} items allowed [json-pointer:{where}/column_settings]"
            )
        else:
            for position, setting in enumerate(settings):
                align = setting.get("align", "left") if isinstance(setting, dict) else "left"
                if setting is not None and (
                    not isinstance(setting, dict) or align not in ("left", "center", "right")
                ):
                    errors.append(f"invalid column setting [json-pointer:{where}/column_settings/{position}]")
    return errors


def _cell_errors(cell: Any, where: str) -> list[str]:
    kind = cell.get("type") if isinstance(cell, dict) else None
    if kind == "raw_text":
        text = cell.get("text")
        return (
            []
            if isinstance(text, str) and text
            else [f"must be more than 0 characters [json-pointer:{where}/text]"]
        )
    if kind == "raw_number":
        return (
            []
            if isinstance(cell.get("value", cell.get("text")), int | float | str)
            else [f"missing required field: value [json-pointer:{where}]"]
        )
    if kind == "rich_text":
        elements = cell.get("elements")
        return (
            []
            if isinstance(elements, list) and elements
            else [f"must contain at least 1 item [json-pointer:{where}/elements]"]
        )
    return [f"cell type must be raw_text, raw_number or rich_text [json-pointer:{where}/type]"]
