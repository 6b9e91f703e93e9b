"""Monitors on BigQuery read only the partitions they need: a filter on the model's partition column (dbt's
`partition_by`) from the first day not yet counted, so BigQuery prunes the rest and the scan stays small.

The filter assumes what partitioning by a load or event time gives: a row's partition time is never before the
time the monitor counts it by (a row of 14 March is not in a partition of 13 March). Where the partition column is
the time column itself, the filter is the monitor's own window. Integer-range partitions are left alone. Every
query is dry-run by the warehouse before it is sent and refused over the byte cap (tools/warehouse).
"""

from __future__ import annotations

from datetime import datetime

from sqlglot import exp

from tools.dbt.index import DbtIndex

_LITERALS = {"date": "DATE", "timestamp": "TIMESTAMP", "datetime": "DATETIME"}


def partition_conditions(model: str | None, index: DbtIndex, dialect: str, since: datetime) -> list[str]:
    """`partition_column >= <since>` for a BigQuery model partitioned by time; no condition otherwise."""
    node = index.find(model) if model else None
    partitioning = node.partitioning if node is not None else None
    if dialect != "bigquery" or partitioning is None:
        return []
    literal = _LITERALS.get(partitioning.data_type)
    if literal is None:
        return []
    column = exp.column(partitioning.field).sql(dialect="bigquery")  # backticked if it must be
    return [f"{column} >= {literal} '{since:%Y-%m-%d}'"]
