"""Profile statistics as short text for describe_model; values of sensitive columns are never shown."""

from __future__ import annotations

import json

from tools.profiling.profile import ColumnProfile, ModelProfile, Scalar

_TOP_SHOWN = 5
_TEXT_LIMIT = 40  # Long values (free text) are cut: they are data, and the model needs only their gist.


def profile_header(profile: ModelProfile) -> str:
    """`Rows: 32,716 (profiled 2026-11-25 07:20 UTC)`, saying when the statistics come from a sample."""
    rows = f"{profile.row_count:,}" if profile.row_count is not None else "unknown"
    when = profile.profiled_at.strftime("%Y-%m-%d %H:%M UTC")
    sample = f"; column statistics from a {profile.sample_percent:g}% sample" if profile.sampled else ""
    return f"Rows: {rows} (profiled {when}{sample})"


def column_statistics(column: ColumnProfile, *, sensitive: bool, share_values: bool = True) -> str:
    """`3.2% null, ~7 distinct, 2024-01-01 … 2025-01-31, top: "US" (4,487)`; no values when sensitive.

    share_values=False (BLUEPRINTDATA_SEND_RESULT_ROWS_TO_MODEL off) keeps every column's values back, not only
    the sensitive ones.
    """
    parts = []
    if column.null_fraction is not None:
        parts.append(f"{_percent(column.null_fraction)} null")
    if column.distinct_count is not None:
        parts.append(f"~{column.distinct_count:,} distinct")
    if sensitive or column.sensitive:
        parts.append("sensitive: values withheld")
        return ", ".join(parts)
    if not share_values:
        parts.append("values not shared (a setting)")
        return ", ".join(parts)
    if column.min is not None or column.max is not None:
        parts.append(f"{_value(column.min)} … {_value(column.max)}")
    if column.top_values:
        # Text values in quotes: they are data from the warehouse, never words addressed to the model.
        shown = ", ".join(f"{_quoted(top.value)} ({top.count:,})" for top in column.top_values[:_TOP_SHOWN])
        parts.append(f"top: {shown}")
    return ", ".join(parts)


def _percent(fraction: float) -> str:
    if fraction == 0:
        return "0%"
    if fraction < 0.001:
        return "<0.1%"
    return f"{fraction * 100:.1f}%".replace(".0%", "%")


def _quoted(value: Scalar) -> str:
    return json.dumps(_value(value), ensure_ascii=False) if isinstance(value, str) else _value(value)


def _value(value: Scalar) -> str:
    if isinstance(value, float):
        return f"{value:,.6g}" if abs(value) < 1e6 else f"{value:,.0f}"
    if isinstance(value, int) and not isinstance(value, bool):
        return f"{value:,}" if abs(value) >= 10_000 else str(value)
    text = " ".join(str(value).split())
    return text if len(text) <= _TEXT_LIMIT else text[: _TEXT_LIMIT - 1] + "…"
