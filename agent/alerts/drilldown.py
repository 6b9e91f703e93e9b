"""Investigate without a model: the alert's metric split by each categorical column of its model, on the
anomalous day and on the same weekday of the four weeks before, ranked by how far each split moved from its
usual mix. It shows where the change sits, not why it happened.

A split's score is the share of the day's value that is not where the usual mix would put it: every segment
growing or shrinking alike scores near 0 (the change is spread evenly), one segment taking the change scores
high. For a column the alert itself filters on (payment_status = 'failed'), the split drops that filter, so the
watched slice is seen against the rest of the population.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import partial
from typing import Any

from agent.alerts.definitions import AlertDefinition
from tools.anomalies.metric_query import model_relation
from tools.dbt.index import DbtIndex
from tools.dbt.nodes import DbtNode
from tools.errors import BlueprintError, ToolInputError
from tools.results import QueryResult
from tools.sql_guard import check_read_only
from tools.warehouse.base import Warehouse

BASELINE_WEEKS = 4
MAX_DIMENSIONS = 8  # queries per investigation, at most
MAX_SEGMENTS = 50  # a column with more values than this is an identifier, not a dimension
STANDS_OUT = 0.15  # below this score no split stands out
_CATEGORICAL = ("char", "text", "string", "bool", "enum")


# How each split's query is run: given its dimension, its checked SQL and the call that runs it. A turn passes one
# that reports each query as a tool run of the turn (agent.alerts.drill_down_queries); without one it just runs.
QueryWatch = Callable[[str, str, Callable[[], QueryResult]], QueryResult]


class DrillDownUnavailable(BlueprintError):
    """The alert cannot be split: custom SQL, an hourly grain, or a model without categorical columns."""


@dataclass(frozen=True)
class Segment:
    """One value of a split: on the day, usually, and how far from where the usual mix would put it."""

    value: str
    point: float
    usual: float
    excess: float


@dataclass(frozen=True)
class Split:
    """The metric split by one column, with the query that shows it."""

    dimension: str
    score: float
    segments: list[Segment]
    sql: str
    filter_dropped: bool


@dataclass(frozen=True)
class DrillDown:
    """The splits, best first, and what it cost (queries run, rows read)."""

    alert: AlertDefinition
    at: datetime
    splits: list[Split]
    queries: int
    rows: int
    skipped: list[str] = field(default_factory=list)

    @property
    def top(self) -> Split | None:
        best = self.splits[0] if self.splits else None
        return best if best is not None and best.score >= STANDS_OUT else None

    def confidence(self) -> str:
        """High when one split clearly leads, medium when it leads a little, low when none stands out."""
        if self.top is None:
            return "low"
        runner_up = self.splits[1].score if len(self.splits) > 1 else 0.0
        return "high" if self.top.score >= 2 * max(runner_up, STANDS_OUT) else "medium"


def drill_down(
    alert: AlertDefinition,
    at: datetime,
    *,
    index: DbtIndex,
    warehouse: Warehouse,
    timeout_seconds: float,
    max_rows: int,
    allowed_functions: frozenset[str] = frozenset(),
    watch: QueryWatch | None = None,
) -> DrillDown:
    """Split the alert's metric at `at` by each categorical column of its model (at most MAX_DIMENSIONS), each
    query run through `watch`."""
    node = index.find(alert.model) if alert.model else None
    relation = model_relation(alert.model, index)
    if node is None or relation is None or alert.time_column is None or alert.measure is None:
        raise DrillDownUnavailable(f"{alert.name}: only an alert on a model (model + measure) can be split")
    if alert.grain != "day":
        raise DrillDownUnavailable(f"{alert.name}: only daily alerts can be split for now")
    dimensions = categorical_columns(node, exclude=alert.time_column)
    if not dimensions:
        raise DrillDownUnavailable(f"{alert.name}: {node.name} has no categorical column to split by")
    days = [at - timedelta(weeks=week) for week in range(BASELINE_WEEKS + 1)]
    splits, rows, skipped = [], 0, []
    for dimension in dimensions[:MAX_DIMENSIONS]:
        kept = [f for f in alert.filters if not re.search(rf"\b{re.escape(dimension)}\b", f, re.IGNORECASE)]
        sql = _split_sql(relation, dimension, alert.time_column, alert.measure, kept, days)
        checked = check_read_only(sql, warehouse.dialect.sqlglot_name, allowed_functions).sql
        run = partial(warehouse.execute_readonly, checked, max_rows=max_rows, timeout_seconds=timeout_seconds)
        try:
            result = watch(dimension, checked, run) if watch is not None else run()
        except ToolInputError as exc:
            skipped.append(f"{dimension}: {exc}")
            continue
        rows += len(result.rows)
        split = _split(dimension, result.rows, at, checked, filter_dropped=len(kept) < len(alert.filters))
        if split is not None:
            splits.append(split)
    splits.sort(key=lambda split: split.score, reverse=True)
    return DrillDown(alert, at, splits, min(len(dimensions), MAX_DIMENSIONS), rows, skipped)


def categorical_columns(node: DbtNode, *, exclude: str) -> list[str]:
    """Columns typed as text or boolean, leaving out identifiers and the time column."""
    return [
        column.name
        for column in node.columns
        if column.data_type
        and any(kind in column.data_type.lower() for kind in _CATEGORICAL)
        and column.name.lower() != exclude.lower()
        and not column.name.lower().endswith("id")
    ]


def _split_sql(
    relation: str, dimension: str, time_column: str, measure: str, filters: list[str], days: list[datetime]
) -> str:
    listed = ", ".join(f"DATE '{day:%Y-%m-%d}'" for day in days)
    conditions = " AND ".join([f"CAST({time_column} AS DATE) IN ({listed})", *(f"({f})" for f in filters)])
    return (
        f"SELECT CAST({dimension} AS VARCHAR) AS segment, CAST({time_column} AS DATE) AS period, "
        f"{measure} AS value FROM {relation} WHERE {conditions} GROUP BY 1, 2"
    )


def _split(
    dimension: str, rows: Sequence[Sequence[Any]], at: datetime, sql: str, *, filter_dropped: bool
) -> Split | None:
    point: dict[str, float] = {}
    usual: dict[str, float] = {}
    for segment, period, value in rows:
        name, number = str(segment), float(value or 0)
        day = period if isinstance(period, datetime) else datetime.fromisoformat(str(period))
        target = point if day.date() == at.date() else usual
        target[name] = target.get(name, 0.0) + number
    names = set(point) | set(usual)
    if len(names) < 2 or len(names) > MAX_SEGMENTS:
        return None  # One value says nothing; hundreds are an identifier.
    usual = {name: value / BASELINE_WEEKS for name, value in usual.items()}
    point_total, usual_total = sum(point.values()), sum(usual.values())
    if point_total <= 0 or usual_total <= 0:
        return None
    segments = [
        Segment(
            name,
            point.get(name, 0.0),
            usual.get(name, 0.0),
            point.get(name, 0.0) - usual.get(name, 0.0) * point_total / usual_total,
        )
        for name in names
    ]
    segments.sort(key=lambda segment: abs(segment.excess), reverse=True)
    score = sum(abs(segment.excess) for segment in segments) / (2 * point_total)
    return Split(dimension, score, segments, sql, filter_dropped)


def drill_down_chart(drill: DrillDown) -> bytes | None:
    """Bars of the leading split: each segment on the day against a usual day."""
    split = drill.splits[0] if drill.splits else None
    if split is None:
        return None
    from tools.charts.drawing import draw_png  # matplotlib loads only when a chart is drawn.
    from tools.charts.shaping import ChartData

    segments = sorted(split.segments, key=lambda segment: segment.point, reverse=True)[:12]
    data = ChartData(
        x=[segment.value for segment in segments],
        series={
            "usual (same weekday, 4 weeks)": [segment.usual for segment in segments],
            f"{drill.at:%Y-%m-%d}": [segment.point for segment in segments],
        },
        x_is_time=False,
        x_label=split.dimension,
        y_label=drill.alert.display_metric(),
    )
    return draw_png(data, "bar", f"{drill.alert.display_metric()} by {split.dimension}")
