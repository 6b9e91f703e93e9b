"""The quality queries, built as sqlglot trees and written in the warehouse's dialect; all aggregate in SQL."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import sqlglot
from sqlglot import exp

from tools.errors import ToolInputError

SAMPLE_LIMIT = 5


@dataclass(frozen=True)
class Source:
    """A relation to check, with the dbt test's `where` filter when it has one."""

    relation: exp.Table
    where: exp.Expr | None = None

    def rows(self, alias: str) -> exp.Expr:
        """The relation (filtered by `where`) as a FROM item called `alias`."""
        if self.where is None:
            return self.relation.copy().as_(alias)
        filtered = exp.select("*").from_(self.relation.copy()).where(self.where.copy())
        return filtered.subquery(alias)


def relation(name: str, dialect: str) -> exp.Table:
    """A dbt relation name (`"db"."schema"."table"`, `` `project`.`dataset`.`table` ``) as a table."""
    return exp.to_table(name, dialect=dialect)


def condition(sql: str | None, dialect: str) -> exp.Expr | None:
    """A dbt `where` config as a condition; None when there is none."""
    return _project_sql(sql, dialect, "where config") if sql else None


def _project_sql(text: str, dialect: str, what: str) -> exp.Expr:
    """SQL the project wrote (a test's where, a loaded_at_field); ToolInputError when it is not plain SQL."""
    if "{{" in text or "{%" in text:
        # Jinja only dbt can render; sqlglot would read {{ ... }} as a struct literal.
        raise ToolInputError(f"its {what} {text!r} uses Jinja, which only dbt can render")
    try:
        return sqlglot.parse_one(text, read=dialect)
    except sqlglot.errors.SqlglotError as exc:
        raise ToolInputError(
            f"its {what} {text!r} is not plain {dialect} SQL: {str(exc).splitlines()[0]}"
        ) from None


def time_value(text: str, dialect: str) -> exp.Expr:
    """A column name, or the SQL expression dbt allows in `loaded_at_field` (e.g. a timezone conversion)."""
    if re.fullmatch(r"[A-Za-z_][A-Za-z0-9_$]*", text):
        return column(text)
    return _project_sql(text, dialect, "loaded_at_field")


def column(name: str, table: str | None = None) -> exp.Column:
    return exp.column(exp.to_identifier(name), table=exp.to_identifier(table) if table else None)


def _when(where: exp.Expr | None, test: exp.Expr) -> exp.Expr:
    return exp.and_(where.copy(), test) if where is not None else test


def count_where(test: exp.Expr, where: exp.Expr | None = None) -> exp.Expr:
    """SUM(CASE WHEN test THEN 1 ELSE 0 END): rows meeting `test` (0, not NULL, on an empty table)."""
    case = exp.Case().when(_when(where, test), exp.Literal.number(1)).else_(exp.Literal.number(0))
    return exp.func("COALESCE", exp.Sum(this=case), exp.Literal.number(0))


def null_count(name: str, where: exp.Expr | None) -> exp.Expr:
    return count_where(column(name).is_(exp.null()), where)


def extra_rows(name: str, where: exp.Expr | None) -> exp.Expr:
    """Rows whose value an earlier row already has: COUNT(x) - COUNT(DISTINCT x)."""
    value: exp.Expr = column(name)
    if where is not None:
        value = exp.Case().when(where.copy(), value)
    return exp.Sub(
        this=exp.Count(this=value.copy()), expression=exp.Count(this=exp.Distinct(expressions=[value]))
    )


def not_accepted(name: str, values: Sequence[Any]) -> exp.Expr:
    """The value is set and not one of `values` (dbt's accepted_values ignores NULLs the same way)."""
    return exp.and_(
        exp.not_(column(name).is_(exp.null())),
        exp.not_(column(name).isin(*[exp.convert(v) for v in values])),
    )


def counts_query(source: Source, measures: Sequence[tuple[str, exp.Expr]], dialect: str) -> str:
    """One row of named aggregates over the whole relation: a single scan for many checks."""
    select = exp.select(*[expression.as_(alias) for alias, expression in measures])
    return select.from_(source.rows("checked")).sql(dialect=dialect)


def as_text(expression: exp.Expr) -> exp.Expr:
    return exp.cast(expression, "text")


def sample_query(branches: Sequence[exp.Select], dialect: str) -> str:
    """Several small sample queries in one round trip: each keeps its own ORDER BY and LIMIT."""
    wrapped = [exp.select("*").from_(branch.subquery(f"s{i}")) for i, branch in enumerate(branches)]
    query: exp.Query = wrapped[0]
    for branch in wrapped[1:]:
        query = exp.union(query, branch, distinct=False)
    return query.sql(dialect=dialect)


def rows_where_sample(
    check_id: int, source: Source, test: exp.Expr, key: str, where: exp.Expr | None
) -> exp.Select:
    """Up to SAMPLE_LIMIT key values of rows meeting `test`, lowest first, with the totals of sample_query."""
    every_row = exp.Window(this=exp.Count(this=exp.Star()))
    return (
        exp.select(
            exp.Literal.number(check_id).as_("check_id"),
            as_text(column(key)).as_("example"),
            exp.Literal.number(1).as_("row_count"),
            every_row.as_("values_total"),
            every_row.copy().as_("rows_total"),
        )
        .from_(source.rows("checked"))
        .where(_when(where, test))
        .order_by(column(key))
        .limit(SAMPLE_LIMIT)
    )


def values_sample(
    check_id: int, source: Source, name: str, test: exp.Expr, repeated_only: bool
) -> exp.Select:
    """Up to SAMPLE_LIMIT values meeting `test` (or repeated, for keys), the most frequent first, with totals."""
    problems = exp.select(column(name)).from_(source.rows("checked")).where(test)
    select = _grouped(problems, [name], repeated_only)
    return select.select(exp.Literal.number(check_id).as_("check_id"), append=False).select(
        *select.expressions, append=True
    )


def grouped_problems_query(
    problems: exp.Select, names: Sequence[str], dialect: str, *, repeated_only: bool = False
) -> str:
    """The most frequent offending values of `problems` (a query of `names`), with totals, in one query."""
    return _grouped(problems, names, repeated_only).sql(dialect=dialect)


def _grouped(problems: exp.Select, names: Sequence[str], repeated_only: bool) -> exp.Select:
    """Columns: example (text), row_count (rows with that value), values_total (offending values), rows_total
    (offending rows); at most SAMPLE_LIMIT rows. The totals are window sums over all groups, computed before
    the LIMIT, so one small result carries both the counts and the examples. With `repeated_only`, only
    values held by more than one row count (duplicate keys).
    """
    rows = exp.Count(this=exp.Star())
    example: exp.Expr = as_text(column(names[0]))
    if len(names) > 1:
        parts: list[exp.Expr] = []
        for i, name in enumerate(names):
            parts.append(exp.Literal.string(f"{', ' if i else ''}{name}="))
            parts.append(exp.func("COALESCE", as_text(column(name)), exp.Literal.string("null")))
        example = exp.Concat(expressions=parts, safe=True)
    query = (
        exp.select(
            example.as_("example"),
            rows.copy().as_("row_count"),
            exp.Window(this=exp.Count(this=exp.Star())).as_("values_total"),
            exp.Window(this=exp.Sum(this=rows.copy())).as_("rows_total"),
        )
        .from_(problems.subquery("problems"))
        .group_by(*[column(name) for name in names])
        .order_by(exp.Ordered(this=rows.copy(), desc=True), *[column(name) for name in names])
        .limit(SAMPLE_LIMIT)
    )
    if repeated_only:
        query = query.having(exp.GT(this=rows.copy(), expression=exp.Literal.number(1)))
    return query


def orphans_query(child: Source, child_column: str, parent: Source, parent_column: str, dialect: str) -> str:
    """Child values with no parent row (dbt's relationships test), most frequent first, with totals."""
    missing = (
        exp.select(column(child_column, "child").as_("child_value"))
        .from_(child.rows("child"))
        .join(
            parent.rows("parent"),
            on=exp.EQ(this=column(child_column, "child"), expression=column(parent_column, "parent")),
            join_type="left",
        )
        .where(
            exp.and_(
                exp.not_(column(child_column, "child").is_(exp.null())),
                column(parent_column, "parent").is_(exp.null()),
            )
        )
    )
    return grouped_problems_query(missing, ["child_value"], dialect)


def repeated_combinations_query(source: Source, names: Sequence[str], dialect: str) -> str:
    """Combinations of columns held by more than one row (dbt_utils' unique_combination_of_columns)."""
    keyed = exp.select(*[column(name) for name in names]).from_(source.rows("checked"))
    return grouped_problems_query(keyed, names, dialect, repeated_only=True)
