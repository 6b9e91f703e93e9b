"""Deciding what to profile: which models changed, what each column gets, and when to sample."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from tools.profiling.profile import ModelProfile
from tools.profiling.query import ColumnPlan, column_kind
from tools.profiling.reading import LOW_CARDINALITY
from tools.profiling.warehouse_columns import WarehouseTable
from tools.sensitivity import is_sensitive

if TYPE_CHECKING:
    from tools.dbt.nodes import DbtNode

# Profiled nodes: what lives in the warehouse. Ephemeral models are CTEs inside others and have no table.
PROFILED_TYPES = frozenset({"model", "seed", "snapshot", "source"})
_ID_SUFFIXES = ("id", "_key", "uuid", "guid", "hash", "_sk")


def profiled_candidates(nodes: Sequence[DbtNode]) -> list[DbtNode]:
    return [n for n in nodes if n.resource_type in PROFILED_TYPES and n.materialization != "ephemeral"]


def reason_to_profile(
    node: DbtNode, table: WarehouseTable, previous: ModelProfile | None, *, full: bool
) -> str | None:
    """Why this model must be profiled again, or None when its code and columns are unchanged."""
    if full:
        return "full"
    if previous is None:
        return "new"
    if previous.status != "ok":
        return "failed last time"
    if previous.manifest_checksum != node.checksum:
        return "model changed"
    if previous.columns_signature != table.signature():
        return "columns changed"
    return None


def column_plans(node: DbtNode, table: WarehouseTable, previous: ModelProfile | None) -> list[ColumnPlan]:
    """What to compute for each column the warehouse has, with dbt's `meta` deciding sensitivity too."""
    plans = []
    for name, data_type in table.columns:
        documented = node.column(name)
        kind = column_kind(data_type)
        sensitive = is_sensitive(name, documented.meta if documented else None, table=node.name)
        before = previous.column(name) if previous is not None else None
        plans.append(
            ColumnPlan(
                name=name,
                data_type=data_type,
                kind=kind,
                sensitive=sensitive,
                top_values=_wants_top_values(
                    name, kind, sensitive, before.distinct_count if before else None
                ),
            )
        )
    return plans


def _wants_top_values(name: str, kind: str, sensitive: bool, known_distinct: int | None) -> bool:
    # Grouping a high-cardinality column costs a sort of the table; skip keys and columns known to be wide.
    if sensitive or kind not in {"text", "boolean"}:
        return False
    if kind == "text" and name.lower().endswith(_ID_SUFFIXES):
        return False
    return known_distinct is None or known_distinct <= LOW_CARDINALITY


def sample_percent(estimated_rows: int | None, sample_rows: int) -> float | None:
    """The share of a table to read so that about `sample_rows` rows are profiled; None for the whole table."""
    if estimated_rows is None or estimated_rows <= sample_rows:
        return None
    return max(round(100 * sample_rows / estimated_rows, 4), 0.0001)


def estimated_rows(table: WarehouseTable, previous: ModelProfile | None) -> int | None:
    """The best row estimate before querying: the warehouse's statistics, else the last profile's count."""
    known = [n for n in (table.estimated_rows, previous.row_count if previous else None) if n is not None]
    return max(known) if known else None


def fitted_sample_percent(percent: float | None, estimated_bytes: int, max_bytes: int) -> float:
    """A sample small enough that a query estimated at `estimated_bytes` reads under `max_bytes`."""
    # Bytes scale with the share of storage blocks read; a tenth of margin absorbs the estimate's rounding.
    current = percent if percent is not None else 100.0
    return max(round(current * 0.9 * max_bytes / estimated_bytes, 4), 0.0001)
