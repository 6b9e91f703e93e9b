"""Wrong names caught before the warehouse: defog gold queries with one identifier broken, checked against the
catalog in PostgreSQL's case rules; and every correct gold query, none of which may be refused.

A broken query counts as caught when it is refused before running and the right name is among the first
three suggestions. Nothing was tuned on the odd-numbered questions; both halves are reported.
"""

from __future__ import annotations

import random
from collections import Counter

from benchmarks.broken_names import BrokenQuery, break_query, catalog
from benchmarks.defog_projects import database_tables, gold_alternatives, questions
from tools.schema_check import KnownTable, find_name_problem
from tools.sql_guard import SqlRefused, check_read_only

_SOURCE = "catalog.json"


def _caught(broken: BrokenQuery, tables: list[KnownTable]) -> tuple[bool, bool]:
    """(refused before running, refused with the right name among the first three suggestions)."""
    problem = find_name_problem(check_read_only(broken.sql, "postgres"), tables, source=_SOURCE)
    if problem is None:
        return False, False
    return True, broken.expected in [c.lower() for c in problem.candidates[:3]]


def main() -> None:
    tables = database_tables()
    catalogs = {database: catalog(database, found) for database, found in tables.items()}
    asked = questions(tables)
    rng = random.Random(15)
    corpus = [b for q in asked if (b := break_query(q, catalogs[q.database], rng)) is not None]
    refused_correct, correct = [], 0
    for question in asked:
        for text in gold_alternatives(question.sql):
            try:
                checked = check_read_only(text, "postgres")
            except SqlRefused:
                continue
            correct += 1
            problem = find_name_problem(checked, catalogs[question.database], source=_SOURCE)
            if problem is not None:
                refused_correct.append((question.number, problem.message()))
    kinds = Counter((b.kind, b.mistake) for b in corpus)
    print(
        f"corpus: {len(corpus)} broken queries from {len(asked)} defog questions: "
        + ", ".join(f"{kind}/{mistake} {count}" for (kind, mistake), count in sorted(kinds.items()))
    )
    results = {b.question: _caught(b, catalogs[b.database]) for b in corpus}
    groups = [
        ("all", lambda b: True),
        ("tuning (even)", lambda b: b.question % 2 == 0),
        ("held out (odd)", lambda b: b.question % 2 == 1),
        ("columns", lambda b: b.kind == "column"),
        ("tables", lambda b: b.kind == "table"),
        *((mistake, lambda b, m=mistake: b.mistake == m) for mistake in sorted({b.mistake for b in corpus})),
    ]
    print(f"{'broken queries':<18}{'n':>5}  {'refused':>8}  {'right name in top 3':>20}")
    for label, keep in groups:
        chosen = [b for b in corpus if keep(b)]
        refused = sum(results[b.question][0] for b in chosen) / len(chosen)
        named = sum(results[b.question][1] for b in chosen) / len(chosen)
        print(f"{label:<18}{len(chosen):>5}  {refused:>8.3f}  {named:>20.3f}")
    print(f"correct gold queries: {correct}, refused: {len(refused_correct)}")
    for number, message in refused_correct[:10]:
        print(f"  question {number}: {message}")


if __name__ == "__main__":
    main()
