"""Values a DuckDB query builds from a size argument are built only up to a fixed size, anywhere in the query.

DuckDB runs in our own process and its memory_limit counts only its buffers (sorts, hash tables, aggregate
states, recursive CTEs), not the values expressions build: measured, `length(repeat('x', 200000000))` peaks at
448 MB with a 100 MB limit, and `list_resize([1], 200000000)` at 12 GB. It also builds values a vector of 2,048
rows at a time, so 1 MB built per row is 2 GB at once. built_text.py bounds what an answer's columns show; this
bounds what the rest of the query builds: every function whose output size is set by an argument rather than by
its inputs' sizes (repeat, lpad, rpad, space, to_base's minimum length, printf/format widths) and replace, whose
output is its input times its replacement, fails with one clear error when it would pass MAX_BUILT_CHARS.
Functions whose output is at most the sum of their inputs (concat, substr, upper, ...) need no bound; a test
checks every DuckDB function that takes a number is one or the other.
"""

from __future__ import annotations

import re

import sqlglot
from sqlglot import exp

from tools.errors import ToolInputError
from tools.warehouse.built_text import known_length

# 2,048 values a vector at 32 K characters each is 64 MB of ASCII: the most one expression holds at once.
MAX_BUILT_CHARS = 32_768

# Untyped calls whose argument at this position (0-based) is the size of what they build.
_SIZED_BY_ARGUMENT = {"to_base": 2}
# Untyped formatting calls whose first argument may hold widths (`%0200000000d`, `{:>200000000}`).
_FORMATTING = frozenset({"printf"})
# Five digits or more in a format: a width of 10,000 or more, far past any column a person reads.
_WIDE_FORMAT = "[0-9]{5}"
# Names that may call a builder, looked for in the SQL's text before it is parsed again.
_BUILDER_WORDS = ("repeat", "pad", "space", "replace", "printf", "format", "to_base")
# Each check repeats its builder's arguments (the size is computed from them), so builders inside builders
# grow the rewritten SQL geometrically: past this depth the query is refused rather than rewritten.
MAX_BUILDER_NESTING = 4


def too_large_message(function: str) -> str:
    """The one line a query gets when a value it builds would be too large."""
    return f"{function}() would build over {MAX_BUILT_CHARS:,} characters in memory; cut or aggregate first"


def cap_built_values(statement: str, dialect: str) -> str:
    """`statement` with every size-argument builder failing when it would build over MAX_BUILT_CHARS.

    Unchanged (same text) when it builds nothing from a size argument.
    """
    lowered = statement.lower()
    if not any(word in lowered for word in _BUILDER_WORDS):
        return statement
    query = sqlglot.parse_one(statement, read=dialect)
    changed = False
    # Innermost first, so that the copies an outer check makes of its arguments hold the inner checks too.
    for node in reversed(list(query.find_all(exp.Func))):
        if _is_builder(node) and _builders_around(node) >= MAX_BUILDER_NESTING:
            raise ToolInputError(
                f"The query nests repeat, lpad, rpad, replace or format calls more than {MAX_BUILDER_NESTING} "
                "deep; build the value in steps with WITH clauses",
                sql=statement,
            )
        changed |= _cap(node)
    return query.sql(dialect=dialect) if changed else statement


def _is_builder(node: exp.Expr) -> bool:
    if isinstance(node, (exp.Repeat, exp.Pad, exp.Space, exp.Replace, exp.Format)):
        return True
    name = node.name.lower() if isinstance(node, exp.Anonymous) else ""
    return name in _FORMATTING or name in _SIZED_BY_ARGUMENT


def _builders_around(node: exp.Expr) -> int:
    """How many builders hold `node` in their arguments."""
    count = 0
    parent = node.parent
    while parent is not None:
        count += _is_builder(parent)
        parent = parent.parent
    return count


def _cap(node: exp.Func) -> bool:
    """Check `node`'s size argument: refused now when the SQL fixes it too large, left alone when the SQL fixes it
    small enough, wrapped in a check otherwise. Whether anything changed.

    Checks only where needed: DuckDB will not let another column read an alias whose expression may raise.
    """
    if isinstance(node, exp.Repeat):
        times, text = node.args.get("times"), node.this
        if not isinstance(times, exp.Expr) or not isinstance(text, exp.Expr):
            return False
        count, length = _fixed_number(times), known_length(text)
        if count is not None and length is not None:
            return _within(count * length, "repeat")
        # Copies times the length of one copy (characters of text, elements of a list); as a double, so that a
        # huge count cannot overflow into a small product.
        copies = exp.Cast(this=times.copy(), to=exp.DataType.build("double"))
        node.set(
            "times", _checked(times, exp.Mul(this=copies, expression=exp.Length(this=text.copy())), "repeat")
        )
        return True
    if isinstance(node, exp.Pad):
        return _cap_size(node, "expression", "lpad" if node.args.get("is_left") else "rpad")
    if isinstance(node, exp.Space):
        return _cap_size(node, "this", "space")
    if isinstance(node, exp.Replace):
        return _cap_replace(node)
    name = node.name.lower() if isinstance(node, exp.Anonymous) else ""
    if isinstance(node, exp.Format) or name in _FORMATTING:
        typed = isinstance(node, exp.Format)
        shown = "format" if typed else name
        template = node.this if typed else (node.expressions[0] if node.expressions else None)
        if not isinstance(template, exp.Expr):
            return False
        if isinstance(template, exp.Literal) and template.is_string:
            return _within(MAX_BUILT_CHARS + 1 if re.search(_WIDE_FORMAT, template.this) else 0, shown)
        wide = exp.RegexpLike(this=template.copy(), expression=exp.Literal.string(_WIDE_FORMAT))
        template.replace(_failing_when(wide, template, shown))
        return True
    position = _SIZED_BY_ARGUMENT.get(name)
    arguments = node.expressions
    if position is None or len(arguments) <= position:
        return False
    size = arguments[position]
    fixed = _fixed_number(size)
    if fixed is not None:
        return _within(fixed, name)
    size.replace(_checked(size, size, name))
    return True


def _cap_size(node: exp.Func, key: str, function: str) -> bool:
    """Check the argument `key` of `node`, which is the size of what it builds."""
    size = node.args.get(key)
    if not isinstance(size, exp.Expr):
        return False
    fixed = _fixed_number(size)
    if fixed is not None:
        return _within(fixed, function)
    node.set(key, _checked(size, size, function))
    return True


def _within(size: int, function: str) -> bool:
    """False (nothing to change) when `size` is within the bound; refuses the query now when it is over."""
    if size > MAX_BUILT_CHARS:
        raise ToolInputError(f"Refused: {too_large_message(function)}.")
    return False


def _fixed_number(size: exp.Expr) -> int | None:
    """The integer `size` is when the SQL writes it as one (also cast or negated); else None."""
    if isinstance(size, (exp.Cast, exp.Paren)):
        return _fixed_number(size.this)
    if isinstance(size, exp.Neg):
        inner = _fixed_number(size.this)
        return None if inner is None else -inner
    if isinstance(size, exp.Literal) and size.is_int:
        return int(size.this)
    return None


def _cap_replace(node: exp.Replace) -> bool:
    """replace(s, from, to) builds at most length(s) / length(from) copies of `to`: fail when that is too long.

    Only a replacement longer than what it replaces can grow the text; a shorter one leaves it no longer than s.
    """
    replacement = node.args.get("replacement")
    if replacement is None:
        return False
    text, found = node.this, node.expression
    replacement_length, found_length = known_length(replacement), known_length(found)
    if replacement_length is not None and found_length is not None and replacement_length <= found_length:
        return False
    one = exp.Literal.number(1)
    occurrences = exp.Div(
        this=exp.Cast(this=exp.Length(this=text.copy()), to=exp.DataType.build("double")),
        expression=exp.Greatest(this=exp.Length(this=found.copy()), expressions=[one.copy()]),
    )
    size = exp.Mul(this=occurrences, expression=exp.Length(this=replacement.copy()))
    grows = exp.GT(this=exp.Length(this=replacement.copy()), expression=exp.Length(this=found.copy()))
    over = exp.GT(this=size, expression=exp.Literal.number(MAX_BUILT_CHARS))
    node.set("replacement", _failing_when(exp.And(this=grows, expression=over), replacement, "replace"))
    return True


def _checked(argument: exp.Expr, size: exp.Expr, function: str) -> exp.Expr:
    """`argument`, failing the query when `size` is over MAX_BUILT_CHARS (NULL sizes pass, as they build nothing)."""
    over = exp.GT(this=size.copy(), expression=exp.Literal.number(MAX_BUILT_CHARS))
    return _failing_when(over, argument, function)


def _failing_when(condition: exp.Expr, argument: exp.Expr, function: str) -> exp.Expr:
    """CASE WHEN condition THEN error(message) ELSE argument END: DuckDB raises only when the branch is taken."""
    error = exp.Anonymous(this="error", expressions=[exp.Literal.string(too_large_message(function))])
    return exp.Case(ifs=[exp.If(this=exp.paren(condition.copy()), true=error)], default=argument.copy())
