"""A corpus of wrong names: each defog gold query with one identifier broken (a column in three of five
queries, a table in the others) by one of four mistakes: a dropped letter, singular for plural (or back),
a word swapped for a synonym, or the wrong case in a quoted name.

The synonyms here are this benchmark's own list, written apart from the checker's, so the checker is not
graded on its own vocabulary alone.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

import sqlglot
from sqlglot import exp

from benchmarks.defog_projects import Question, gold_alternatives
from tools.schema_check import KnownTable

MISTAKES = ("dropped letter", "singular/plural", "synonym", "case")
_BENCH_SYNONYMS = {
    "first": "given", "last": "family", "name": "title", "amount": "total", "date": "day", "count": "number",
    "id": "key", "price": "cost", "type": "kind", "city": "town", "state": "region", "country": "nation",
    "rating": "score", "year": "yr", "description": "details", "status": "state", "num": "count",
    "start": "begin", "end": "finish", "code": "id", "phone": "telephone", "email": "mail",
}  # fmt: skip


@dataclass(frozen=True)
class BrokenQuery:
    """A gold query with one identifier broken, and the name it should have had."""

    question: int
    database: str
    kind: str  # "table" or "column"
    mistake: str
    sql: str
    expected: str


def catalog(database: str, tables: dict[str, list[dict[str, str]]]) -> list[KnownTable]:
    """The tables as PostgreSQL stores them: unquoted names created in lower case."""
    known = []
    for qualified, columns in tables.items():
        schema, _, table = qualified.rpartition(".")
        known.append(
            KnownTable(
                name=table.lower(),
                database=database,
                schema=(schema or "public").lower(),
                identifier=table.lower(),
                columns=tuple(c["column_name"].lower() for c in columns),
                descriptions={c["column_name"].lower(): c.get("column_description", "") for c in columns},
                part=database,
            )
        )
    return known


def _break(name: str, mistake: str, rng: random.Random) -> str | None:
    if mistake == "dropped letter":
        if len(name) < 3:
            return None
        position = rng.randrange(1, len(name) - 1) if len(name) > 3 else len(name) - 1
        return name[:position] + name[position + 1 :]
    if mistake == "singular/plural":
        return name[:-1] if name.endswith("s") else name + "s"
    if mistake == "synonym":
        words = name.split("_")
        swappable = [i for i, word in enumerate(words) if word in _BENCH_SYNONYMS]
        if not swappable:
            return None
        index = rng.choice(swappable)
        words[index] = _BENCH_SYNONYMS[words[index]]
        return "_".join(words)
    return name[:1].upper() + name[1:] if name[:1].islower() else name.lower()


def break_query(question: Question, tables: list[KnownTable], rng: random.Random) -> BrokenQuery | None:
    """The question's first gold query with one identifier broken, or None when none can be."""
    text = gold_alternatives(question.sql)[0]
    try:
        parsed = sqlglot.parse_one(text, read="postgres")
    except sqlglot.errors.SqlglotError:
        return None
    known_tables = {t.identifier for t in tables}
    known_columns = {c for t in tables for c in t.columns}
    ctes = {c.alias_or_name.lower() for c in parsed.find_all(exp.CTE)}
    kind = "column" if question.number % 5 < 3 else "table"
    if kind == "table":
        targets: list[exp.Identifier] = [
            t.this for t in parsed.find_all(exp.Table) if t.name.lower() in known_tables - ctes
        ]
    else:
        targets = [c.this for c in parsed.find_all(exp.Column) if c.name.lower() in known_columns]
    if not targets:
        return None
    target = rng.choice(targets)
    original = target.name.lower()
    mistake = MISTAKES[question.number // 5 % len(MISTAKES)]
    for attempt in (mistake, *(m for m in MISTAKES if m != mistake)):
        broken = _break(original, attempt, rng)
        if broken is None:
            continue
        # A quoted name in the wrong case is wrong in PostgreSQL; any other clash with a known name is no mistake.
        if (broken if attempt == "case" else broken.lower()) in known_tables | known_columns:
            continue
        target.set("this", broken)
        target.set("quoted", attempt == "case")
        return BrokenQuery(
            question.number, question.database, kind, attempt, parsed.sql("postgres"), original
        )
    return None
