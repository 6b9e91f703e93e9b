"""An independent check of a qualified query: every column must come from a source in its scope and be visible.

`qualify` resolves what it can and leaves the rest (a lateral subquery may name its own alias; a bare table
alias reads a whole row; `t.*` inside a function stays a star). This walk trusts none of that: a column is
admitted only when its qualifier is a source its scope can see and the column is one that source exposes.
"""

from __future__ import annotations

from sqlglot import exp
from sqlglot.optimizer.scope import Scope, traverse_scope


class HiddenReference(Exception):
    """What the query names that it may not; `column` is set when it is a hidden or unknown column."""

    def __init__(self, message: str, column: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.column = column


def verify(tree: exp.Expr, schema: dict[str, dict[str, str]]) -> None:
    """Raise HiddenReference unless every column of `tree` is a visible one (schema: placeholder -> columns)."""
    _refuse_unnamed_columns(tree)
    for scope in traverse_scope(tree):
        visible = _visible_sources(scope)
        outputs = set(scope.expression.named_selects) if isinstance(scope.expression, exp.Query) else set()
        for column in scope.columns:
            _check_column(column, visible, outputs, schema)


def _refuse_unnamed_columns(tree: exp.Expr) -> None:
    """Whole rows, positions, unexpanded stars and pattern functions: read in one walk of the tree (this runs on
    every query), and reported in the same order of precedence as four separate searches would."""
    found: list[HiddenReference | None] = [None, None, None, None]
    for node in tree.walk():
        if isinstance(node, exp.TableColumn):
            found[0] = found[0] or HiddenReference(
                f"{node.name} names a whole row; name the columns you need"
            )
        elif isinstance(node, exp.PositionalColumn):
            # DuckDB's `SELECT #4 FROM t` reads the table's fourth column, hidden or not.
            found[1] = found[1] or HiddenReference("a column by position (#n); name the columns you need")
        elif isinstance(node, exp.Star) and not isinstance(node.parent, exp.Count):
            found[2] = found[2] or HiddenReference(
                "a * that could not be expanded to the allowed columns; name the columns"
            )
        if isinstance(node, exp.Func):
            kind = (node.name if isinstance(node, exp.Anonymous) else type(node).__name__).lower()
            if kind in {"columns", "star"}:  # DuckDB's COLUMNS('regex') and Snowflake-style STAR(...).
                found[3] = found[3] or HiddenReference(
                    "a function that selects columns by pattern; name the columns"
                )
    for refusal in found:
        if refusal is not None:
            raise refusal


def _visible_sources(scope: Scope) -> dict[str, object]:
    """Sources of the scope and of its enclosing scopes, never the scope itself (a lateral naming its own alias)."""
    chain: list[exp.Expr] = []
    current: Scope | None = scope
    while current is not None:
        chain.append(current.expression)
        current = current.parent
    visible: dict[str, object] = {}
    current = scope
    while current is not None:
        for name, source in current.sources.items():
            inner = source.expression if isinstance(source, Scope) else None
            if name not in visible and not any(inner is expression for expression in chain):
                visible[name] = source
        current = current.parent
    return visible


def _check_column(
    column: exp.Column, visible: dict[str, object], outputs: set[str], schema: dict[str, dict[str, str]]
) -> None:
    if not column.table:
        if column.name in outputs:  # ORDER BY or HAVING naming an output of this SELECT.
            return
        raise HiddenReference(f"{column.name} is not a visible column", column.name)
    source = visible.get(column.table)
    if source is None:
        raise HiddenReference(
            f"{column.table}.{column.name} does not name a source of its query", column.name
        )
    if isinstance(source, exp.Table) and source.name in schema:
        if column.name not in schema[source.name]:
            raise HiddenReference(f"{column.name} is not a visible column", column.name)
    elif (
        isinstance(source, Scope)
        and isinstance(source.expression, exp.Query)
        and column.name not in source.expression.named_selects
    ):
        raise HiddenReference(f"{column.table}.{column.name} is not an output of its subquery", column.name)
