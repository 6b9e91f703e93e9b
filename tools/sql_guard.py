"""Read-only by parsing: one SELECT statement, nothing that writes, locks, reads files or sleeps.

Keywords cannot be trusted (a column may be called updated_at, a string may say DROP TABLE); the parsed
syntax tree can. Anything sqlglot cannot parse is refused rather than guessed at.
"""

from __future__ import annotations

import functools
import logging
from dataclasses import dataclass

import sqlglot
from sqlglot import exp
from sqlglot.errors import ParseError, TokenError

from tools.errors import ToolInputError

# sqlglot warns when it falls back to an opaque Command; we refuse those anyway, so the warning is noise.
logging.getLogger("sqlglot").setLevel(logging.ERROR)

# Statement and clause types that change data, sessions or the server, looked up by name so that a node type
# missing from this sqlglot version is simply skipped.
_FORBIDDEN_NODE_NAMES = (
    "Insert", "Update", "Delete", "Merge", "Create", "Drop", "Alter", "AlterTable", "TruncateTable", "Command",
    "Set", "SetItem", "Pragma", "Copy", "Into", "Lock", "LoadData", "Use", "Transaction", "Commit", "Rollback",
    "Grant", "Revoke", "Attach", "Detach", "Install", "Export", "Call", "Analyze", "Refresh", "Cache", "Uncache",
    "Describe", "Show", "Kill", "Summarize",
)  # fmt: skip
_FORBIDDEN_NODES = tuple(
    node_type for name in _FORBIDDEN_NODE_NAMES if isinstance(node_type := getattr(exp, name, None), type)
)

# Functions with side effects: file and network access, sleeping, sequences, session settings, signals.
FORBIDDEN_FUNCTIONS = frozenset(
    ["pg_read_file", "pg_read_binary_file", "pg_ls_dir", "pg_stat_file", "pg_file_write", "pg_logdir_ls", "pg_sleep", "pg_sleep_for", "pg_sleep_until", "set_config", "lo_import", "lo_export", "lo_unlink", "lo_create", "lo_creat", "lo_open", "lo_put", "lo_from_bytea", "lo_truncate", "dblink", "dblink_exec", "dblink_connect", "dblink_connect_u", "dblink_send_query", "dblink_open", "pg_terminate_backend", "pg_cancel_backend", "pg_reload_conf", "pg_rotate_logfile", "pg_switch_wal", "pg_promote", "pg_create_restore_point", "pg_notify", "nextval", "setval", "txid_current", "pg_current_xact_id", "query_to_xml", "query_to_xml_and_xmlschema", "table_to_xml", "cursor_to_xml", "pg_advisory_lock", "pg_advisory_xact_lock", "pg_try_advisory_lock", "pg_try_advisory_xact_lock", "pg_advisory_lock_shared", "pg_advisory_unlock", "pg_advisory_unlock_all", "pg_import_system_collations", "pg_replication_origin_create", "copy_from", "copy_to", "read_csv", "read_csv_auto", "readcsv", "read_parquet", "parquet_scan", "read_json", "read_json_auto", "read_json_objects", "read_ndjson", "read_ndjson_auto", "read_ndjson_objects", "read_text", "read_blob", "glob", "sniff_csv", "query", "query_table", "getenv", "duckdb_secrets", "iceberg_scan", "delta_scan", "postgres_scan", "postgres_scan_pushdown", "postgres_query", "postgres_execute", "sqlite_scan", "sqlite_attach", "mysql_scan", "mysql_query", "http_get", "http_post", "read_xlsx", "st_read", "parquet_metadata", "parquet_schema", "external_query", "system", "sleep", "benchmark", "load_file"]
)  # fmt: skip

ALLOWED = (
    "Only one read-only SELECT statement is allowed (WITH, UNION/INTERSECT/EXCEPT and subqueries are fine)."
)


class SqlRefused(ToolInputError):
    """The SQL is not a single read-only query."""


@dataclass(frozen=True)
class CheckedQuery:
    """A statement that passed the guard: its syntax tree, its SQL in the dialect, the tables it reads."""

    expression: exp.Query
    sql: str
    tables: list[str]
    dialect: str


@functools.lru_cache(maxsize=128)
def check_read_only(sql: str, dialect: str) -> CheckedQuery:
    """Parse `sql` in `dialect` and return it if it is one read-only query; otherwise raise SqlRefused.

    Cached: the status line and the run check the same SQL, and callers only read the tree (copy to change it).
    """
    try:
        statements = [s for s in sqlglot.parse(sql, read=dialect) if s is not None]
    except (ParseError, TokenError) as exc:
        detail = str(exc).splitlines()[0][:300]
        raise SqlRefused(f"Could not parse the SQL as {dialect}: {detail}. {ALLOWED}", sql=sql) from None
    if len(statements) != 1:
        found = "no statement" if not statements else f"{len(statements)} statements"
        raise SqlRefused(f"Refused: found {found}. {ALLOWED}", sql=sql)
    statement = statements[0]
    if not isinstance(statement, exp.Query) or (
        isinstance(statement, exp.Subquery) and not _is_query(statement)
    ):
        raise SqlRefused(
            f"Refused: {_statement_keyword(statement)} is not a read-only query. {ALLOWED}", sql=sql
        )
    for node in statement.walk():
        _refuse_forbidden(node, sql)
    cte_names = {cte.alias_or_name.lower() for cte in statement.find_all(exp.CTE)}
    tables = []
    for table in statement.find_all(exp.Table, bfs=False):
        name = table.name
        if name and name.lower() not in cte_names and name not in tables:
            tables.append(name)
    # In the order they are written, so "the first table" is the one a person reads first.
    tables.sort(key=lambda name: _position(sql.lower(), name.lower()))
    return CheckedQuery(statement, statement.sql(dialect=dialect, comments=False), tables, dialect)


def _position(text: str, name: str) -> int:
    found = text.find(name)
    return found if found >= 0 else len(text)


def _statement_keyword(statement: exp.Expr) -> str:
    if isinstance(statement, exp.Command):
        return str(statement.this).upper()
    return statement.key.upper()


def _is_query(node: exp.Expr) -> bool:
    inner = node.this if isinstance(node, exp.Subquery) else node
    return isinstance(inner, exp.Query)


def _refuse_forbidden(node: exp.Expr, sql: str) -> None:
    if isinstance(node, _FORBIDDEN_NODES):
        what = "SELECT INTO" if isinstance(node, exp.Into) else _statement_keyword(node)
        if isinstance(node, exp.Lock):
            what = "a locking clause (FOR UPDATE/SHARE)"
        raise SqlRefused(f"Refused: the query contains {what}, which is not read-only. {ALLOWED}", sql=sql)
    if isinstance(node, exp.Func):
        names = {node.name.lower() if isinstance(node, exp.Anonymous) else "", node.key.lower()}
        names.update(name.lower() for name in _sql_names(node))
        blocked = names & FORBIDDEN_FUNCTIONS
        if blocked:
            raise SqlRefused(
                f"Refused: {sorted(blocked)[0]}() has side effects or reads outside the warehouse. {ALLOWED}",
                sql=sql,
            )
    if isinstance(node, exp.Table) and _is_file_or_url(node):
        raise SqlRefused(f"Refused: reading files or URLs ({node.name}) is not allowed. {ALLOWED}", sql=sql)


def _sql_names(node: exp.Func) -> list[str]:
    try:
        return [node.sql_name()]
    except (AttributeError, NotImplementedError):
        return []


def _is_file_or_url(table: exp.Table) -> bool:
    """DuckDB reads `FROM 'data.csv'` or `FROM 's3://...'` directly: those are files, not relations."""
    identifier = table.this
    if isinstance(identifier, exp.Func):
        return False  # Table functions are checked by name.
    name = table.name.lower()
    return (
        "://" in name
        or "/" in name
        or name.endswith((".csv", ".parquet", ".json", ".ndjson", ".tsv", ".txt"))
    )
