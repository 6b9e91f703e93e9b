"""Storing a tool run, whether the model or a direct command asked for it."""

from __future__ import annotations

from agent.store.conversations import ConversationStore
from tools.registry import ToolRun


def record_tool_run(store: ConversationStore, session_id: str, call_id: str | None, run: ToolRun) -> None:
    """Persist one tool run with its cost figures and, for failures, the error text."""
    output = run.output
    store.record_tool_run(
        session_id,
        tool_use_id=call_id,
        tool=run.tool,
        input=run.input,
        is_error=output.is_error,
        duration_ms=run.duration_ms,
        rows=output.rows,
        bytes_scanned=output.bytes_scanned,
        error=output.content if output.is_error else None,
    )
