"""Search quality on the defog questions: is every table of the gold SQL in search's top k?

Each defog database becomes a dbt project (tables as models, with their columns and column descriptions); each
question is searched; recall@k counts questions whose gold tables (for any of the accepted gold queries) are all
within the top k. A plain word-overlap ranker runs beside ours as the baseline.
"""

from __future__ import annotations

import csv
import json
import re
from collections.abc import Callable
from typing import Any

import sqlglot
from sqlglot import exp

from benchmarks.shared_data import shared_data
from tools.dbt.artifacts import DbtArtifacts
from tools.dbt.index import DbtIndex

KS = (1, 3, 5, 10)


def project_manifest(name: str, tables: dict[str, list[dict[str, str]]]) -> dict[str, Any]:
    nodes = {}
    for qualified, columns in tables.items():
        schema, _, table = qualified.rpartition(".")
        nodes[f"model.{name}.{table}"] = {
            "resource_type": "model",
            "name": table,
            "description": "",
            "relation_name": f'"{name}"."{schema or "public"}"."{table}"',
            "schema": schema or "public",
            "alias": table,
            "columns": {
                c["column_name"]: {"name": c["column_name"], "description": c.get("column_description", "")}
                for c in columns
            },
            "depends_on": {"nodes": []},
        }
    return {"metadata": {"project_name": name, "adapter_type": "postgres"}, "nodes": nodes, "sources": {}}


def gold_table_sets(query: str) -> list[set[str]]:
    """The tables of each accepted gold query (braces mark column alternatives; any is fine here)."""
    sets = []
    for alternative in query.split(";"):
        text = re.sub(r"\{([^{}]*)\}", lambda m: m.group(1).split(",")[0] or "1", alternative).strip()
        if not text:
            continue
        try:
            parsed = sqlglot.parse_one(text, read="postgres")
        except sqlglot.errors.SqlglotError:
            continue
        ctes = {c.alias_or_name.lower() for c in parsed.find_all(exp.CTE)}
        tables = {t.name.lower() for t in parsed.find_all(exp.Table) if t.name.lower() not in ctes}
        if tables:
            sets.append(tables)
    return sets


def word_overlap_ranker(tables: dict[str, list[dict[str, str]]]) -> Callable[[str], list[str]]:
    words = {
        table.rpartition(".")[2]: set(
            re.findall(
                r"[a-z0-9]+",
                " ".join(
                    [table] + [c["column_name"] + " " + c.get("column_description", "") for c in columns]
                ).lower(),
            )
        )
        for table, columns in tables.items()
    }

    def rank(question: str) -> list[str]:
        asked = set(re.findall(r"[a-z0-9]+", question.lower()))
        return sorted(words, key=lambda table: (-len(asked & words[table]), table))

    return rank


def main() -> None:
    databases = shared_data("defog", "databases")
    rankers: dict[str, dict[str, Callable[[str], list[str]]]] = {"blueprintdata": {}, "word overlap": {}}
    for path in sorted(databases.glob("*.json")):
        tables = json.loads(path.read_text())["table_metadata"]
        index = DbtIndex(DbtArtifacts(project_manifest(path.stem, tables), None, None))
        rankers["blueprintdata"][path.stem] = lambda q, index=index: [
            h.node.name.lower() for h in index.search(q, 10)
        ]
        rankers["word overlap"][path.stem] = word_overlap_ranker(tables)
    questions = []
    for path in sorted(shared_data("defog", "questions").glob("*.csv")):
        with path.open() as handle:
            for row in csv.DictReader(handle):
                gold = gold_table_sets(row["query"])
                if gold and row["db_name"] in rankers["blueprintdata"]:
                    questions.append((row["db_name"], row["question"], gold))
    print(f"defog: {len(questions)} questions over {len(rankers['blueprintdata'])} databases")
    print(f"{'ranker':<16}" + "".join(f"recall@{k:<4}" for k in KS))
    for name, by_database in rankers.items():
        hits = dict.fromkeys(KS, 0)
        for database, question, gold in questions:
            ranked = by_database[database](question)
            for k in KS:
                if any(tables <= set(ranked[:k]) for tables in gold):
                    hits[k] += 1
        print(f"{name:<16}" + "".join(f"{hits[k] / len(questions):<11.3f}" for k in KS))


if __name__ == "__main__":
    main()
