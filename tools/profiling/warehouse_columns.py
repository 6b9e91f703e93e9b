"""The columns the warehouse really has: one information_schema query per schema (dataset), never per model."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass

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


def read_schema(
    warehouse: Warehouse, database: str | None, schema: str, *, timeout_seconds: float
) -> dict[str, WarehouseTable]:
    """Every table of one schema, by lower-cased name."""
    sql = warehouse.dialect.schema_columns_sql(database, schema)
    check_read_only(
        sql, warehouse.dialect.sqlglot_name
    )  # Generated SQL passes the same guard as the model's.
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
