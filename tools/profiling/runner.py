"""`sync`: profile the selected models that changed, one query each, and keep every result."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Literal

from tools.errors import ToolInputError
from tools.profiling.planning import (
    column_plans,
    estimated_rows,
    fitted_sample_percent,
    profiled_candidates,
    reason_to_profile,
    sample_percent,
)
from tools.profiling.profile import ModelProfile
from tools.profiling.query import RelationName, build_profile_sql
from tools.profiling.reading import read_profile
from tools.profiling.selection import select_nodes
from tools.profiling.stored import ProfileHistory
from tools.profiling.warehouse_columns import WarehouseTable, read_schema
from tools.sql_guard import check_read_only
from tools.warehouse.base import Warehouse

if TYPE_CHECKING:
    from tools.dbt.index import DbtIndex
    from tools.dbt.nodes import DbtNode


@dataclass(frozen=True)
class ProfileOptions:
    """How a sync runs: sampling threshold, per-query time limit, byte cap, and whether to redo everything."""

    sample_rows: int
    timeout_seconds: float
    max_bytes_scanned: int | None = None
    full: bool = False


@dataclass(frozen=True)
class ProfileProgress:
    """One step of a sync, for progress bars: the model just handled and how far along the run is."""

    name: str
    outcome: Literal["profiled", "failed"]
    done: int
    total: int


@dataclass
class SyncSummary:
    """What a sync did: models profiled, skipped (with why), failed (with the error), queries and bytes."""

    profiled: list[str] = field(default_factory=list)
    skipped: dict[str, str] = field(default_factory=dict)
    failed: dict[str, str] = field(default_factory=dict)
    profile_queries: int = 0
    metadata_queries: int = 0
    dry_runs: int = 0
    bytes_scanned: int = 0
    bytes_reported: bool = False  # Only BigQuery reports bytes; elsewhere `bytes_scanned` stays 0.
    seconds: float = 0.0

    @property
    def queries(self) -> int:
        return self.profile_queries + self.metadata_queries


def sync_profiles(
    index: DbtIndex,
    warehouse: Warehouse,
    history: ProfileHistory,
    options: ProfileOptions,
    *,
    select: str | None = None,
    on_progress: Callable[[ProfileProgress], None] | None = None,
    on_start: Callable[[int], None] | None = None,
) -> SyncSummary:
    """Profile what changed among the selected models; raises SelectionError and WarehouseError."""
    started = time.perf_counter()
    summary = SyncSummary()
    nodes = select_nodes(index, select, profiled_candidates(index.nodes()))
    tables, unlisted = _warehouse_tables(nodes, warehouse, options, summary)
    attempts, profiles = history.latest_attempts(), history.all()
    todo: list[tuple[DbtNode, WarehouseTable]] = []
    for node in nodes:
        table = tables.get(_table_key(node))
        if (listing_error := unlisted.get(_table_key(node)[:2])) is not None:
            summary.skipped[node.name] = f"its schema's columns could not be listed: {listing_error}"
        elif table is None:
            summary.skipped[node.name] = "not in the warehouse (run `dbt run` or `dbt build` to create it)"
        elif reason_to_profile(node, table, attempts.get(node.unique_id), full=options.full) is None:
            summary.skipped[node.name] = "unchanged"
        else:
            todo.append((node, table))
    if on_start is not None:
        on_start(len(todo))
    for done, (node, table) in enumerate(todo, start=1):
        profile, dry_run = profile_model(node, table, profiles.get(node.unique_id), warehouse, options)
        summary.profile_queries += 1
        summary.dry_runs += int(dry_run)
        history.save(profile)
        if profile.status == "ok":
            summary.profiled.append(node.name)
            summary.bytes_scanned += profile.bytes_scanned or 0
            summary.bytes_reported |= profile.bytes_scanned is not None
        else:
            summary.failed[node.name] = profile.error or "failed"
        if on_progress is not None:
            on_progress(
                ProfileProgress(
                    node.name, "profiled" if profile.status == "ok" else "failed", done, len(todo)
                )
            )
    summary.seconds = time.perf_counter() - started
    return summary


def profile_model(
    node: DbtNode,
    table: WarehouseTable,
    previous: ModelProfile | None,
    warehouse: Warehouse,
    options: ProfileOptions,
) -> tuple[ModelProfile, bool]:
    """Profile one model with one query; the warehouse's SQL errors become a failed profile, not an exception.

    Where the warehouse estimates bytes (BigQuery's dry run), a query over the byte cap is sampled down to fit
    rather than refused. Returns the profile and whether a dry run was made.
    """
    relation = RelationName(node.database, node.schema, table.name)
    plans = column_plans(node, table, previous)
    percent = sample_percent(estimated_rows(table, previous), options.sample_rows)
    sql = build_profile_sql(relation, plans, warehouse.dialect, percent)
    started = time.perf_counter()
    attempt = ModelProfile(
        unique_id=node.unique_id,
        relation=relation.display(),
        row_count=None,
        profiled_at=datetime.now(UTC),
        manifest_checksum=node.checksum,
        columns_signature=table.signature(),
        sampled=percent is not None,
        sample_percent=percent,
    )
    estimate: int | None = None
    try:
        if options.max_bytes_scanned is not None:
            estimate = warehouse.estimate_bytes(sql)
            if estimate is not None and estimate > options.max_bytes_scanned:
                percent = fitted_sample_percent(percent, estimate, options.max_bytes_scanned)
                attempt = replace(attempt, sampled=True, sample_percent=percent)
                sql = build_profile_sql(relation, plans, warehouse.dialect, percent)
        check_read_only(
            sql, warehouse.dialect.sqlglot_name
        )  # Generated SQL passes the same guard as the model's.
        result = warehouse.execute_readonly(sql, max_rows=1, timeout_seconds=options.timeout_seconds)
        row_count, columns = read_profile([c.name for c in result.columns], result.rows[0], plans)
    except ToolInputError as exc:
        failed = replace(attempt, status="failed", error=exc.message, duration_ms=_ms_since(started))
        return failed, estimate is not None
    profile = replace(
        attempt,
        row_count=row_count,
        columns=columns,
        bytes_scanned=result.bytes_scanned,
        duration_ms=_ms_since(started),
    )
    return profile, estimate is not None


def _warehouse_tables(
    nodes: list[DbtNode], warehouse: Warehouse, options: ProfileOptions, summary: SyncSummary
) -> tuple[dict[tuple[str, str, str], WarehouseTable], dict[tuple[str, str], str]]:
    """The warehouse's tables for every schema the nodes live in (one metadata query per schema), and the
    schemas that could not be listed, with the warehouse's reason."""
    found: dict[tuple[str, str, str], WarehouseTable] = {}
    unlisted: dict[tuple[str, str], str] = {}
    schemas = sorted({(node.database or "", node.schema or "") for node in nodes if node.schema})
    for database, schema in schemas:
        summary.metadata_queries += 1
        try:
            tables = read_schema(warehouse, database or None, schema, timeout_seconds=options.timeout_seconds)
        except ToolInputError as exc:
            unlisted[(database.lower(), schema.lower())] = exc.message
            continue
        for name, table in tables.items():
            found[(database.lower(), schema.lower(), name)] = table
    return found, unlisted


def _table_key(node: DbtNode) -> tuple[str, str, str]:
    return ((node.database or "").lower(), (node.schema or "").lower(), node.identifier.lower())


def _ms_since(started: float) -> float:
    return round((time.perf_counter() - started) * 1000, 2)
