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
# information_schema views that describe the warehouse's own tables, columns, constraints, types and grants on
# them (PostgreSQL's and DuckDB's). Not the rest: foreign servers and user mappings (passwords among them), and
# role membership (applicable_roles, enabled_roles, administrable_role_authorizations).
READABLE_INFORMATION_SCHEMA = names(
    """tables columns views schemata table_constraints key_column_usage referential_constraints
    constraint_column_usage constraint_table_usage check_constraints domains domain_constraints domain_udt_usage
    element_types attributes column_domain_usage column_udt_usage table_privileges column_privileges
    role_table_grants role_column_grants sequences triggers triggered_update_columns view_table_usage
    view_column_usage view_routine_usage routines parameters character_sets collations
    collation_character_set_applicability user_defined_types information_schema_catalog_name sql_features"""
)
# BigQuery INFORMATION_SCHEMA views about the datasets' own tables. Not the rest: other people's jobs and
# sessions, who holds which privilege, reservations, capacity, write timelines, project and organisation options.
READABLE_BIGQUERY_INFORMATION_SCHEMA = names(
    """tables columns column_field_paths table_options views materialized_views schemata schemata_options
    partitions table_constraints key_column_usage constraint_column_usage routines routine_options parameters
    table_snapshots table_storage"""
)
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
        if "information_schema" in parts[:-1] and name not in READABLE_BIGQUERY_INFORMATION_SCHEMA:
            raise _system_relation(shown, sql)
        return
    in_catalog = schema == "pg_catalog" or (not schema and name.startswith("pg_"))
    if in_catalog and name not in HARMLESS_CATALOG_RELATIONS:
        raise _system_relation(shown, sql)
    if schema.startswith(("pg_toast", "pg_temp")):
        raise _system_relation(shown, sql)
    if schema == "information_schema" and name not in READABLE_INFORMATION_SCHEMA:
        raise _system_relation(shown, sql)
    if (
        dialect == "duckdb"
        and name.startswith(("duckdb_", "pragma_"))
        and name not in HARMLESS_DUCKDB_RELATIONS
    ):
        raise _system_relation(shown, sql)


def check_cast_target(node: exp.ObjectIdentifier | exp.DataType, sql: str) -> None:
    """Casts to regproc, regclass and the like look objects up in the system catalog: refused (oid is fine).

    Also written qualified (pg_catalog.regclass), which sqlglot reads as a user-defined type.
    """
    if isinstance(node, exp.ObjectIdentifier):  # A DataType too: the unqualified reg* types.
        target = node.sql().lower()
    elif node.this == exp.DataType.Type.USERDEFINED:
        kind = node.args.get("kind")
        target = (kind.name if isinstance(kind, exp.Expr) else str(kind or "")).lower()
    else:
        return
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
