"""Renders agent events in a terminal with rich: streamed markdown, tables, chart paths, tool activity.

Every text shown is redacted (no secret reaches the screen) and made terminal-safe (no escape sequence from data
or the model is obeyed; see terminal_text.py); data is never read as rich markup.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from rich.console import Console
from rich.live import Live
from rich.status import Status
from rich.table import Table
from rich.text import Text

from agent.event_redaction import EventRedactor
from agent.events import (
    AgentEvent,
    StatusChanged,
    TextDelta,
    TextRetracted,
    ToolFinished,
    ToolStarted,
    TurnFailed,
    TurnFinished,
    TurnStarted,
)
from bot.cli.terminal_text import safe_text, terminal_safe
from tools.results import ResultTable

if TYPE_CHECKING:
    from rich.markdown import Markdown

TABLE_ROWS_SHOWN = 40


class TerminalRenderer:
    """An event sink that draws one turn at a time on a rich console."""

    def __init__(self, console: Console) -> None:
        self._console = console
        self._status: Status | None = None
        self._live: Live | None = None
        self._streamed = ""
        self._any_text = False
        self._last_tool_summary: str | None = None
        self._redactor = EventRedactor()

    def __call__(self, event: AgentEvent) -> None:
        for shown in self._redactor(event):
            self._render(shown)

    def _render(self, event: AgentEvent) -> None:
        if isinstance(event, TurnStarted):
            self._streamed, self._any_text, self._last_tool_summary = "", False, None
        elif isinstance(event, StatusChanged):
            self._show_status(event.status)
        elif isinstance(event, TextDelta):
            self._stream(event.text)
        elif isinstance(event, TextRetracted):
            self._retract()
        elif isinstance(event, ToolStarted):
            self._end_stream()
        elif isinstance(event, ToolFinished):
            self._tool_finished(event)
        elif isinstance(event, TurnFinished):
            self._finished(event)
        elif isinstance(event, TurnFailed):
            self._end_stream()
            self._stop_status()
            self._console.print(safe_text(f"✗ {event.message} (ref {event.reference})", style="bold red"))

    def close(self) -> None:
        """Stop any spinner or live region, e.g. after a cancelled turn."""
        self._end_stream()
        self._stop_status()

    def _show_status(self, status: str) -> None:
        if self._live is not None:
            return
        if not self._console.is_terminal:
            return
        message = Text(f"BlueprintData {terminal_safe(status)}", style="dim")
        if self._status is None:
            self._status = self._console.status(message)
            self._status.start()
        else:
            self._status.update(message)

    def _stop_status(self) -> None:
        if self._status is not None:
            self._status.stop()
            self._status = None

    def _stream(self, text: str) -> None:
        self._stop_status()
        self._any_text = True
        self._streamed += text
        if self._live is None:
            self._live = Live(console=self._console, refresh_per_second=12, vertical_overflow="visible")
            self._live.start()
        self._live.update(_markdown(self._streamed))

    def _retract(self) -> None:
        """The step's text is asked for again: clear what the live region shows of it."""
        self._streamed = ""
        if self._live is not None:
            self._live.update(Text(""))

    def _end_stream(self) -> None:
        if self._live is not None:
            self._live.update(_markdown(self._streamed))
            self._live.stop()
            self._live = None
        self._streamed = ""

    def _tool_finished(self, event: ToolFinished) -> None:
        self._stop_status()
        self._last_tool_summary = event.summary
        mark, style = ("✗", "red") if event.is_error else ("✓", "dim")
        self._console.print(safe_text(f"{mark} {event.tool}: {event.summary}", style=style))
        if event.table is not None and not event.is_error:
            self._console.print(result_table(event.table))
        if event.artifact is not None:
            self._console.print(safe_text(f"Chart saved: {event.artifact.path}", style="bold green"))

    def _finished(self, event: TurnFinished) -> None:
        streamed = self._any_text
        self._end_stream()
        self._stop_status()
        if not streamed and event.text and event.text != self._last_tool_summary:
            # Direct commands answer in plain text; their alignment must survive.
            self._console.print(safe_text(event.text))
        if event.usage.output_tokens:
            usage = event.usage
            self._console.print(
                Text(
                    f"{usage.input_tokens + usage.cache_read_input_tokens + usage.cache_creation_input_tokens:,} in"
                    f" ({usage.cache_read_input_tokens:,} cached) · {usage.output_tokens:,} out"
                    f" · ${usage.cost_usd:.4f}",
                    style="dim",
                )
            )


def result_table(result: ResultTable, limit: int = TABLE_ROWS_SHOWN) -> Table:
    """A rich table of the first rows of a result, with a caption when rows are left out."""
    table = Table(show_lines=False, header_style="bold")
    for column in result.columns:
        numeric = any(
            word in column.type.lower() for word in ("int", "float", "double", "decimal", "numeric")
        )
        table.add_column(safe_text(column.name), justify="right" if numeric else "left")
    for row in result.rows[:limit]:
        table.add_row(*(safe_text(_cell(value)) for value in row))
    shown = min(limit, result.row_count)
    more = " or more" if result.truncated else ""
    if shown < result.row_count or result.truncated:
        table.caption = f"showing {shown} of {result.row_count:,}{more} rows · result {result.result_id}"
    return table


def _markdown(text: str) -> Markdown:
    """The model's Markdown, terminal-safe; links show their address rather than hiding it behind their text.
    The parser loads with the first answer (direct commands never need it)."""
    from rich.markdown import Markdown

    return Markdown(terminal_safe(text), hyperlinks=False)


def _cell(value: object) -> str:
    if value is None:
        return "∅"
    if isinstance(value, float):
        return f"{value:,.2f}"
    if isinstance(value, int) and not isinstance(value, bool):
        return f"{value:,}"
    return str(value)
