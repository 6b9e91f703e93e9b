"""Agent output as Slack Block Kit payloads within Slack's limits: plain functions in, dicts out, no Slack calls."""

from bot.slack.rendering.controls import (
    FEEDBACK_ACTION_ID,
    SHOW_SQL_ACTION_ID,
    answer_controls,
    error_blocks,
    parse_feedback,
    sql_blocks,
)
from bot.slack.rendering.markdown import (
    Block,
    answer_fallback_sections,
    answer_messages,
    escape_mrkdwn,
    section_block,
    split_text,
    to_mrkdwn,
)
from bot.slack.rendering.tables import (
    format_cell,
    table_as_text,
    table_block,
    table_csv,
    table_fits,
    table_summary,
)

__all__ = [
    "FEEDBACK_ACTION_ID",
    "SHOW_SQL_ACTION_ID",
    "Block",
    "answer_controls",
    "answer_fallback_sections",
    "answer_messages",
    "error_blocks",
    "escape_mrkdwn",
    "format_cell",
    "parse_feedback",
    "section_block",
    "split_text",
    "sql_blocks",
    "table_as_text",
    "table_block",
    "table_csv",
    "table_fits",
    "table_summary",
    "to_mrkdwn",
]
