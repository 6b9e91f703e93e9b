"""Preparing a result for a chart: typed x values, numeric series, time sorted, long category lists folded."""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from tools.errors import ToolInputError
from tools.results import ResultTable

OTHER = "Other"


@dataclass(frozen=True)
class ChartData:
    """x values and one list of numbers per series name, ready to draw."""

    x: list[Any]
    series: dict[str, list[float | None]]
    x_is_time: bool
    x_label: str
    y_label: str


def to_number(value: Any) -> float | None:
    if value is None:
        return None
    if isinstance(value, bool):
        return float(value)
    if isinstance(value, int | float | Decimal):
        return float(value)
    try:
        return float(str(value))
    except ValueError:
        return None


def to_time(value: Any) -> datetime | None:
    if isinstance(value, datetime):
        return value
    if isinstance(value, date):
        return datetime(value.year, value.month, value.day)
    if isinstance(value, str):
        try:
            return datetime.fromisoformat(value)
        except ValueError:
            return None
    return None


def shape(
    table: ResultTable, x: str, y: list[str], series: str | None, top_n: int, sort_time: bool
) -> ChartData:
    """Columns of `table` as chart data; raises ToolInputError for unknown or non-numeric columns."""
    names = table.column_names()
    for column in [x, *y, *([series] if series else [])]:
        if column not in names:
            raise ToolInputError(
                f"No column {column!r} in result {table.result_id}; columns: {', '.join(names)}."
            )
    if not y:
        raise ToolInputError("Give at least one y column to plot.")
    if series and len(y) != 1:
        raise ToolInputError("With a series column, give exactly one y column.")
    x_raw = table.column_values(x)
    times = [to_time(value) for value in x_raw]
    x_is_time = bool(x_raw) and None not in times
    x_values: list[Any] = times if x_is_time else ["∅" if v is None else str(v) for v in x_raw]
    if series:
        data = _pivot(x_values, table.column_values(series), _numbers(table, y[0]))
    else:
        data = OrderedDict((column, _numbers(table, column)) for column in y)
        data = OrderedDict(_merge_duplicates(x_values, data))
        x_values = list(dict.fromkeys(x_values))
    if x_is_time and sort_time:
        order = sorted(range(len(x_values)), key=lambda i: x_values[i])
        x_values = [x_values[i] for i in order]
        data = OrderedDict((name, [values[i] for i in order]) for name, values in data.items())
    if not x_is_time and len(x_values) > top_n:
        x_values, data = _top_categories(x_values, data, top_n)
    return ChartData(x_values, dict(data), x_is_time, x, ", ".join(y))


def _numbers(table: ResultTable, column: str) -> list[float | None]:
    values = [to_number(v) for v in table.column_values(column)]
    raw = table.column_values(column)
    if any(v is None and r is not None for v, r in zip(values, raw, strict=True)):
        raise ToolInputError(f"Column {column!r} is not numeric; choose a numeric column for y.")
    return values


def _merge_duplicates(
    x_values: list[Any], data: OrderedDict[str, list[float | None]]
) -> list[tuple[str, list[float | None]]]:
    """Rows sharing an x value are summed, so a bar per category shows its total."""
    positions: dict[Any, int] = {}
    for value in x_values:
        positions.setdefault(value, len(positions))
    merged = []
    for name, values in data.items():
        totals: list[float | None] = [None] * len(positions)
        for value, number in zip(x_values, values, strict=True):
            if number is not None:
                slot = positions[value]
                totals[slot] = (totals[slot] or 0.0) + number
        merged.append((name, totals))
    return merged


def _pivot(
    x_values: list[Any], keys: list[Any], numbers: list[float | None]
) -> OrderedDict[str, list[float | None]]:
    """Long format (x, series, y) to one list per series, aligned on the distinct x values."""
    distinct_x = list(dict.fromkeys(x_values))
    index = {value: position for position, value in enumerate(distinct_x)}
    data: OrderedDict[str, list[float | None]] = OrderedDict()
    for value, key, number in zip(x_values, keys, numbers, strict=True):
        row = data.setdefault("∅" if key is None else str(key), [None] * len(distinct_x))
        if number is not None:
            row[index[value]] = (row[index[value]] or 0.0) + number
    x_values[:] = distinct_x
    return data


def _top_categories(
    x_values: list[Any], data: dict[str, list[float | None]], top_n: int
) -> tuple[list[Any], OrderedDict[str, list[float | None]]]:
    """The top_n - 1 largest categories, then one "Other" holding the rest."""
    totals = [sum(abs(values[i] or 0.0) for values in data.values()) for i in range(len(x_values))]
    keep = sorted(
        sorted(range(len(x_values)), key=lambda i: -totals[i])[: top_n - 1], key=lambda i: -totals[i]
    )
    rest = [i for i in range(len(x_values)) if i not in set(keep)]
    folded: OrderedDict[str, list[float | None]] = OrderedDict()
    for name, values in data.items():
        folded[name] = [values[i] for i in keep] + [sum(values[i] or 0.0 for i in rest)]
    return [x_values[i] for i in keep] + [f"{OTHER} ({len(rest)})"], folded
