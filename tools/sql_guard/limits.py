"""Size and nesting caps, checked on tokens before the parser sees them.

sqlglot's parser recurses about twenty Python frames per nesting level, so forty nested parentheses already
exhaust the interpreter's stack, and a few constructors (PostgreSQL `ARRAY[`, DuckDB `ROW(`) take time that
grows exponentially with depth. Counting nesting on the flat token list costs one pass and cannot blow up.
"""

from __future__ import annotations

from sqlglot import Token, TokenType

from tools.sql_guard.refusal import SqlRefused, refuse

MAX_SQL_CHARACTERS = 100_000
# Parentheses, brackets, braces and CASE ... END together. Real analytic SQL rarely passes 10; the parser fails
# past about 40 from an empty stack, and the agent's own frames sit below it.
MAX_NESTING = 24
# ARRAY[...], ROW(...), STRUCT(...), [...] and {...} inside one another: these parse in exponential time.
MAX_CONSTRUCTOR_NESTING = 8

_OPENERS = {TokenType.L_PAREN, TokenType.L_BRACKET, TokenType.L_BRACE, TokenType.CASE}
_CLOSERS = {TokenType.R_PAREN, TokenType.R_BRACKET, TokenType.R_BRACE, TokenType.END}
_CONSTRUCTOR_KEYWORDS = {TokenType.ARRAY, TokenType.STRUCT, TokenType.MAP, TokenType.LIST}
_LITERAL_OPENERS = {TokenType.L_BRACKET, TokenType.L_BRACE}

NESTING_ADVICE = "flatten it with WITH clauses"


def check_length(sql: str) -> None:
    """Refuse SQL longer than the cap, before any work is spent on it."""
    if len(sql) > MAX_SQL_CHARACTERS:
        raise refuse(
            f"the SQL is {len(sql):,} characters long; the limit is {MAX_SQL_CHARACTERS:,} "
            "(aggregate in SQL rather than listing values)",
            sql,
        )


def check_nesting(tokens: list[Token], sql: str) -> None:
    """Refuse token streams nested deeper than the parser can safely and quickly read."""
    depth = 0
    # One entry per open bracket: whether it opened a constructor, so closing it lowers the right count.
    opened_constructor: list[bool] = []
    constructors = 0
    previous: TokenType | None = None
    for token in tokens:
        kind = token.token_type
        if kind in _OPENERS:
            is_constructor = kind in _LITERAL_OPENERS or previous in _CONSTRUCTOR_KEYWORDS
            opened_constructor.append(is_constructor)
            depth += 1
            constructors += is_constructor
            if depth > MAX_NESTING:
                raise _too_deep(
                    f"the SQL nests more than {MAX_NESTING} levels deep (parentheses, brackets and CASE count)",
                    sql,
                )
            if constructors > MAX_CONSTRUCTOR_NESTING:
                raise _too_deep(
                    f"the SQL nests array, row or struct constructors more than {MAX_CONSTRUCTOR_NESTING} deep",
                    sql,
                )
        elif kind in _CLOSERS and opened_constructor:
            depth -= 1
            constructors -= opened_constructor.pop()
        previous = kind


def _too_deep(reason: str, sql: str) -> SqlRefused:
    return refuse(f"{reason}; {NESTING_ADVICE}", sql)
