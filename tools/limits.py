"""The limits and sharing rules tools obey: a small frozen copy of the settings they need, built by the agent."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class ToolLimits:
    """What a tool may spend and show: row cap, time limit, byte cap, rows shown to the model, quality thresholds."""

    max_result_rows: int
    rows_to_model: int
    query_timeout_seconds: float
    max_bytes_scanned: int
    send_result_rows_to_model: bool
    quality_freshness_hours: float
    quality_row_count_change_percent: float
    # Functions the user vouches for beyond the guard's known pure ones (BLUEPRINTDATA_ALLOWED_FUNCTIONS).
    allowed_functions: frozenset[str] = field(default_factory=frozenset)
    # Characters of one tool result the model is sent (BLUEPRINTDATA_MAX_TOOL_RESULT_CHARS); the registry cuts.
    max_tool_result_chars: int = 40_000
