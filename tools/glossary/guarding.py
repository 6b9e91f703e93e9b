"""Glossary metrics given as SQL checked by the SQL guard when the glossary is loaded, not when first asked.

A metric whose SQL could never run (it writes, holds several statements, calls a function the guard does not
allow) is left out with one line naming the file's entry and the reason; the rest of the glossary keeps
working. An `expression` with a `model` is checked as the query it stands for, SELECT (expression) FROM model,
and must be one expression.
"""

from __future__ import annotations

from dataclasses import dataclass

import sqlglot
from sqlglot import exp

from tools.errors import ToolInputError
from tools.glossary.entries import Glossary, GlossaryEntry
from tools.sql_guard import check_read_only


@dataclass(frozen=True)
class GuardedGlossary:
    """The glossary's runnable entries, and a line for each metric left out."""

    glossary: Glossary
    problems: list[str]


def guard_glossary(glossary: Glossary, dialect: str, allowed_functions: frozenset[str]) -> GuardedGlossary:
    """`glossary` without the metrics whose SQL the guard refuses in `dialect` (a sqlglot dialect name)."""
    kept: list[GlossaryEntry] = []
    problems: list[str] = []
    for entry in glossary.entries:
        reason = metric_refusal(entry, dialect, allowed_functions)
        if reason is None:
            kept.append(entry)
        else:
            problems.append(f"{entry.location} {entry.name!r} can never run, so it is left out: {reason}")
    if not problems:
        return GuardedGlossary(glossary, [])
    return GuardedGlossary(Glossary(glossary.path, tuple(kept)), problems)


def metric_refusal(entry: GlossaryEntry, dialect: str, allowed_functions: frozenset[str]) -> str | None:
    """Why the guard refuses the query a metric stands for, in one line; None when it may run (or has none)."""
    statement = metric_statement(entry, dialect)
    if statement is None:
        return None
    try:
        check_read_only(statement, dialect, allowed_functions)
    except ToolInputError as exc:
        return " ".join(exc.message.split())
    if entry.expression and not entry.sql and not _one_expression(entry.expression, dialect):
        return "its expression is not one SQL expression (a value such as sum(amount), not a query or a list)"
    return None


def _one_expression(text: str, dialect: str) -> bool:
    """Whether `text` parses as exactly one expression: `1) FROM x UNION SELECT (1` does not."""
    try:
        sqlglot.parse_one(text, read=dialect, into=exp.Condition)
    except Exception:  # A third-party parser fed a hostile text: whatever breaks it, the answer is no.
        return False
    return True


def metric_statement(entry: GlossaryEntry, dialect: str) -> str | None:
    """The query a metric runs: its SQL, or its expression over its model; None for a term or a dbt metric."""
    if entry.kind != "metric":
        return None
    if entry.sql:
        return entry.sql
    if entry.expression and entry.models:
        model = exp.table_(exp.to_identifier(entry.models[0])).sql(dialect=dialect)
        # Parenthesised on lines of its own, so that the expression must be one expression: a `) FROM x; ...` or
        # a trailing `--` cannot close it early or swallow the rest.
        return f"SELECT (\n{entry.expression}\n) AS value FROM {model}"
    return None
