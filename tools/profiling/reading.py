"""Turning the profile query's one row into column profiles, with values made JSON-safe."""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from datetime import date, datetime, time
from decimal import Decimal
from typing import Any

from tools.profiling.profile import ColumnProfile, Scalar, TopValue
from tools.profiling.query import ColumnPlan, alias

# Top values are kept only for columns with few distinct values: for the rest they say little and cost tokens.
LOW_CARDINALITY = 50


def read_profile(
    names: Sequence[str], row: Sequence[Any], plans: Sequence[ColumnPlan]
) -> tuple[int, dict[str, ColumnProfile]]:
    """The row count and every column's profile from the result columns `names` and values `row`."""
    values = dict(zip(names, row, strict=True))
    row_count = int(values["row_count"] or 0)
    # Statistics come from the sample when there is one; the row count is always exact.
    observed = int(values.get("sampled_rows", row_count) or 0)
    profiles = {}
    for position, plan in enumerate(plans):
        filled = _int(values.get(alias("filled", position))) or 0
        distinct = _int(values.get(alias("distinct", position)))
        if distinct is not None:
            distinct = min(distinct, filled)  # Approximate counts can overshoot a small column.
        top = (
            _top_values(values.get(alias("top", position))) if plan.top_values and not plan.sensitive else ()
        )
        if distinct is not None and distinct > LOW_CARDINALITY:
            top = ()
        profiles[plan.name] = ColumnProfile(
            name=plan.name,
            data_type=plan.data_type,
            null_fraction=round(1 - filled / observed, 6) if observed else None,
            distinct_count=distinct,
            min=json_scalar(values.get(alias("min", position))) if plan.min_max else None,
            max=json_scalar(values.get(alias("max", position))) if plan.min_max else None,
            top_values=top,
            sensitive=plan.sensitive,
        )
    return row_count, profiles


def json_scalar(value: Any) -> Scalar:
    """A value JSON can hold: dates as ISO text, decimals as numbers, anything else as text."""
    if value is None or isinstance(value, bool | int | str):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else str(value)
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, datetime | date | time):
        return value.isoformat()
    return str(value)


def _int(value: Any) -> int | None:
    return None if value is None else int(value)


def _top_values(raw: Any) -> tuple[TopValue, ...]:
    """[[value, count], ...] (DuckDB, PostgreSQL) or [{"value": v, "count": n}, ...] (BigQuery), most frequent first."""
    if raw is None:
        return ()
    try:
        items = json.loads(raw) if isinstance(raw, str) else raw
    except json.JSONDecodeError:
        # Cut by the connector's cell limit (values too long to be worth listing): no top values, not a failure.
        return ()
    pairs: list[TopValue] = []
    for item in items if isinstance(items, list) else []:
        if isinstance(item, dict):
            value, count = item.get("value"), item.get("count")
        elif isinstance(item, list) and len(item) == 2:
            value, count = item
        else:
            continue  # Not a (value, count) pair: nothing trustworthy to keep.
        if value is not None and isinstance(count, int | float | str):
            pairs.append(TopValue(json_scalar(value), int(count)))
    pairs.sort(key=lambda top: (-top.count, str(top.value)))
    return tuple(pairs)
