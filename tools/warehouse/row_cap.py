"""Capping a query's rows by changing its syntax tree, never by appending text."""

from __future__ import annotations

import sqlglot
from sqlglot import exp


def capped_sql(sql: str, dialect: str, limit: int) -> str:
    """`sql` returning at most `limit` rows: a smaller LIMIT on a plain SELECT, else a wrapping SELECT."""
    statement = sqlglot.parse_one(sql, read=dialect)
    if not isinstance(statement, exp.Query):
        return sql  # Not a query: nothing to cap, and the read-only connection refuses it if it writes.
    if isinstance(statement, exp.Select) and not statement.args.get("offset"):
        existing = statement.args.get("limit")
        current = _literal_limit(existing)
        if existing is None or (current is not None and current > limit):
            # Same query, its own ORDER BY untouched: the database returns the same first rows.
            return statement.limit(limit, copy=True).sql(dialect=dialect)
        if current is not None:
            return statement.sql(dialect=dialect)
    wrapped = exp.select("*").from_(statement.subquery("_bp_rows")).limit(limit)
    return wrapped.sql(dialect=dialect)


def _literal_limit(limit: exp.Expression | None) -> int | None:
    if limit is None:
        return None
    value = limit.expression if isinstance(limit, exp.Limit) else limit
    if isinstance(value, exp.Literal) and value.is_int:
        return int(value.this)
    return None
