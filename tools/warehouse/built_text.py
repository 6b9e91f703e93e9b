"""Text built in the answer's own columns is built no longer than the cut will keep.

The database cuts long cells (cell_cut.py), but it cuts after it has built them: `SELECT repeat('x', 200000000)`
makes DuckDB, which runs inside our process, hold the 200 MB value twice (once folding the constant, once in
the result), and its memory_limit does not count string results. So where a column of the answer *is* a value
built by repeat, lpad or rpad (directly, or through ||, concat, CASE, COALESCE or a cast to text), its size
argument is bounded: the value built has the same first `max_chars` characters, and is longer than
`max_chars` exactly when the original was, so the cut still marks it and the "truncated" note still says so.

Only output positions are rewritten. A built value the query goes on to use (length(repeat(...)), a
comparison, GROUP BY, DISTINCT, ORDER BY, a set operation that compares rows) is left whole, because the answer
depends on all of it.
"""

from __future__ import annotations

import sqlglot
from sqlglot import exp

# Types a cast to which keeps a value's text as it is (so its first characters are still the original's).
_TEXT_TYPES = {exp.DataType.Type.TEXT, exp.DataType.Type.VARCHAR}
# Clauses that may read a projection's value by its alias or its expression (DuckDB lets WHERE and the other
# projections name an alias), and those that may name it by position (GROUP BY 1, ORDER BY 1).
_READING_CLAUSES = ("where", "joins", "group", "order", "having", "qualify", "windows", "distinct")
_POSITIONAL_CLAUSES = ("group", "order")


def bound_built_text(statement: str, dialect: str, max_chars: int) -> str:
    """`statement` with values built in its output columns bounded to the first `max_chars` + 1 characters.

    Unchanged (same text) when nothing in its output builds text from a size argument.
    """
    query = sqlglot.parse_one(statement, read=dialect)
    if not isinstance(query, exp.Query):
        return statement
    keep = max_chars + 1  # One more than the cut shows, so that a cut value still shows it was cut.
    changed = False
    for projection in _output_projections(query):
        bounded = _bounded(projection, keep)
        if bounded is not projection:
            projection.replace(bounded)
            changed = True
    return query.sql(dialect=dialect) if changed else statement


def _output_projections(query: exp.Expr) -> list[exp.Expr]:
    """The expressions whose values are the answer's cells and nothing else reads."""
    if isinstance(query, exp.Union) and not query.args.get("distinct") and not query.args.get("order"):
        return _output_projections(query.this) + _output_projections(query.expression)
    if not isinstance(query, exp.Select) or query.args.get("distinct"):
        return []
    readers = _clauses(query, _READING_CLAUSES)
    positions = {
        _position(item) for clause in _clauses(query, _POSITIONAL_CLAUSES) for item in clause.expressions
    }
    outputs = []
    for position, projection in enumerate(query.expressions, start=1):
        value = projection.this if isinstance(projection, exp.Alias) else projection
        others = [other for other in query.expressions if other is not projection]
        if position not in positions and not _read_elsewhere(
            value, projection.alias_or_name, readers + others
        ):
            outputs.append(value)
    return outputs


def _position(item: exp.Expr) -> int | None:
    """The column position an ORDER BY or GROUP BY item names (`1` in ORDER BY 1 DESC), else None."""
    value = item.this if isinstance(item, exp.Ordered) else item
    return int(value.this) if isinstance(value, exp.Literal) and value.is_int else None


def _clauses(query: exp.Select, names: tuple[str, ...]) -> list[exp.Expr]:
    found: list[exp.Expr] = []
    for name in names:
        clause = query.args.get(name)
        found += clause if isinstance(clause, list) else [clause] if clause else []
    return found


def _read_elsewhere(value: exp.Expr, name: str, readers: list[exp.Expr]) -> bool:
    """Whether any of `readers` holds `value`'s expression, or a column named like its alias."""
    for clause in readers:
        for node in clause.walk():
            if node == value:
                return True
            if isinstance(node, exp.Column) and not node.table and name and node.name.lower() == name.lower():
                return True
    return False


# Expressions that show their parts' text as it is (at the start, or as the whole value), by the args that do.
_PASSING_PARTS: dict[type[exp.Expr], tuple[str, ...]] = {
    exp.Paren: ("this",),
    exp.DPipe: ("this", "expression"),
    exp.Concat: ("expressions",),
    exp.Coalesce: ("this", "expressions"),
    exp.If: ("true", "false"),  # IF(condition, then, else) and each WHEN of a CASE.
    exp.Case: ("ifs", "default"),
}


def _bounded(node: exp.Expr, keep: int) -> exp.Expr:
    """`node` with the text it builds bounded; `node` itself when there is nothing to bound."""
    if isinstance(node, exp.Repeat):
        return _bounded_repeat(node, keep)
    if isinstance(node, exp.Space):
        size = node.this
        return node if (bounded_size := _at_most(size, keep)) is size else exp.Space(this=bounded_size)
    if isinstance(node, exp.Pad):
        return _bounded_lpad(node, keep) if node.args.get("is_left") else _bounded_rpad(node, keep)
    passing = _PASSING_PARTS.get(type(node))
    if isinstance(node, exp.Cast) and node.to.this in _TEXT_TYPES:
        passing = ("this",)
    if passing is None:
        return node
    copy = node.copy()
    changed = False
    for key in passing:
        value = copy.args.get(key)
        for part in value if isinstance(value, list) else [value]:
            if isinstance(part, exp.Expr) and (bounded := _bounded(part, keep)) is not part:
                part.replace(bounded)
                changed = True
    return copy if changed else node


def _bounded_repeat(node: exp.Repeat, keep: int) -> exp.Expr:
    """repeat(s, n): at most as many copies as `keep` characters need; a computed s kept to `keep` characters.

    The first `keep` characters of repeat(s, n) are those of repeat(left(s, keep), n), and `keep` copies of a
    non-empty s are at least `keep` characters; when the SQL fixes the length of s, or s is a column (cheap to
    read twice), just enough copies. A computed s of unknown length is still built up to `keep` squared
    characters (100 MB at the default).
    """
    times = node.args["times"]
    text = _bounded(node.this, keep)
    length = known_length(text)
    if length == 0:
        return node
    if length is not None:
        bounded_times = _at_most(times, -(-keep // length))
    elif isinstance(text, exp.Column):
        # A column is cheap to read twice: just enough copies of this row's value.
        bounded_times = _at_most_expression(times, _copies_needed(text, keep))
    else:
        text = exp.Left(this=text.copy(), expression=exp.Literal.number(keep))
        bounded_times = _at_most(times, keep)
    if bounded_times is times and text is node.this:
        return node
    return exp.Repeat(this=text.copy(), times=bounded_times)


def _copies_needed(text: exp.Expr, keep: int) -> exp.Expr:
    """How many copies of `text` make at least `keep` characters: (keep - 1) // length + 1, as an integer."""
    length = exp.Greatest(this=exp.Length(this=text.copy()), expressions=[exp.Literal.number(1)])
    copies = exp.Add(
        this=exp.IntDiv(this=exp.Literal.number(keep - 1), expression=length),
        expression=exp.Literal.number(1),
    )
    return exp.Cast(this=copies, to=exp.DataType.build("int"))


def known_length(text: exp.Expr) -> int | None:
    """The length of `text` when it is fixed by the SQL itself (a literal, or repeated literals); else None."""
    if isinstance(text, exp.Literal) and text.is_string:
        return len(text.this)
    if isinstance(text, exp.Paren):
        return known_length(text.this)
    if isinstance(text, exp.Repeat) and isinstance(times := text.args["times"], exp.Literal) and times.is_int:
        length = known_length(text.this)
        return None if length is None else length * max(int(times.this), 0)
    return None


def _bounded_rpad(node: exp.Pad, keep: int) -> exp.Expr:
    """rpad(s, n, fill) is s then fill: its first `keep` characters are rpad(s, min(n, keep), fill)."""
    length = node.expression
    bounded_length = _at_most(length, keep)
    if bounded_length is length:
        return node
    copy = node.copy()
    copy.set("expression", bounded_length)
    return copy


def _bounded_lpad(node: exp.Pad, keep: int) -> exp.Expr:
    """lpad(s, n, fill) is n - length(s) fill characters, then s (cut to n when longer).

    When n > keep its first `keep` characters are min(n - length(s), keep) fill characters, then as much of s as
    fits: lpad(left(s, keep - least(n - length(s), keep)), keep, fill).
    """
    length = node.expression
    if isinstance(length, exp.Literal) and length.is_int and int(length.this) <= keep:
        return node
    text = node.this
    limit = exp.Literal.number(keep)
    padding = exp.Least(
        this=exp.Sub(this=length.copy(), expression=exp.Length(this=text.copy())), expressions=[limit]
    )
    kept_text = exp.Left(this=text.copy(), expression=exp.Sub(this=limit.copy(), expression=padding))
    bounded = exp.Pad(
        this=kept_text, expression=limit.copy(), fill_pattern=node.args.get("fill_pattern"), is_left=True
    )
    if isinstance(length, exp.Literal) and length.is_int:
        return bounded.copy()
    condition = exp.GT(this=length.copy(), expression=limit.copy())
    return exp.Case(ifs=[exp.If(this=condition, true=bounded.copy())], default=node.copy())


def _at_most(size: exp.Expr, limit: int) -> exp.Expr:
    """`size`, or an expression no greater than `limit` that is `size` whenever `size` is at most `limit`.

    A literal is replaced; an expression becomes a CASE (not LEAST, which would turn a NULL size into `limit`).
    """
    if isinstance(size, exp.Literal) and size.is_int:
        return size if int(size.this) <= limit else exp.Literal.number(limit)
    if isinstance(size, exp.Cast) and isinstance(size.this, exp.Literal) and size.this.is_int:
        inner = _at_most(size.this, limit)
        return size if inner is size.this else exp.Cast(this=inner, to=size.to.copy())
    return _at_most_expression(size, exp.Literal.number(limit))


def _at_most_expression(size: exp.Expr, limit: exp.Expr) -> exp.Expr:
    """CASE WHEN size > limit THEN limit ELSE size END."""
    return exp.Case(
        ifs=[exp.If(this=exp.GT(this=size.copy(), expression=limit), true=limit.copy())], default=size.copy()
    )
