"""Checking every table and column of a query against the known schema before it runs, in the warehouse's
dialect and case rules: an unknown name is refused with where we looked and the closest known names; a column
two tables of one query both have, used without saying which, is named.

Only what is certain is refused: a column is checked against a table whose full column list is known (the
catalog or the warehouse's listing), and a table the schema does not list is refused when the listing is
complete or a known table is spelled almost the same (a table outside dbt may exist; a typo does not).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from sqlglot import exp
from sqlglot.dialects.dialect import Dialect, NormalizationStrategy
from sqlglot.errors import SqlglotError
from sqlglot.optimizer.scope import Scope, traverse_scope

from tools.name_suggestions import closest
from tools.sql_guard import CheckedQuery

# How close a known table must be spelled for an unlisted one to count as a typo of it.
_TYPO_CLOSENESS = 0.75


@dataclass(frozen=True)
class KnownTable:
    """A table or view the schema lists: where it lives, its columns (empty: not known), their descriptions,
    and the part of the project it belongs to (tables of one part are suggested first)."""

    name: str
    database: str | None
    schema: str | None
    identifier: str
    columns: tuple[str, ...]
    descriptions: Mapping[str, str] = field(default_factory=dict)
    part: str = ""


@dataclass(frozen=True)
class NameProblem:
    """An unknown table or column, or an ambiguous column, with where we looked and the closest names."""

    kind: str  # "table", "column" or "ambiguous column"
    name: str
    looked_in: str
    candidates: tuple[str, ...]

    def message(self) -> str:
        if self.kind == "ambiguous column":
            return (
                f"column {self.name} is ambiguous: {self.looked_in} all have it; "
                f"say which, e.g. {', '.join(self.candidates)}"
            )
        close = f"; did you mean {', '.join(self.candidates)}?" if self.candidates else ""
        if self.candidates and self.candidates[0].lower() == self.name.lower():
            close += f' (quote it as "{self.candidates[0]}": the warehouse keeps that name in that case)'
        return f"{self.kind} {self.name} not found in {self.looked_in}{close}"


class _Names:
    """Identifier comparison under a dialect's case rules."""

    def __init__(self, dialect: str) -> None:
        self.dialect = Dialect.get_or_raise(dialect)
        strategy = self.dialect.normalization_strategy
        self.sensitive = strategy in (
            NormalizationStrategy.LOWERCASE,
            NormalizationStrategy.UPPERCASE,
            NormalizationStrategy.CASE_SENSITIVE,
        )

    def of_query(self, identifier: exp.Identifier | str) -> str:
        if isinstance(identifier, str):
            identifier = exp.to_identifier(identifier)
        normalized = self.dialect.normalize_identifier(identifier.copy()).name
        return normalized if self.sensitive else normalized.lower()

    def of_catalog(self, name: str) -> str:
        return name if self.sensitive else name.lower()


def find_name_problem(
    query: CheckedQuery, tables: Sequence[KnownTable], *, source: str, complete: bool = False
) -> NameProblem | None:
    """The first unknown table, unknown column or ambiguous column of the query, or None.

    `source` says where the names come from (e.g. "the dbt catalog"); `complete` says the listing holds every
    table of its schemas, so an unlisted table does not exist.
    """
    names = _Names(query.dialect)
    try:
        scopes = traverse_scope(query.expression.copy())
    except SqlglotError:
        return None
    by_identifier: dict[str, list[KnownTable]] = {}
    for table in tables:
        by_identifier.setdefault(names.of_catalog(table.identifier), []).append(table)
    resolved: dict[int, KnownTable | None] = {}
    for scope in scopes:
        for node in scope.tables:
            if id(node) in resolved or _is_cte(node, scope):
                continue
            found = _resolve_table(node, by_identifier, names)
            if found is None:
                problem = _unknown_table(node, tables, resolved, source, complete)
                if problem is not None:
                    return problem
            resolved[id(node)] = found
    for scope in scopes:
        problem = _check_columns(scope, resolved, names, source)
        if problem is not None:
            return problem
    return None


def _is_cte(table: exp.Table, scope: Scope) -> bool:
    if table.db:
        return False
    current: Scope | None = scope
    while current is not None:
        if table.name in current.cte_sources or table.name.lower() in {
            n.lower() for n in current.cte_sources
        }:
            return True
        current = current.parent
    return False


def _resolve_table(
    table: exp.Table, by_identifier: dict[str, list[KnownTable]], names: _Names
) -> KnownTable | None:
    candidates = by_identifier.get(names.of_query(table.this), [])
    if table.db:
        schema = names.of_query(table.args["db"])
        candidates = [c for c in candidates if c.schema is None or names.of_catalog(c.schema) == schema]
    if len(candidates) > 1 and len({c.columns for c in candidates}) > 1:
        # Same name in several schemas and the search path decides which: the table exists, its columns
        # are not certain, so they are not checked.
        return KnownTable(candidates[0].name, None, None, candidates[0].identifier, ())
    return candidates[0] if candidates else None


def _unknown_table(
    table: exp.Table,
    tables: Sequence[KnownTable],
    resolved: Mapping[int, KnownTable | None],
    source: str,
    complete: bool,
) -> NameProblem | None:
    nearby = frozenset(t.identifier for t in tables if t.part in {k.part for k in resolved.values() if k})
    identifiers = [
        t.identifier for t in tables if not table.db or (t.schema or "").lower() == table.db.lower()
    ]
    candidates = closest(table.name, identifiers, nearby=nearby)
    if not complete and not any(c.closeness >= _TYPO_CLOSENESS for c in candidates):
        return None
    schemas = sorted({t.schema or "" for t in tables} - {""})
    where = f"{source} (schemas {', '.join(schemas[:8])})" if schemas else source
    return NameProblem("table", table.sql(), where, tuple(c.name for c in candidates))


def _check_columns(
    scope: Scope, resolved: Mapping[int, KnownTable | None], names: _Names, source: str
) -> NameProblem | None:
    selects = scope.expression.selects if isinstance(scope.expression, exp.Query) else []
    aliases = {names.of_query(a.alias) for a in selects if isinstance(a, exp.Alias)}
    for column in scope.columns:
        if isinstance(column.this, exp.Star) or not column.name:
            continue
        if column.find_ancestor(exp.Select) is not scope.expression:
            continue  # sqlglot lists a subquery's columns in its parent too; the subquery's own scope checks them.
        key = names.of_query(column.this)
        if column.table:
            holder = _source(scope, column.table, names)
            if holder is None:
                continue
            known = _columns_of(holder, resolved)
            if known is None or _holds(known, key, names):
                continue
            table = known[0]
            descriptions = table.descriptions if table else {}
            where = f"{table.name} ({source})" if table else f"subquery {column.table}"
            candidates = closest(column.name, known[1], descriptions=descriptions)
            return NameProblem("column", column.name, where, tuple(c.name for c in candidates))
        if key in aliases:
            continue
        problem = _unqualified(scope, column, key, resolved, names, source)
        if problem is not None:
            return problem
    return None


def _unqualified(
    scope: Scope,
    column: exp.Column,
    key: str,
    resolved: Mapping[int, KnownTable | None],
    names: _Names,
    source: str,
) -> NameProblem | None:
    """An unqualified column: known in exactly one source of its scope or an enclosing one, or a problem."""
    current: Scope | None = scope
    first = True
    while current is not None:
        holders = []
        for alias, (_, holder) in current.selected_sources.items():
            known = _columns_of(holder, resolved)
            if known is None:
                return None  # A source whose columns we cannot know may hold it.
            if _holds(known, key, names):
                holders.append((alias, known[0]))
        if len(holders) > 1 and first and not _joins_using(current):
            listed = " and ".join(alias for alias, _ in holders)
            return NameProblem(
                "ambiguous column", column.name, listed, tuple(f"{a}.{column.name}" for a, _ in holders)
            )
        if holders:
            return None
        current, first = current.parent, False
    selected = [holder for _, holder in scope.selected_sources.values()]
    tables = [known[0] for h in selected if (known := _columns_of(h, resolved)) and known[0]]
    base = [t for t in tables if t.columns]
    if not base:
        return None
    descriptions = {c: d for t in base for c, d in t.descriptions.items()}
    candidates = closest(column.name, [c for t in base for c in t.columns], descriptions=descriptions)
    where = " or ".join(t.name for t in base)
    return NameProblem("column", column.name, f"{where} ({source})", tuple(c.name for c in candidates))


def _holds(known: tuple[KnownTable | None, tuple[str, ...]], key: str, names: _Names) -> bool:
    """Whether a source has the column: a table under the catalog's case rules; a subquery's outputs (names
    the query itself wrote) ignoring case, since refusing a correct query costs more than missing a wrong one."""
    if known[0] is not None:
        return key in {names.of_catalog(c) for c in known[1]}
    return key.lower() in {output.lower() for output in known[1]}


def _joins_using(scope: Scope) -> bool:
    select = scope.expression
    return isinstance(select, exp.Select) and any(
        join.args.get("using") or join.args.get("method") for join in select.args.get("joins") or []
    )


def _source(scope: Scope, alias: str, names: _Names) -> exp.Table | Scope | None:
    current: Scope | None = scope
    wanted = names.of_query(alias)
    while current is not None:
        for name, holder in current.sources.items():
            if names.of_query(name) == wanted:
                return holder
        current = current.parent
    return None


def _columns_of(
    holder: object, resolved: Mapping[int, KnownTable | None]
) -> tuple[KnownTable | None, tuple[str, ...]] | None:
    """The columns a source offers, or None when they cannot be known (unlisted table, star, function)."""
    if isinstance(holder, exp.Table):
        table = resolved.get(id(holder))
        return (table, table.columns) if table is not None and table.columns else None
    if isinstance(holder, Scope) and isinstance(holder.expression, exp.Select | exp.SetOperation):
        selects = holder.expression.selects
        if any(isinstance(s, exp.Star) or (isinstance(s, exp.Column) and s.is_star) for s in selects):
            return None
        outputs = tuple(s.alias_or_name for s in selects)
        wrapper = holder.expression.parent
        renamed = isinstance(wrapper, exp.Subquery | exp.CTE) and bool(wrapper.alias_column_names)
        if renamed or any(not o for o in outputs):
            return None
        return (None, outputs)
    return None
