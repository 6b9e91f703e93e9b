"""What the index knows about each dbt node and metric."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, NamedTuple


class DbtColumn(NamedTuple):
    """A column with its type (from the catalog when known), description and tests."""

    # A named tuple, not a dataclass: large projects have hundreds of thousands of columns to build at load.
    name: str
    data_type: str | None
    description: str
    tests: tuple[str, ...] = ()
    meta: dict[str, Any] = {}  # noqa: RUF012 - never mutated
    accepted_values: tuple[str, ...] = ()


@dataclass(frozen=True)
class Join:
    """A relationships test: this column references `to_node`.`to_column`."""

    column: str
    to_node: str
    to_column: str


@dataclass(frozen=True)
class Partitioning:
    """How a BigQuery model is partitioned (dbt's `partition_by` config): its column, type and granularity."""

    field: str
    data_type: str = "date"  # date, timestamp, datetime or int64 (a range), as dbt-bigquery names them
    granularity: str = "day"


@dataclass(frozen=True)
class DbtNode:
    """A queryable node: model, source, seed or snapshot."""

    unique_id: str
    name: str
    resource_type: str
    description: str
    relation_name: str | None
    database: str | None
    schema: str | None
    identifier: str
    materialization: str | None
    tags: tuple[str, ...]
    path: str
    meta: dict[str, Any]
    columns: tuple[DbtColumn, ...]
    checksum: str | None
    depends_on: tuple[str, ...]
    unique_keys: tuple[str, ...] = ()
    not_null_columns: tuple[str, ...] = ()
    joins: tuple[Join, ...] = ()
    group: str | None = None  # the dbt group the node belongs to
    group_owners: tuple[str, ...] = ()  # the group owner's contacts: email, Slack id or handle
    loaded_at_field: str | None = None  # a source's freshness column
    partitioning: Partitioning | None = None  # BigQuery's partition_by, from the node's config

    def column(self, name: str) -> DbtColumn | None:
        lowered = name.lower()
        return next((c for c in self.columns if c.name.lower() == lowered), None)

    def time_columns(self) -> list[str]:
        return [c.name for c in self.columns if _is_time(c)]


def _is_time(column: DbtColumn) -> bool:
    kind = (column.data_type or "").lower()
    name = column.name.lower()
    return "date" in kind or "time" in kind or name.endswith(("_date", "_at", "_day", "_ts"))


@dataclass(frozen=True)
class DbtMeasure:
    """A semantic model's aggregation, e.g. `revenue` = sum(net_revenue) over fct_orders."""

    name: str
    expression: str
    semantic_model: str
    model: str | None
    relation_name: str | None


@dataclass(frozen=True)
class DbtMetric:
    """A semantic-layer metric and how it is computed."""

    name: str
    label: str
    description: str
    type: str
    definition: str
    model: str | None
    time_dimension: str | None
    dimensions: tuple[str, ...]
    semantic_model: str | None = None
    relation_name: str | None = None
    measures: tuple[DbtMeasure, ...] = ()
    input_metrics: tuple[str, ...] = ()
    grains: tuple[str, ...] = ()
    filters: tuple[str, ...] = ()


@dataclass(frozen=True)
class DbtSavedQuery:
    """A saved semantic-layer query: metrics, grouped by dimensions, with filters."""

    name: str
    label: str
    description: str
    metrics: tuple[str, ...]
    group_by: tuple[str, ...]
    where: tuple[str, ...]
    order_by: tuple[str, ...] = ()
    limit: int | None = None
    exports: tuple[str, ...] = ()


@dataclass(frozen=True)
class Relation:
    """A warehouse relation and its columns, for checking SQL against the known schema."""

    node_name: str
    database: str | None
    schema: str | None
    identifier: str
    columns: dict[str, str]
