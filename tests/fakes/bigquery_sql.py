"""BigQuery SQL and values as the fake BigQuery speaks them: transpiled to DuckDB, typed and encoded like the API."""

from __future__ import annotations

import base64
import datetime as dt
from decimal import Decimal
from typing import Any

import sqlglot
from sqlglot import exp

MB = 1024 * 1024
_MIN_BILLED = 10 * MB


def to_duckdb(sql: str, configuration: dict[str, Any]) -> str:
    """BigQuery SQL as DuckDB runs it: projects dropped, the job's defaultDataset filled in for bare names."""
    tree = sqlglot.parse_one(sql, read="bigquery")
    default_dataset = configuration.get("query", {}).get("defaultDataset", {}).get("datasetId")
    ctes = {cte.alias_or_name.lower() for cte in tree.find_all(exp.CTE)}
    for table in tree.find_all(exp.Table):
        table.set("catalog", None)  # The project: one DuckDB database plays one project.
        if default_dataset and not table.db and table.name.lower() not in ctes:
            table.set("db", exp.to_identifier(default_dataset))
    return tree.sql(dialect="duckdb")


def statement_type(sql: str) -> str | None:
    """statistics.query.statementType as BigQuery reports it (SELECT, DELETE, CREATE_TABLE, SCRIPT...); None: unparsable."""
    try:
        statements = [s for s in sqlglot.parse(sql, read="bigquery") if s is not None]
    except sqlglot.errors.SqlglotError:
        return None
    if not statements:
        return None
    if len(statements) > 1:
        return "SCRIPT"
    statement = statements[0]
    if isinstance(statement, exp.Query):
        return "SELECT"
    names = {exp.Insert: "INSERT", exp.Update: "UPDATE", exp.Delete: "DELETE", exp.Merge: "MERGE"}
    for node_type, name in names.items():
        if isinstance(statement, node_type):
            return name
    if isinstance(statement, exp.Create):
        return f"CREATE_{statement.kind or 'TABLE'}".upper()
    if isinstance(statement, exp.Drop):
        return f"DROP_{statement.kind or 'TABLE'}".upper()
    return statement.key.upper()


def bigquery_type(duckdb_type: str) -> str:
    """The BigQuery legacy type name (INTEGER, FLOAT, NUMERIC, ...) of a DuckDB column type."""
    upper = duckdb_type.upper()
    if upper in {
        "BIGINT",
        "INTEGER",
        "SMALLINT",
        "TINYINT",
        "HUGEINT",
        "UBIGINT",
        "UINTEGER",
        "USMALLINT",
        "UTINYINT",
    }:
        return "INTEGER"
    if upper in {"DOUBLE", "FLOAT", "REAL"}:
        return "FLOAT"
    if upper.startswith("DECIMAL"):
        return "NUMERIC"
    if upper == "BOOLEAN":
        return "BOOLEAN"
    if upper == "DATE":
        return "DATE"
    if upper in {"TIMESTAMP WITH TIME ZONE", "TIMESTAMPTZ"}:
        return "TIMESTAMP"
    if upper.startswith("TIMESTAMP"):
        return "DATETIME"
    if upper == "TIME":
        return "TIME"
    if upper == "BLOB":
        return "BYTES"
    return "STRING"


def encode(value: Any, int64_timestamps: bool) -> Any:
    """A value as BigQuery's JSON rows carry it: a string (or null)."""
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dt.datetime):
        if value.tzinfo is not None:
            seconds = value.timestamp()
            return str(round(seconds * 1_000_000)) if int64_timestamps else repr(seconds)
        return value.isoformat()
    if isinstance(value, dt.date | dt.time):
        return value.isoformat()
    if isinstance(value, bytes | bytearray):
        return base64.b64encode(bytes(value)).decode()
    if isinstance(value, Decimal | float | int):
        return str(value)
    return str(value)


def billed(processed: int) -> int:
    """Bytes BigQuery bills for a scan: at least 10 MB, rounded up to whole MB; nothing for nothing."""
    return max(_MIN_BILLED, -(-processed // MB) * MB) if processed else 0
