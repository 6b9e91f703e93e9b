"""The read-only SQL that aggregates a number by day or hour in the warehouse, built per dialect by sqlglot.

One builder for every series the detector checks: a dbt metric for `detect_anomalies` and a metric or a model's
column for a scheduled alert (agent/alerts/series.py). A dbt metric is compiled by MetricFlow (the semantic
layer, as query_metrics does) whenever the project has a semantic manifest; our own aggregate SQL remains only
for alerts with plain-SQL filters of their own and for projects without one.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import TYPE_CHECKING, Literal

import sqlglot
from sqlglot import exp
from sqlglot.errors import ParseError, TokenError

from tools.errors import ToolInputError
from tools.sql_guard import CheckedQuery, check_read_only

if TYPE_CHECKING:
    from tools.dbt.index import DbtIndex
    from tools.dbt.nodes import DbtMeasure, DbtMetric
    from tools.semantic_layer.engine import SemanticLayer

PERIOD, VALUE = "period", "value"
# A running total rises by construction and a conversion rate needs its own window: neither is a series whose
# points can be judged against the same weekday's.
_NOT_A_SERIES = ("cumulative", "conversion")
# MetricFlow's aggregation names that are not SQL functions.
_AGGREGATIONS = {
    "count_distinct": "count(distinct {})",
    "average": "avg({})",
    "sum_boolean": "sum(cast({} as int))",
}
# {{ Dimension('order__channel') }}, {{ TimeDimension('order__ordered_at', 'day') }}, {{ Entity('customer') }}
_TEMPLATE = re.compile(r"\{\{\s*(?:Dimension|TimeDimension|Entity)\(\s*'([^']+)'[^}]*\)\s*\}\}")


class UnparsableSeriesSql(ToolInputError):
    """A piece of the series' SQL (time column, aggregate, filter) is not SQL in the warehouse's dialect."""

    def __init__(self, detail: str) -> None:
        super().__init__(detail)
        self.detail = detail


def metric_series_sql(
    metric: DbtMetric,
    index: DbtIndex,
    *,
    grain: Literal["hour", "day"],
    periods: int,
    dialect: str,
    filters: Sequence[str] = (),
    semantic_layer: SemanticLayer | None = None,
    allowed_functions: frozenset[str] = frozenset(),
) -> CheckedQuery:
    """The newest `periods` values of `metric` by `grain`, oldest first, checked by the SQL guard.

    The metric's own filter always applies; `filters` (plain SQL conditions, e.g. an alert's) narrow it further.
    With a semantic layer and no plain filters, MetricFlow compiles the metric: every metric type but running
    totals, with the same SQL query_metrics runs.
    """
    if semantic_layer is not None and not filters:
        return compiled_metric_series_sql(
            metric,
            semantic_layer,
            grain=grain,
            periods=periods,
            dialect=dialect,
            allowed_functions=allowed_functions,
        )
    if not metric.time_dimension:
        raise ToolInputError(
            f"dbt metric {metric.name!r} has no time dimension, so it cannot be checked over time."
        )
    found = metric_value_sql(metric, index)
    if found is None:
        raise ToolInputError(
            f"dbt metric {metric.name!r} is a {metric.type} metric ({metric.definition}); only simple metrics "
            "and ratios of two simple metrics are aggregated here. Aggregate it by day with run_query and pass "
            "the result_id instead."
        )
    value, measure = found
    relation = measure.relation_name or model_relation(measure.model or metric.model, index)
    if relation is None:
        raise ToolInputError(
            f"dbt metric {metric.name!r} names no model of this project, so there is nothing to query."
        )
    conditions = [_plain_filter(text) for text in metric.filters] + list(filters)
    moment = exp.column(metric.time_dimension).sql(dialect=dialect)  # a name, quoted if it must be
    try:
        return series_sql(
            relation,
            moment,
            value,
            conditions,
            grain=grain,
            periods=periods,
            dialect=dialect,
            allowed_functions=allowed_functions,
        )
    except UnparsableSeriesSql as exc:
        raise ToolInputError(
            f"Cannot read dbt metric {metric.name!r}'s definition as SQL ({exc.detail}); "
            "aggregate it with run_query and pass the result_id instead."
        ) from None


def unwatchable_reason(metric: DbtMetric, index: DbtIndex, *, compiled: bool) -> str | None:
    """Why `metric` cannot be checked as a series by the path that would build it, or None if it can.

    `compiled`: MetricFlow builds it (the project has a semantic layer and no plain-SQL filters are added), and
    takes every metric type but running totals and conversions; our own SQL takes only simple metrics and
    ratios of two simple metrics with a time dimension.
    """
    if compiled:
        if metric.type in _NOT_A_SERIES:
            return f"{metric.name} is a {metric.type} metric, not a series to check for anomalies"
        return None
    if not metric.time_dimension or metric_value_sql(metric, index) is None:
        return f"{metric.name} is a {metric.type} metric; watch it with model + measure or sql instead"
    return None


def compiled_metric_series_sql(
    metric: DbtMetric,
    semantic_layer: SemanticLayer,
    *,
    grain: Literal["hour", "day"],
    periods: int,
    dialect: str,
    allowed_functions: frozenset[str] = frozenset(),
) -> CheckedQuery:
    """The newest `periods` values of `metric` by `grain` from MetricFlow's SQL, oldest first."""
    # Imported here: MetricFlow's import takes about a second, paid only when a metric series is built.
    from tools.semantic_layer.requests import MetricRequest

    if metric.type in _NOT_A_SERIES:
        raise ToolInputError(
            f"dbt metric {metric.name!r} is a {metric.type} metric ({metric.definition}), which is not checked "
            "for anomalies: check the metrics it is built from instead."
        )
    period_column = f"metric_time__{grain}"
    compiled = semantic_layer.compile(MetricRequest(metrics=(metric.name,), group_by=(period_column,)))
    metric_sql = check_read_only(compiled.sql, dialect, allowed_functions).expression
    newest = (
        exp.select(exp.column(period_column).as_(PERIOD), exp.column(compiled.metrics[0]).as_(VALUE))
        .from_(metric_sql.subquery("metric"))
        .where(exp.column(period_column).is_(exp.null()).not_())
        .order_by(exp.column(PERIOD).desc())
        .limit(periods)
    )
    query = exp.select(PERIOD, VALUE).from_(newest.subquery("series")).order_by(PERIOD)
    return check_read_only(query.sql(dialect=dialect), dialect, allowed_functions)


def series_sql(
    relation: str,
    time_sql: str,
    value_sql: str,
    conditions: Sequence[str],
    *,
    grain: Literal["hour", "day"],
    periods: int,
    dialect: str,
    allowed_functions: frozenset[str] = frozenset(),
) -> CheckedQuery:
    """SELECT period, value: `value_sql` aggregated by `grain` of `time_sql` over `relation` where all
    `conditions` hold, the newest `periods` only, oldest first; checked by the SQL guard (a condition cannot
    smuggle in a write), which also allows the user's `allowed_functions` (BLUEPRINTDATA_ALLOWED_FUNCTIONS).
    UnparsableSeriesSql names the piece that is not SQL."""
    try:
        moment = sqlglot.parse_one(time_sql, read=dialect)
        bucket: exp.Expression = (
            exp.cast(moment, "DATE")
            if grain == "day"
            else exp.TimestampTrunc(this=moment, unit=exp.var("HOUR"))
        )
        aggregate = sqlglot.parse_one(value_sql, read=dialect)
        where = [sqlglot.condition(text, dialect=dialect) for text in conditions]
        table = exp.to_table(relation, dialect=dialect)
    except (ParseError, TokenError) as exc:
        raise UnparsableSeriesSql(str(exc).splitlines()[0]) from None
    # Only the newest periods come back, however long the table's history is.
    newest = (
        exp.select(bucket.as_(PERIOD), aggregate.as_(VALUE))
        .from_(table)
        .where(*where)
        .group_by(bucket.copy())
        .order_by(exp.column(PERIOD).desc())
        .limit(periods)
    )
    query = exp.select(PERIOD, VALUE).from_(newest.subquery("series")).order_by(PERIOD)
    return check_read_only(query.sql(dialect=dialect), dialect, allowed_functions)


def metric_value_sql(metric: DbtMetric, index: DbtIndex) -> tuple[str, DbtMeasure] | None:
    """The metric's aggregate as SQL and the measure that says where it lives; None if it is not one we can
    aggregate by period (only simple metrics and ratios of two simple metrics over the same relation)."""
    if metric.type == "simple" and len(metric.measures) == 1:
        return _aggregate(metric.measures[0]), metric.measures[0]
    if metric.type == "ratio" and len(metric.input_metrics) == 2 and not metric.filters:
        parts = [index.find_metric(name) for name in metric.input_metrics]
        if all(part is not None and part.type == "simple" and len(part.measures) == 1 for part in parts):
            numerator, denominator = (part.measures[0] for part in parts if part is not None)
            if numerator.relation_name == denominator.relation_name:
                return f"{_aggregate(numerator)} / nullif({_aggregate(denominator)}, 0)", numerator
    return None


def model_relation(model: str | None, index: DbtIndex) -> str | None:
    """The warehouse relation a dbt model is built as, or None if the project has no such model."""
    node = index.find(model) if model else None
    if node is None:
        return None
    return node.relation_name or ".".join(
        part for part in (node.database, node.schema, node.identifier) if part
    )


def _aggregate(measure: DbtMeasure) -> str:
    function, _, rest = measure.expression.partition("(")
    template = _AGGREGATIONS.get(function.strip().lower())
    return template.format(rest.removesuffix(")")) if template else measure.expression


def _plain_filter(template: str) -> str:
    """A MetricFlow filter as plain SQL: `{{ Dimension('order__channel') }} = 'web'` -> `channel = 'web'`."""
    return _TEMPLATE.sub(lambda match: match.group(1).rsplit("__", 1)[-1], template)
