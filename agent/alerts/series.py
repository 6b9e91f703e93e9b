"""The series an alert watches: one read-only aggregate query per alert (built by tools/anomalies/metric_query.py),
and its rows read as (time, value)."""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from agent.alerts.definitions import AlertDefinition
from tools.anomalies.metric_query import (
    UnparsableSeriesSql,
    metric_series_sql,
    model_relation,
    series_sql,
)
from tools.dbt.index import DbtIndex
from tools.errors import ToolInputError
from tools.results import QueryResult
from tools.sql_guard import check_read_only
from tools.warehouse.base import Warehouse

if TYPE_CHECKING:
    from tools.semantic_layer.engine import SemanticLayer


class AlertQueryError(ToolInputError):
    """The alert's query cannot be built or its result is not a (time, value) series."""


@dataclass(frozen=True)
class SeriesQuery:
    """The checked SQL that returns (period, value) rows, oldest first."""

    sql: str
    dialect: str


@dataclass(frozen=True)
class Series:
    """One value per period, oldest first; periods are naive, in the warehouse's own clock."""

    timestamps: list[datetime]
    values: list[float]
    truncated: bool


def series_query(
    alert: AlertDefinition,
    index: DbtIndex,
    dialect: str,
    semantic_layer: SemanticLayer | None = None,
    allowed_functions: frozenset[str] = frozenset(),
) -> SeriesQuery:
    """The read-only SQL for the alert: its own `sql`, or an aggregate by grain over a model or metric.

    Built by the same code as detect_anomalies' metric series (tools/anomalies/metric_query.py): with the
    project's semantic layer, an alert on a dbt metric is compiled by MetricFlow exactly as query_metrics
    computes it; an alert with plain-SQL filters of its own keeps our aggregate SQL. The guard allows the
    functions the user allowed (`allowed_functions`, BLUEPRINTDATA_ALLOWED_FUNCTIONS), as run_query does.
    """
    if alert.sql:
        return SeriesQuery(check_read_only(alert.sql, dialect, allowed_functions).sql, dialect)
    if alert.metric:
        metric = index.find_metric(alert.metric)
        if metric is None:
            raise AlertQueryError(f"the dbt project has no metric {alert.metric!r}")
        checked = metric_series_sql(
            metric,
            index,
            grain=alert.grain,
            periods=alert.history,
            dialect=dialect,
            filters=alert.filters,
            semantic_layer=semantic_layer,
            allowed_functions=allowed_functions,
        )
        return SeriesQuery(checked.sql, dialect)
    assert alert.model and alert.time_column and alert.measure  # The definition guarantees these.
    relation = model_relation(alert.model, index)
    if relation is None:
        raise AlertQueryError(f"the dbt project has no model {alert.model!r}")
    try:
        checked = series_sql(
            relation,
            alert.time_column,
            alert.measure,
            alert.filters,
            grain=alert.grain,
            periods=alert.history,
            dialect=dialect,
            allowed_functions=allowed_functions,
        )
    except UnparsableSeriesSql as exc:
        raise AlertQueryError(f"cannot parse the alert's SQL pieces: {exc.detail}") from None
    return SeriesQuery(checked.sql, dialect)


def fetch_series(
    query: SeriesQuery, warehouse: Warehouse, *, timeout_seconds: float, max_rows: int, zone: Any = UTC
) -> Series:
    """Run the query read-only and read its rows as (time, number); a bad shape says what was expected."""
    result = warehouse.execute_readonly(query.sql, max_rows=max_rows, timeout_seconds=timeout_seconds)
    return series_from_result(result, zone)


def series_from_result(result: QueryResult, zone: Any = UTC) -> Series:
    if len(result.columns) < 2:
        names = ", ".join(column.name for column in result.columns)
        raise AlertQueryError(f"the query must return two columns, (time, value); it returned: {names}")
    points: dict[datetime, float] = {}
    for row in result.rows:
        moment, number = _moment(row[0], zone), _number(row[1])
        if moment is not None:
            points[moment] = number
    ordered = sorted(points)
    return Series(ordered, [points[moment] for moment in ordered], result.truncated)


def complete_periods(series: Series, grain: str, now: datetime, zone: Any) -> Series:
    """The series without the period still in progress at `now` (a half-day would look like a drop)."""
    local = now.astimezone(zone).replace(tzinfo=None)
    current = (
        datetime(local.year, local.month, local.day)
        if grain == "day"
        else local.replace(minute=0, second=0, microsecond=0)
    )
    keep = [index for index, moment in enumerate(series.timestamps) if moment < current]
    return Series([series.timestamps[i] for i in keep], [series.values[i] for i in keep], series.truncated)


def _moment(value: Any, zone: Any) -> datetime | None:
    if value is None:
        return None
    if isinstance(value, datetime):
        return value.astimezone(zone).replace(tzinfo=None) if value.tzinfo else value
    if isinstance(value, date):
        return datetime(value.year, value.month, value.day)
    if isinstance(value, str):
        try:
            return _moment(datetime.fromisoformat(value), zone)
        except ValueError:
            pass
    raise AlertQueryError(f"the first column must be a date or time; got {value!r}")


def _number(value: Any) -> float:
    if value is None:
        return math.nan
    if isinstance(value, (int, float, Decimal)) and not isinstance(value, bool):
        return float(value)
    if isinstance(value, timedelta):
        return value.total_seconds()
    raise AlertQueryError(f"the second column must be a number; got {value!r}")
