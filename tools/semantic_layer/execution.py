"""Compiled metric SQL run on our own warehouse connection, exactly as run_query runs SQL."""

from __future__ import annotations

from dataclasses import dataclass

from tools.errors import ToolInputError
from tools.limits import ToolLimits
from tools.results import QueryResult
from tools.semantic_layer.requests import CompiledMetricQuery
from tools.sql_guard import check_read_only
from tools.warehouse.base import Warehouse


@dataclass(frozen=True)
class MetricResult:
    """The rows of a metric query and the checked SQL that produced them."""

    result: QueryResult
    sql: str


def execute_compiled(
    compiled: CompiledMetricQuery, warehouse: Warehouse, limits: ToolLimits, session_id: str | None
) -> MetricResult:
    """Run compiled SQL read-only under the row cap, time limit and cost limits of every query.

    MetricFlow's SQL gets no trust of its own: the guard parses it in the warehouse's dialect like any SQL.
    """
    checked = check_read_only(compiled.sql, warehouse.dialect.sqlglot_name)
    try:
        result = warehouse.execute_readonly(
            checked.sql,
            max_rows=limits.max_result_rows,
            timeout_seconds=limits.query_timeout_seconds,
            session_id=session_id,
        )
    except ToolInputError as exc:
        raise ToolInputError(exc.message, sql=checked.sql) from None
    return MetricResult(result, checked.sql)
