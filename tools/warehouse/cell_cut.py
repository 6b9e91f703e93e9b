"""Long text cut by the database before it is sent: a 200 MB cell must never reach our process whole."""

from __future__ import annotations

from typing import TYPE_CHECKING

import sqlglot
from sqlglot import exp

from tools.results import Column

if TYPE_CHECKING:
    from tools.warehouse.dialects.base import SqlAlchemyDialect


def is_query(statement: str, dialect: str) -> bool:
    """Whether the statement returns rows (a SELECT, WITH or set operation)."""
    return isinstance(sqlglot.parse_one(statement, read=dialect), exp.Query)


def shape_sql(statement: str, dialect: str) -> str:
    """The statement's columns and types with no rows: `SELECT * FROM (statement) LIMIT 0`."""
    query = sqlglot.parse_one(statement, read=dialect)
    assert isinstance(query, exp.Query)  # capped_sql made it one.
    return exp.select("*").from_(query.subquery("_bp_shape")).limit(0).sql(dialect=dialect)


def cells_cut_sql(statement: str, columns: list[Column], dialect: SqlAlchemyDialect, max_chars: int) -> str:
    """`statement` with each text column cut to `max_chars` + 1 characters (one more, so that a cut shows).

    The statement becomes a subquery whose columns are renamed by position (so that duplicate names are told
    apart) and the outer SELECT gives them back their names. Unchanged when no column is text.
    """
    cuts = [
        dialect.cut_text(exp.column(_positional(i)), column.type, max_chars + 1)
        for i, column in enumerate(columns)
    ]
    if all(cut is None for cut in cuts):
        return statement
    query = sqlglot.parse_one(statement, read=dialect.sqlglot_name)
    assert isinstance(query, exp.Query)
    _name_computed_columns(query, columns)
    projections = [
        exp.alias_(
            cut if cut is not None else exp.column(_positional(i)),
            exp.to_identifier(column.name, quoted=True),
        )
        for i, (column, cut) in enumerate(zip(columns, cuts, strict=True))
    ]
    alias = exp.TableAlias(
        this=exp.to_identifier("_bp_cells"), columns=[_positional(i) for i in range(len(columns))]
    )
    source = exp.Subquery(this=query, alias=alias)
    return exp.select(*projections).from_(source).sql(dialect=dialect.sqlglot_name)


def _positional(position: int) -> exp.Identifier:
    return exp.to_identifier(f"_bp_{position}")


def _name_computed_columns(query: exp.Query, columns: list[Column]) -> None:
    """Alias a plain SELECT's unnamed expressions with the names they already had.

    Same result; but DuckDB, given an unnamed constant such as `repeat('x', 200000000)` in a subquery, holds its
    folded value twice over (880 MB instead of 490 MB for that one).
    """
    if not isinstance(query, exp.Select) or len(query.expressions) != len(columns):
        return
    for projection, column in zip(list(query.expressions), columns, strict=True):
        if not isinstance(projection, exp.Alias | exp.Column | exp.Star):
            projection.replace(exp.alias_(projection.copy(), exp.to_identifier(column.name, quoted=True)))
