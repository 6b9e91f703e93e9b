"""Which MetricFlow SQL renderer serves each of our warehouse dialects."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from metricflow.protocols.sql_client import SqlEngine
from metricflow.sql.render.big_query import BigQuerySqlPlanRenderer
from metricflow.sql.render.duckdb_renderer import DuckDbSqlPlanRenderer
from metricflow.sql.render.postgres import PostgresSQLSqlPlanRenderer
from metricflow.sql.render.sql_plan_renderer import SqlPlanRenderer

from tools.errors import ToolInputError


@dataclass(frozen=True)
class MetricFlowDialect:
    """MetricFlow's name for an engine and the renderer that writes its SQL."""

    engine: SqlEngine
    renderer: Callable[[], SqlPlanRenderer]


# Keyed by our dialect names (tools/warehouse/dialects); MetricFlow also renders Snowflake, Redshift,
# Databricks, Trino and others, which this product has no warehouse connector for yet.
_SUPPORTED: dict[str, MetricFlowDialect] = {
    "duckdb": MetricFlowDialect(SqlEngine.DUCKDB, DuckDbSqlPlanRenderer),
    "postgres": MetricFlowDialect(SqlEngine.POSTGRES, PostgresSQLSqlPlanRenderer),
    "bigquery": MetricFlowDialect(SqlEngine.BIGQUERY, BigQuerySqlPlanRenderer),
}


class UnsupportedDialect(ToolInputError):
    """The warehouse's dialect has no MetricFlow renderer here."""


def metricflow_dialect(name: str) -> MetricFlowDialect:
    """The MetricFlow engine for our dialect `name`; UnsupportedDialect says plainly what is supported."""
    found = _SUPPORTED.get(name.lower())
    if found is None:
        supported = ", ".join(sorted(_SUPPORTED))
        raise UnsupportedDialect(
            f"Metric queries are compiled by MetricFlow for {supported} warehouses; this warehouse speaks "
            f"{name}, which is not supported. Query the models with run_query instead."
        )
    return found


def supported_dialects() -> tuple[str, ...]:
    return tuple(_SUPPORTED)
