"""Checking a query's columns against the project's known schema before it runs, for precise hints."""

from __future__ import annotations

import difflib
from collections.abc import Sequence
from typing import Protocol

from sqlglot import exp
from sqlglot.errors import OptimizeError, SqlglotError
from sqlglot.optimizer.qualify import qualify

from tools.sql_guard import CheckedQuery


class KnownRelation(Protocol):
    """What the check needs to know of a relation (tools.dbt.nodes.Relation has it)."""

    @property
    def node_name(self) -> str: ...

    @property
    def identifier(self) -> str: ...

    @property
    def columns(self) -> dict[str, str]: ...


def schema_hint(query: CheckedQuery, relations: Sequence[KnownRelation]) -> str | None:
    """A hint like "column revnue not in orders; did you mean revenue?", only when the schema is certain."""
    by_name = {relation.identifier.lower(): relation for relation in relations if relation.columns}
    cte_names = {cte.alias_or_name.lower() for cte in query.expression.find_all(exp.CTE)}
    tables = [t for t in query.expression.find_all(exp.Table) if t.name.lower() not in cte_names]
    if not tables or any(t.name.lower() not in by_name for t in tables):
        return None  # A table we do not know may well exist; the warehouse will say.
    depths = {len(t.parts) for t in tables}
    if len(depths) != 1:
        return None
    schema: dict[str, object] = {}
    for table in tables:
        level = schema
        for part in table.parts[:-1]:
            level = level.setdefault(part.name, {})  # type: ignore[assignment]
        level[table.name] = dict(by_name[table.name.lower()].columns)
    try:
        qualify(query.expression.copy(), schema=schema, dialect=query.dialect, validate_qualify_columns=True)
    except OptimizeError:
        return _unknown_column_hint(query, [by_name[t.name.lower()] for t in tables])
    except SqlglotError:
        return None
    return None


def _unknown_column_hint(query: CheckedQuery, used: list[KnownRelation]) -> str | None:
    known = {name.lower(): relation for relation in used for name in relation.columns}
    aliases = {a.alias.lower() for a in query.expression.find_all(exp.Alias)}
    for column in query.expression.find_all(exp.Column):
        name = column.name.lower()
        if not name or name in known or name in aliases:
            continue
        candidates = [c for relation in used for c in relation.columns]
        close = difflib.get_close_matches(name, candidates, n=1, cutoff=0.6)
        tables = " or ".join(relation.node_name for relation in used)
        suggestion = (
            f"; did you mean {close[0]}?" if close else f"; its columns: {', '.join(candidates[:30])}"
        )
        return f"column {column.name} not in {tables}{suggestion}"
    return None
