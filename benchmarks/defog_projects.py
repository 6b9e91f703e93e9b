"""The defog databases as dbt projects (one per database, or all 11 pooled as one), with the gold questions.

A table becomes a model with its columns and column descriptions; a declared foreign key becomes a dbt
`relationships` test; an enumerated text column's most frequent values (what profiling would store) become
its top values. Database names never reach a searched field: pooled, each database is a schema of its own and
the model's path, name and description say nothing of it.
"""

from __future__ import annotations

import csv
import json
import re
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import sqlglot
from sqlglot import exp

from benchmarks.shared_data import shared_data

_TOP_VALUES = 10
# A column with more distinct values than this is not "enumerated": profiling would not keep its top values.
_MAX_DISTINCT = 30
_REFERENCES = re.compile(r"(\w+)\s+[^,\n]*?REFERENCES\s+(?:\w+\.)?(\w+)\s*\((\w+)\)", re.IGNORECASE)
_CREATE = re.compile(r"CREATE TABLE\s+(?:\w+\.)?(\w+)\s*\((.*?)\n\);", re.IGNORECASE | re.DOTALL)


@dataclass(frozen=True)
class Question:
    """One defog question: its position in the pooled list (even ones are the tuning half) and gold tables."""

    number: int
    database: str
    text: str
    gold: tuple[frozenset[str], ...]
    sql: str

    @property
    def tuning(self) -> bool:
        return self.number % 2 == 0

    @property
    def multi_table(self) -> bool:
        return min(len(tables) for tables in self.gold) > 1


def database_tables() -> dict[str, dict[str, list[dict[str, str]]]]:
    """Each database's tables (`schema.table` or `table`) and their columns, from the defog JSON files."""
    folder = shared_data("defog", "databases")
    return {
        path.stem: json.loads(path.read_text())["table_metadata"] for path in sorted(folder.glob("*.json"))
    }


def _foreign_keys(dump: str) -> list[tuple[str, str, str, str]]:
    """(table, column, referenced table, referenced column) for each REFERENCES in a dump's CREATE TABLEs."""
    keys = []
    for table, body in _CREATE.findall(dump):
        for column, target, target_column in _REFERENCES.findall(body):
            keys.append((table.lower(), column.lower(), target.lower(), target_column.lower()))
    return keys


def _top_values(dump: str) -> dict[tuple[str, str], list[str]]:
    """The most frequent text values of each enumerated column, read from the dump's INSERT statements."""
    counts: dict[tuple[str, str], Counter[str]] = {}
    for statement in sqlglot.parse(dump, read="postgres"):
        if not isinstance(statement, exp.Insert) or not isinstance(statement.this, exp.Schema):
            continue
        table = statement.this.this.name.lower()
        columns = [column.name.lower() for column in statement.this.expressions]
        values = statement.expression
        if not isinstance(values, exp.Values):
            continue
        for row in values.expressions:
            for column, cell in zip(columns, row.expressions, strict=False):
                if isinstance(cell, exp.Literal) and cell.is_string:
                    counts.setdefault((table, column), Counter())[cell.this] += 1
    return {
        key: [value for value, _ in counter.most_common(_TOP_VALUES)]
        for key, counter in counts.items()
        if len(counter) <= _MAX_DISTINCT
    }


def _dump(database: str) -> str:
    path: Path = shared_data("defog", "databases") / f"{database}.sql"
    return path.read_text()


def add_database(
    manifest: dict[str, Any], database: str, tables: dict[str, list[dict[str, str]]], schema: str
) -> dict[tuple[str, str], list[str]]:
    """Add one database's tables as models under `schema`; the top values of its columns by (model, column)."""
    dump = _dump(database)
    project = manifest["metadata"]["project_name"]
    unique_ids: dict[str, str] = {}
    for qualified, columns in tables.items():
        table = qualified.rpartition(".")[2]
        unique_id = f"model.{project}.{schema}__{table}"
        unique_ids[table.lower()] = unique_id
        manifest["nodes"][unique_id] = {
            "resource_type": "model",
            "name": table,
            "description": "",
            "relation_name": f'"{project}"."{schema}"."{table}"',
            "schema": schema,
            "alias": table,
            "original_file_path": f"models/{table}.sql",
            "columns": {
                c["column_name"]: {"name": c["column_name"], "description": c.get("column_description", "")}
                for c in columns
            },
            "depends_on": {"nodes": []},
        }
    for table, column, target, target_column in _foreign_keys(dump):
        if table in unique_ids and target in unique_ids:
            test_id = f"test.{project}.relationships_{schema}_{table}_{column}"
            manifest["nodes"][test_id] = {
                "resource_type": "test",
                "attached_node": unique_ids[table],
                "column_name": column,
                "test_metadata": {
                    "name": "relationships",
                    "kwargs": {"to": f"ref('{target}')", "field": target_column, "column_name": column},
                },
                "depends_on": {"nodes": [unique_ids[table], unique_ids[target]]},
            }
    return {
        (unique_ids[table], column): values
        for (table, column), values in _top_values(dump).items()
        if table in unique_ids
    }


def empty_manifest(project: str) -> dict[str, Any]:
    return {"metadata": {"project_name": project, "adapter_type": "postgres"}, "nodes": {}, "sources": {}}


def gold_table_sets(query: str) -> tuple[frozenset[str], ...]:
    """The tables of each accepted gold query (braces mark column alternatives; any is fine here)."""
    sets = []
    for alternative in gold_alternatives(query):
        try:
            parsed = sqlglot.parse_one(alternative, read="postgres")
        except sqlglot.errors.SqlglotError:
            continue
        ctes = {c.alias_or_name.lower() for c in parsed.find_all(exp.CTE)}
        tables = frozenset(t.name.lower() for t in parsed.find_all(exp.Table) if t.name.lower() not in ctes)
        if tables:
            sets.append(tables)
    return tuple(sets)


def gold_alternatives(query: str) -> list[str]:
    """Each accepted gold SQL text, with `{a, b}` column alternatives resolved to the first one."""
    texts = []
    for alternative in query.split(";"):
        text = re.sub(r"\{([^{}]*)\}", lambda m: m.group(1).split(",")[0].strip() or "1", alternative).strip()
        if text:
            texts.append(text)
    return texts


def questions(known: dict[str, dict[str, list[dict[str, str]]]]) -> list[Question]:
    """Every question whose gold SQL parses and whose database is known, numbered in file order."""
    found: list[Question] = []
    for path in sorted(shared_data("defog", "questions").glob("*.csv")):
        with path.open() as handle:
            for row in csv.DictReader(handle):
                gold = gold_table_sets(row["query"])
                if gold and row["db_name"] in known:
                    found.append(Question(len(found), row["db_name"], row["question"], gold, row["query"]))
    return found
