"""Reading a (time, value) series out of a query result, with messages that say which column to use instead."""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

from tools.errors import ToolInputError
from tools.results import ResultTable


@dataclass(frozen=True)
class MetricSeries:
    """One value per moment, as read from a result: what it is called, and its points in result order."""

    label: str
    time_column: str
    timestamps: list[datetime]
    values: list[float]
    truncated: bool = False  # the result hit the row cap, so the newest periods may be missing


def series_from_table(table: ResultTable, time_column: str | None, value_column: str | None) -> MetricSeries:
    """The series in `table`; missing column names are inferred (the first time and first numeric column)."""
    names = table.column_names()
    time_name = _pick(table, time_column, _is_moment, "date or time") if time_column else _first_time(table)
    if value_column:
        value_name = _pick(table, value_column, _is_number, "numeric")
    else:
        numeric = [name for name in names if name != time_name and _all(table, name, _is_number)]
        if not numeric:
            raise ToolInputError(
                f"Result {table.result_id} has no numeric column besides {time_name!r} (columns: "
                f"{_described(table)}). Query one time column and one number, e.g. SELECT order_date, count(*) "
                "AS orders ... GROUP BY 1."
            )
        value_name = numeric[0]
    timestamps, values = [], []
    for moment, number in zip(table.column_values(time_name), table.column_values(value_name), strict=True):
        if moment is None:
            continue
        timestamps.append(_moment(moment))
        values.append(math.nan if number is None else float(number))
    return MetricSeries(value_name, time_name, timestamps, values, table.truncated)


def _first_time(table: ResultTable) -> str:
    for name in table.column_names():
        if _all(table, name, _is_moment):
            return name
    raise ToolInputError(
        f"Result {table.result_id} has no date or time column (columns: {_described(table)}). Query one time "
        "column and one number, e.g. SELECT order_date, count(*) AS orders ... GROUP BY 1 ORDER BY 1."
    )


def _pick(table: ResultTable, name: str, accepts: Any, kind: str) -> str:
    if name not in table.column_names():
        raise ToolInputError(
            f"Result {table.result_id} has no column {name!r}; its columns: {_described(table)}."
        )
    bad = next(
        (value for value in table.column_values(name) if value is not None and not accepts(value)), None
    )
    if bad is not None:
        fitting = [other for other in table.column_names() if _all(table, other, accepts)]
        hint = f"{kind} columns: {', '.join(fitting)}" if fitting else f"the result has no {kind} column"
        raise ToolInputError(
            f"Column {name!r} holds {type(bad).__name__} values like {str(bad)[:40]!r}, not {kind} values ({hint})."
        )
    return name


def _all(table: ResultTable, name: str, accepts: Any) -> bool:
    present = [value for value in table.column_values(name) if value is not None]
    return bool(present) and all(accepts(value) for value in present)


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float, Decimal)) and not isinstance(value, bool)


def _is_moment(value: Any) -> bool:
    if isinstance(value, date):  # datetime is a date too
        return True
    if isinstance(value, str):
        try:
            datetime.fromisoformat(value)
        except ValueError:
            return False
        return True
    return False


def _moment(value: Any) -> datetime:
    moment = datetime.fromisoformat(value) if isinstance(value, str) else value
    if not isinstance(moment, datetime):
        return datetime(moment.year, moment.month, moment.day)
    # Aware times are compared in UTC; the detector works on naive clock times.
    return moment.astimezone(UTC).replace(tzinfo=None) if moment.tzinfo else moment


def _described(table: ResultTable) -> str:
    return ", ".join(f"{column.name} {column.type}" for column in table.columns)
