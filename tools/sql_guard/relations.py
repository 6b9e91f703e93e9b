"""Which relations a query may read: the warehouse's own tables and information_schema, not the server's.

System catalogs show password hashes (pg_shadow, pg_authid), configuration files (pg_hba_file_rules,
pg_file_settings), other sessions' queries (pg_stat_activity), DuckDB's secrets and settings, and BigQuery's
job history. In pg_catalog, and for names starting with pg_ (which PostgreSQL resolves in pg_catalog first),
only a short list of relations that describe tables and types is readable.
"""

from __future__ import annotations

from sqlglot import exp

from tools.sql_guard.function_names import names
from tools.sql_guard.refusal import refuse

# Relations that describe the warehouse's own tables, columns and types, and nothing about the server.
HARMLESS_CATALOG_RELATIONS = names(
    """pg_class pg_namespace pg_attribute pg_attrdef pg_type pg_enum pg_index pg_indexes pg_constraint
    pg_description pg_tables pg_views pg_matviews pg_inherits pg_am pg_collation"""
)
HARMLESS_DUCKDB_RELATIONS = names(
    """duckdb_tables duckdb_columns duckdb_views duckdb_schemas duckdb_constraints duckdb_indexes
    duckdb_types"""
)
# information_schema views that show foreign servers' options and user mappings (passwords among them).
_SECRET_INFORMATION_SCHEMA_PREFIXES = ("user_mapping", "foreign_", "_pg_")
# BigQuery INFORMATION_SCHEMA views with other people's queries and sessions.
_BIGQUERY_HISTORY_PREFIXES = ("jobs", "sessions")
_FILE_SUFFIXES = (
    ".csv", ".tsv", ".txt", ".parquet", ".json", ".jsonl", ".ndjson", ".gz", ".zst", ".xlsx", ".arrow",
    ".avro", ".db", ".duckdb", ".sqlite",
)  # fmt: skip


def check_relation(table: exp.Table, dialect: str, sql: str) -> None:
    """Raise SqlRefused when `table` is a system catalog, a file or a URL."""
    if isinstance(table.this, exp.Func) or not table.name:
        return  # Table functions are judged as functions; ROWS FROM (...) by its members.
    if _is_file_or_url(table, dialect):
        raise refuse(f"reading files or URLs ({table.name}) is not allowed", sql)
    parts = [
        part.lower() for piece in (table.catalog, table.db, table.name) for part in piece.split(".") if part
    ]
    name, schema = parts[-1], parts[-2] if len(parts) > 1 else ""
    shown = ".".join(parts)
    if dialect == "bigquery":
        if "information_schema" in parts[:-1] and name.startswith(_BIGQUERY_HISTORY_PREFIXES):
            raise _system_relation(shown, sql)
        return
    in_catalog = schema == "pg_catalog" or (not schema and name.startswith("pg_"))
    if in_catalog and name not in HARMLESS_CATALOG_RELATIONS:
        raise _system_relation(shown, sql)
    if schema.startswith(("pg_toast", "pg_temp")):
        raise _system_relation(shown, sql)
    if schema == "information_schema" and name.startswith(_SECRET_INFORMATION_SCHEMA_PREFIXES):
        raise _system_relation(shown, sql)
    if (
        dialect == "duckdb"
        and name.startswith(("duckdb_", "pragma_"))
        and name not in HARMLESS_DUCKDB_RELATIONS
    ):
        raise _system_relation(shown, sql)


def check_cast_target(node: exp.ObjectIdentifier, sql: str) -> None:
    """Casts to regproc, regclass and the like look objects up in the system catalog: refused (oid is fine)."""
    target = node.sql().lower()
    if target.startswith("reg"):
        raise refuse(f"casts to {target} look up the system catalog; compare names as text instead", sql)


def _system_relation(shown: str, sql: str) -> Exception:
    return refuse(
        f"{shown} is a system catalog that can expose server secrets, files or settings; query the warehouse's "
        "own tables or information_schema instead",
        sql,
    )


def _is_file_or_url(table: exp.Table, dialect: str) -> bool:
    """DuckDB reads `FROM 'data.csv'` or `FROM 's3://...'` directly: those are files, not relations."""
    name = table.name.lower()
    # A star is a file glob in DuckDB but a wildcard table (`events_*`) in BigQuery.
    glob = "*" in name and dialect != "bigquery"
    return glob or "://" in name or "/" in name or "\\" in name or name.endswith(_FILE_SUFFIXES)
