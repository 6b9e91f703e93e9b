"""The columns the warehouse really has: one information_schema query per schema (dataset), never per model."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass

from sqlglot import exp

from tools.sql_guard import check_read_only
from tools.warehouse.base import Warehouse

# Enough for any schema's column list; the row cap exists for answers, not for metadata.
_MAX_METADATA_ROWS = 1_000_000


@dataclass(frozen=True)
class WarehouseTable:
    """One table or view as the warehouse lists it, with the row estimate its statistics give, if any."""

    name: str
    columns: tuple[tuple[str, str], ...]  # (name, data type), in table order
    estimated_rows: int | None

    def signature(self) -> str:
        """A short hash of the column names and types: it changes when the table's columns change."""
        text = "\n".join(f"{name.lower()}:{data_type.lower()}" for name, data_type in self.columns)
        return hashlib.sha256(text.encode()).hexdigest()[:32]


def schema_columns_sql(dialect: str, database: str | None, schema: str) -> str:
    """The query listing every column of one schema, with a row estimate where the catalog keeps one."""
    schema_literal = exp.Literal.string(schema).sql(dialect=dialect)
    if dialect == "bigquery":
        dataset = ".".join(
            exp.to_identifier(part, quoted=True).sql(dialect="bigquery")
            for part in (database, schema)
            if part
        )
        # Row estimates live in region-wide views on BigQuery; the dry run's byte estimate guards cost instead.
        return (
            "SELECT table_name, column_name, data_type, CAST(NULL AS INT64) AS estimated_rows "
            f"FROM {dataset}.INFORMATION_SCHEMA.COLUMNS ORDER BY table_name, ordinal_position"
        )
    catalog_filter = (
        f" AND c.table_catalog = {exp.Literal.string(database).sql(dialect=dialect)}" if database else ""
    )
    if dialect == "postgres":
        # reltuples is what ANALYZE last counted (-1 or 0 when never analysed); views have none.
        return (
            "SELECT c.table_name, c.column_name, c.data_type, "
            "CAST(NULLIF(GREATEST(k.reltuples, 0), 0) AS BIGINT) AS estimated_rows "
            "FROM information_schema.columns AS c "
            "LEFT JOIN pg_catalog.pg_namespace AS n ON n.nspname = c.table_schema "
            "LEFT JOIN pg_catalog.pg_class AS k ON k.relnamespace = n.oid AND k.relname = c.table_name "
            f"WHERE c.table_schema = {schema_literal}{catalog_filter} "
            "ORDER BY c.table_name, c.ordinal_position"
        )
    return (
        "SELECT c.table_name, c.column_name, c.data_type, t.estimated_size AS estimated_rows "
        "FROM information_schema.columns AS c "
        "LEFT JOIN duckdb_tables() AS t ON t.database_name = c.table_catalog "
        "AND t.schema_name = c.table_schema AND t.table_name = c.table_name "
        f"WHERE c.table_schema = {schema_literal}{catalog_filter} "
        "ORDER BY c.table_name, c.ordinal_position"
    )


def read_schema(
    warehouse: Warehouse, database: str | None, schema: str, *, timeout_seconds: float
) -> dict[str, WarehouseTable]:
    """Every table of one schema, by lower-cased name."""
    sql = schema_columns_sql(warehouse.dialect, database, schema)
    check_read_only(sql, warehouse.dialect)  # Generated SQL passes the same guard as the model's.
    result = warehouse.execute_readonly(sql, max_rows=_MAX_METADATA_ROWS, timeout_seconds=timeout_seconds)
    return tables_from_rows(result.rows)


def tables_from_rows(rows: Sequence[Sequence[object]]) -> dict[str, WarehouseTable]:
    columns: dict[str, list[tuple[str, str]]] = {}
    names: dict[str, str] = {}
    estimates: dict[str, int | None] = {}
    for table_name, column_name, data_type, estimated_rows in rows:
        key = str(table_name).lower()
        names.setdefault(key, str(table_name))
        columns.setdefault(key, []).append((str(column_name), str(data_type)))
        estimates[key] = int(str(estimated_rows)) if estimated_rows is not None else None
    return {key: WarehouseTable(names[key], tuple(found), estimates[key]) for key, found in columns.items()}
