"""query_metrics: governed dbt metrics compiled by MetricFlow and run on the warehouse."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, Field

from tools.direct_command import DirectCommand
from tools.registry import Tool, ToolContext, ToolOutput
from tools.run_query import describe_for_model, result_summary
from tools.semantic_layer.command_text import parse_metric_command
from tools.semantic_layer.execution import execute_compiled
from tools.semantic_layer.loading import semantic_layer_for
from tools.semantic_layer.ordering import default_order
from tools.semantic_layer.requests import MetricRequest, templated_where, with_grain

Grain = Literal["hour", "day", "week", "month", "quarter", "year"]


class GroupBy(BaseModel):
    """A dimension, time dimension or entity to group by."""

    name: str = Field(
        description="Dunder name from get_dimensions, e.g. metric_time, order__channel, customer__country."
    )
    grain: Grain | None = Field(None, description="For a time dimension: the grain (default: its own).")


class OrderBy(BaseModel):
    """A metric or group-by item to sort on."""

    name: str = Field(description="A metric name or a group-by name as queried (metric_time__week).")
    descending: bool = False


class QueryMetricsInput(BaseModel):
    """Compute governed dbt metrics, grouped and filtered, or run a saved query by name."""

    metrics: list[str] = Field(
        default_factory=list, description="Metric names from list_metrics; several share one query."
    )
    group_by: list[GroupBy | str] = Field(
        default_factory=list,
        description="Dimensions to group by; metric_time is each metric's own time (give it a grain).",
    )
    where: list[str] = Field(
        default_factory=list,
        description=(
            "Filters in MetricFlow's syntax, e.g. \"{{ Dimension('order__channel') }} = 'web'\" or "
            "\"{{ TimeDimension('metric_time', 'day') }} >= '2024-01-01'\"; all must hold."
        ),
    )
    order_by: list[OrderBy | str] = Field(
        default_factory=list, description="Sort items; a string starting with '-' sorts descending."
    )
    limit: int | None = Field(
        None,
        ge=1,
        description=(
            "Return at most this many rows. Without order_by the rows kept are the latest periods of the "
            "time dimension grouped by (newest first), else the largest values of the first metric."
        ),
    )
    saved_query: str | None = Field(
        None, description="Run this saved query (see list_metrics) instead of naming metrics and group_by."
    )


def request_from(
    arguments: QueryMetricsInput, time_dimensions: list[str]
) -> tuple[MetricRequest, str | None]:
    """The tool's input as a MetricFlow request; shorthand filters become MetricFlow's syntax. A limit without
    an order gets the default order (tools/semantic_layer/ordering.py), returned with the line that says so."""
    metrics = [name.strip().lower() for name in arguments.metrics]
    group_by = [
        item if isinstance(item, str) else with_grain(item.name, item.grain) for item in arguments.group_by
    ]
    order_by = [
        item if isinstance(item, str) else ("-" if item.descending else "") + item.name
        for item in arguments.order_by
    ]
    chosen = None
    # A saved query's own definition carries its order.
    if arguments.limit is not None and not order_by and not arguments.saved_query:
        chosen = default_order(group_by, metrics, time_dimensions, arguments.limit)
        order_by = [chosen.order_by] if chosen else []
    request = MetricRequest(
        metrics=tuple(metrics),
        group_by=tuple(group_by),
        where=tuple(templated_where(text, time_dimensions) for text in arguments.where),
        order_by=tuple(order_by),
        limit=arguments.limit,
        saved_query=arguments.saved_query,
    )
    return request, chosen.note if chosen else None


def query_metrics(context: ToolContext, arguments: QueryMetricsInput) -> ToolOutput:
    warehouse = context.warehouse
    layer = semantic_layer_for(context.project_dir, warehouse.dialect.name)
    time_dimensions = layer.time_dimension_names(arguments.metrics) if arguments.metrics else []
    request, order_note = request_from(arguments, time_dimensions)
    compiled = layer.compile(request)
    ran = execute_compiled(compiled, warehouse, context.limits, context.session_id)
    table = context.results.put(ran.result, sql=ran.sql, session_id=context.session_id)
    governed = ", ".join(compiled.metrics)
    source = (
        f"saved query {arguments.saved_query} (metrics: {governed})" if arguments.saved_query else governed
    )
    described = describe_for_model(
        table, context.limits.rows_to_model, share_rows=context.limits.send_result_rows_to_model
    )
    order = f"\n{order_note}" if order_note else ""
    return ToolOutput(
        content=f"Governed metrics used: {source}. Name them in your answer.{order}\n{described}",
        summary=f"{source}: {result_summary(table)}{order}",
        table=table,
        sql=ran.sql,
        rows=table.row_count,
        bytes_scanned=table.bytes_scanned,
    )


def _parse_command(context: ToolContext, argument: str) -> dict[str, Any]:
    saved = {query.name for query in context.dbt.saved_queries()}
    return parse_metric_command(argument, saved_queries=saved)


TOOL = Tool(
    name="query_metrics",
    description=(
        "Compute governed dbt semantic-layer metrics (defined once in the dbt project, compiled by MetricFlow) "
        "grouped by dimensions and time grains, with filters, order and limit; or run a saved query by name. "
        "Prefer it to hand-written SQL whenever a metric answers the question. The result is kept under "
        "result_id (use it with make_chart)."
    ),
    input_model=QueryMetricsInput,
    run=query_metrics,
    status=lambda arguments: (
        f"is computing {arguments.saved_query or ', '.join(arguments.metrics) or 'metrics'}…"
    ),
    command=DirectCommand(
        "metric",
        "/metric revenue[,orders] [by order__channel] [grain=week] [where ...]",
        "compute governed metrics (or run a saved query by name)",
        _parse_command,
    ),
)
