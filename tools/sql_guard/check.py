"""Read-only by parsing: one SELECT statement, nothing that writes, locks, reads files or calls the unknown.

Keywords cannot be trusted (a column may be called updated_at, a string may say DROP TABLE); the parsed
syntax tree can. Anything sqlglot cannot parse is refused rather than guessed at, and so is every function
not known to be pure (functions.py) and every system catalog (relations.py).
"""

from __future__ import annotations

import functools
import logging
from dataclasses import dataclass

from sqlglot import exp
from sqlglot.dialects.dialect import Dialect
from sqlglot.errors import ParseError, TokenError

from tools.sql_guard.functions import check_function
from tools.sql_guard.limits import NESTING_ADVICE, check_length, check_nesting
from tools.sql_guard.passed_trees import remember_passed
from tools.sql_guard.refusal import ALLOWED, SqlRefused, refuse
from tools.sql_guard.relations import check_cast_target, check_relation

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


@dataclass(frozen=True)
class CheckedQuery:
    """A statement that passed the guard: its syntax tree, its SQL in the dialect, the tables it reads."""

    expression: exp.Query
    sql: str
    tables: list[str]
    dialect: str


@functools.lru_cache(maxsize=128)
def check_read_only(sql: str, dialect: str, allowed_functions: frozenset[str] = frozenset()) -> CheckedQuery:
    """Parse `sql` in `dialect` and return it if it is one read-only query; otherwise raise SqlRefused.

    `allowed_functions` are lower-case names (bare, or schema.name) the user vouches for on top of the known
    pure ones. Cached: the status line and the run check the same SQL, and callers only read the tree (copy to
    change it).
    """
    check_length(sql)
    statement = _parse_one_statement(sql, dialect)
    cte_names = {cte.alias_or_name.lower() for cte in statement.find_all(exp.CTE)}
    for node in statement.walk():
        _check_node(node, dialect, allowed_functions, sql)
    tables = []
    for table in statement.find_all(exp.Table, bfs=False):
        name = table.name
        if name and name.lower() not in cte_names and name not in tables:
            tables.append(name)
    # In the order they are written, so "the first table" is the one a person reads first.
    tables.sort(key=lambda name: _position(sql.lower(), name.lower()))
    try:
        rendered = statement.sql(dialect=dialect, comments=False)
    except RecursionError:
        raise _too_complex(sql) from None
    remember_passed(rendered, dialect, statement)
    return CheckedQuery(statement, rendered, tables, dialect)


def _parse_one_statement(sql: str, dialect: str) -> exp.Query:
    parser_dialect = Dialect.get_or_raise(dialect)
    try:
        tokens = parser_dialect.tokenize(sql)
        check_nesting(tokens, sql)
        statements = [s for s in parser_dialect.parser().parse(tokens, sql) if s is not None]
    except SqlRefused:
        raise
    except (ParseError, TokenError) as exc:
        detail = str(exc).splitlines()[0][:300] if str(exc) else type(exc).__name__
        raise SqlRefused(f"Could not parse the SQL as {dialect}: {detail}. {ALLOWED}", sql=sql) from None
    except RecursionError:
        raise _too_complex(sql) from None
    except Exception:  # A third-party parser fed hostile text: whatever breaks it, we refuse, never crash.
        raise _too_complex(sql) from None
    if len(statements) != 1:
        found = "no statement" if not statements else f"{len(statements)} statements"
        raise refuse(f"found {found}", sql)
    statement = statements[0]
    if not isinstance(statement, exp.Query) or (
        isinstance(statement, exp.Subquery) and not _is_query(statement)
    ):
        raise refuse(f"{_statement_keyword(statement)} is not a read-only query", sql)
    return statement


def _check_node(node: exp.Expr, dialect: str, allowed_functions: frozenset[str], sql: str) -> None:
    if isinstance(node, _FORBIDDEN_NODES):
        what = "SELECT INTO" if isinstance(node, exp.Into) else _statement_keyword(node)
        if isinstance(node, exp.Lock):
            what = "a locking clause (FOR UPDATE/SHARE)"
        raise refuse(f"the query contains {what}, which is not read-only", sql)
    if isinstance(node, exp.Func):
        check_function(node, dialect, allowed_functions, sql)
    elif isinstance(node, exp.Table):
        # Even a name some CTE defines: a CTE is visible only in its own scope, so `pg_shadow` elsewhere in the
        # statement may still be the catalog. A CTE named like a catalog is refused too; rename it.
        check_relation(node, dialect, sql)
    elif isinstance(node, (exp.ObjectIdentifier, exp.DataType)):
        check_cast_target(node, sql)
    elif isinstance(node, exp.Operator):
        raise refuse("OPERATOR(...) calls name an operator's function directly; use the plain operator", sql)


def _too_complex(sql: str) -> SqlRefused:
    return refuse(f"the SQL is too deeply nested or too complex to check; {NESTING_ADVICE}", sql)


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
