"""Search quality on the defog questions: are all the tables of the gold SQL in search's top k?

Two settings: each defog database as its own dbt project, and all 11 pooled as one project (each database a
schema; same-named tables from unrelated domains compete). recall@k counts questions whose gold tables (for any
accepted gold query) are all in the top k, for one-table and multi-table questions apart. Search was tuned on
the even-numbered questions only; the odd half is held out, and both halves are reported with the whole.
`--tuning-misses` prints our misses at recall@5 among the even-numbered questions, and only those.

The baseline is the strongest simple ranker we know: lower-cased words of names (snake_case and camelCase
split), columns and descriptions, stop words dropped, plurals folded, each matched word weighted by its IDF.
"""

from __future__ import annotations

import math
import re
import sys
from collections import Counter
from collections.abc import Callable, Sequence
from typing import Any

from benchmarks.defog_projects import Question, add_database, database_tables, empty_manifest, questions
from tools.dbt.artifacts import DbtArtifacts
from tools.dbt.index import DbtIndex
from tools.dbt.stop_words import COMMON_ENGLISH

KS = (1, 3, 5, 10)
# A ranker answers a question with (schema, table) pairs, best first.
Ranker = Callable[[str], list[tuple[str, str]]]
# The shared list of common English words, plus the baseline's own "return"; search's additions are not used, so
# the baseline stays independent of search's tuning.
_BASELINE_STOP_WORDS = COMMON_ENGLISH | {"return"}


def _baseline_words(text: str) -> list[str]:
    spaced = re.sub(r"(?<=[a-z0-9])(?=[A-Z])", " ", text).lower()
    return [_fold_plural(w) for w in re.findall(r"[a-z0-9]+", spaced) if w not in _BASELINE_STOP_WORDS]


def _fold_plural(word: str) -> str:
    if len(word) > 4 and word.endswith("ies"):
        return word[:-3] + "y"
    if len(word) > 3 and word.endswith("s") and not word.endswith(("ss", "us", "is")):
        return word[:-1]
    return word


def baseline_ranker(models: Sequence[tuple[str, str, str]]) -> Ranker:
    """Word overlap weighted by IDF over (schema, table, text) documents; ties broken by name."""
    documents = {(schema, table): set(_baseline_words(f"{table} {text}")) for schema, table, text in models}
    frequency = Counter(word for words in documents.values() for word in words)
    idf = {word: math.log(1 + len(documents) / count) for word, count in frequency.items()}

    def rank(question: str) -> list[tuple[str, str]]:
        asked = set(_baseline_words(question))
        # Summed in one order: a set's order follows the process's string hashing, and float sums with it.
        score = {key: sum(idf[w] for w in sorted(asked & words)) for key, words in documents.items()}
        return sorted(documents, key=lambda key: (-score[key], key[1]))

    return rank


def _model_texts(manifest: dict[str, Any]) -> list[tuple[str, str, str]]:
    return [
        (
            node["schema"],
            node["name"].lower(),
            " ".join(f"{c['name']} {c['description']}" for c in node["columns"].values()),
        )
        for node in manifest["nodes"].values()
        if node["resource_type"] == "model"
    ]


def our_ranker(manifest: dict[str, Any], values: dict[tuple[str, str], list[str]]) -> Ranker:
    index = DbtIndex(DbtArtifacts(manifest, None, None), top_values=values)
    return lambda question: [(h.node.schema or "", h.node.name.lower()) for h in index.search(question, 10)]


def build_rankers(
    tables: dict[str, dict[str, list[dict[str, str]]]],
) -> dict[str, dict[str, dict[str, Ranker]]]:
    """setting -> ranker name -> database -> ranker; pooled uses one ranker for every database."""
    per_database: dict[str, dict[str, Ranker]] = {"blueprintdata": {}, "baseline": {}}
    pooled_manifest = empty_manifest("pooled")
    pooled_values: dict[tuple[str, str], list[str]] = {}
    for database, database_tables_ in tables.items():
        manifest = empty_manifest(database)
        values = add_database(manifest, database, database_tables_, "public")
        per_database["blueprintdata"][database] = our_ranker(manifest, values)
        per_database["baseline"][database] = baseline_ranker(_model_texts(manifest))
        pooled_values |= add_database(pooled_manifest, database, database_tables_, database)
    pooled_ours = our_ranker(pooled_manifest, pooled_values)
    pooled_baseline = baseline_ranker(_model_texts(pooled_manifest))
    pooled = {
        "blueprintdata": dict.fromkeys(tables, pooled_ours),
        "baseline": dict.fromkeys(tables, pooled_baseline),
    }
    return {"per database": per_database, "pooled": pooled}


def found(question: Question, ranked: list[tuple[str, str]], k: int, pooled: bool) -> bool:
    top = {(schema if pooled else "", table) for schema, table in ranked[:k]}
    schema = question.database if pooled else ""
    return any({(schema, table) for table in gold} <= top for gold in question.gold)


def report(setting: str, rankers: dict[str, dict[str, Ranker]], asked: list[Question]) -> None:
    pooled = setting == "pooled"
    groups: list[tuple[str, Callable[[Question], bool]]] = [
        ("all", lambda q: True),
        ("tuning (even)", lambda q: q.tuning),
        ("held out (odd)", lambda q: not q.tuning),
        ("one-table", lambda q: not q.multi_table),
        ("multi-table", lambda q: q.multi_table),
        ("multi, held out", lambda q: q.multi_table and not q.tuning),
    ]
    print(f"\n{setting}: {len(asked)} questions")
    print(f"{'ranker':<15}{'questions':<18}{'n':>4}  " + "".join(f"recall@{k:<4}" for k in KS))
    for name, by_database in rankers.items():
        ranked = {q.number: by_database[q.database](q.text) for q in asked}
        for label, keep in groups:
            chosen = [q for q in asked if keep(q)]
            figures = [sum(found(q, ranked[q.number], k, pooled) for q in chosen) / len(chosen) for k in KS]
            print(f"{name:<15}{label:<18}{len(chosen):>4}  " + "".join(f"{f:<11.3f}" for f in figures))


def print_tuning_misses(setting: str, rankers: dict[str, dict[str, Ranker]], asked: list[Question]) -> None:
    """Our misses at recall@5 among the even-numbered (tuning) questions only: the held-out half is never
    printed, so it cannot leak into tuning."""
    pooled = setting == "pooled"
    for question in (q for q in asked if q.tuning):
        ranked = rankers["blueprintdata"][question.database](question.text)
        if found(question, ranked, 5, pooled):
            continue
        gold = " | ".join(",".join(sorted(tables)) for tables in question.gold)
        top = ", ".join(f"{schema}.{table}" if pooled else table for schema, table in ranked[:8])
        print(f"\n[{setting}] #{question.number} {question.database}: {question.text}")
        print(f"  gold: {gold}\n  ours: {top}")


def main() -> None:
    tables = database_tables()
    asked = questions(tables)
    if "--tuning-misses" in sys.argv:
        for setting, rankers in build_rankers(tables).items():
            print_tuning_misses(setting, rankers, asked)
        return
    multi = sum(q.multi_table for q in asked)
    print(f"defog: {len(asked)} questions ({multi} multi-table) over {len(tables)} databases")
    print("tuned on the even-numbered questions; the odd-numbered ones are held out")
    for setting, rankers in build_rankers(tables).items():
        report(setting, rankers, asked)


if __name__ == "__main__":
    main()
