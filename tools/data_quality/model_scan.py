"""not_null, unique and accepted_values, the row count and the latest time, in one scan of the model.

Examples of the failing checks come from one more query, only when something failed.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from typing import Any

from sqlglot import exp

from tools.data_quality import sql
from tools.data_quality.declared import DeclaredTest
from tools.data_quality.outcomes import CheckOutcome
from tools.data_quality.runner import QueryRunner
from tools.errors import ToolInputError

SCANNED_KINDS = ("not_null", "unique", "accepted_values")
ROW_COUNT = "row_count"
LATEST = "latest"


@dataclass(frozen=True)
class ScanResult:
    """What the scan found: an outcome per test, the row count and the latest time (None when not asked)."""

    outcomes: list[CheckOutcome]
    row_count: int | None
    latest: Any
    error: str | None = None


def scan_model(
    runner: QueryRunner,
    relation: exp.Table,
    tests: list[DeclaredTest],
    key: str | None,
    time_column: str | None,
) -> ScanResult:
    """Run the scan; a rejected query gives `error` outcomes, never an exception."""
    dialect = runner.dialect
    wheres = [sql.condition(test.where, dialect) for test in tests]
    measures: list[tuple[str, exp.Expr]] = [(ROW_COUNT, exp.Count(this=exp.Star()))]
    if time_column:
        measures.append((LATEST, exp.Max(this=sql.time_value(time_column, dialect))))
    measures += [
        (f"check_{i}", _measure(test, where))
        for i, (test, where) in enumerate(zip(tests, wheres, strict=True))
    ]
    source = sql.Source(relation)
    try:
        result = runner.run(sql.counts_query(source, measures, dialect))
    except ToolInputError as exc:
        outcomes = [CheckOutcome(t.kind, t.label(), "error", detail=exc.message) for t in tests]
        return ScanResult(outcomes, None, None, error=exc.message)
    values = {
        column.name.lower(): value for column, value in zip(result.columns, result.rows[0], strict=True)
    }
    failing = {i: int(values[f"check_{i}"] or 0) for i in range(len(tests))}
    examples = _examples(runner, source, tests, wheres, key, [i for i, n in failing.items() if n > 0])
    outcomes = [_outcome(test, failing[i], key, examples.get(i)) for i, test in enumerate(tests)]
    return ScanResult(outcomes, int(values[ROW_COUNT]), values.get(LATEST))


def _measure(test: DeclaredTest, where: exp.Expr | None) -> exp.Expr:
    if test.kind == "not_null":
        return sql.null_count(test.column, where)
    if test.kind == "unique":
        return sql.extra_rows(test.column, where)
    return sql.count_where(sql.not_accepted(test.column, test.values), where)


@dataclass
class _Examples:
    """A failed check's examples and totals from the example query, or why there are none."""

    shown: list[str]
    values_total: int = 0
    rows_total: int = 0
    error: str | None = None


def _examples(
    runner: QueryRunner,
    source: sql.Source,
    tests: list[DeclaredTest],
    wheres: list[exp.Expr | None],
    key: str | None,
    failed: list[int],
) -> dict[int, _Examples]:
    """Up to five examples per failed check, all in one query; an error message instead if it fails."""
    branches = []
    for i in failed:
        test, where = tests[i], wheres[i]
        if test.kind == "not_null":
            if key is None or key.lower() == test.column.lower():
                continue  # No other key to name the rows by; the count says enough.
            is_null = sql.column(test.column).is_(exp.null())
            branches.append(sql.rows_where_sample(i, source, is_null, key, where))
            continue
        filtered = sql.Source(source.relation, where)
        repeated = test.kind == "unique"
        test_sql: exp.Expr = (
            exp.not_(sql.column(test.column).is_(exp.null()))
            if repeated
            else sql.not_accepted(test.column, test.values)
        )
        branches.append(sql.values_sample(i, filtered, test.column, test_sql, repeated_only=repeated))
    if not branches:
        return {}
    try:
        result = runner.run(sql.sample_query(branches, runner.dialect))
    except ToolInputError as exc:
        return {i: _Examples([], error=exc.message) for i in failed}
    found: dict[int, _Examples] = defaultdict(lambda: _Examples([]))
    for check_id, example, rows, values_total, rows_total in result.rows:
        examples = found[int(check_id)]
        examples.shown.append(str(example) if int(rows) == 1 else f"{example} (×{int(rows):,})")
        examples.values_total, examples.rows_total = int(values_total), int(rows_total)
    return found


def _outcome(test: DeclaredTest, failing: int, key: str | None, examples: _Examples | None) -> CheckOutcome:
    if failing == 0:
        return CheckOutcome(test.kind, test.label(), "passed", 0)
    found = examples if examples is not None and examples.error is None else None
    if test.kind == "not_null":
        detail = f"{failing:,} rows with no {test.column}" + (f"; examples are {key} values" if key else "")
    elif test.kind == "unique" and found is not None:
        # The rows that share a value, not just the extra copies: what dbt's failing rows would show.
        failing = found.rows_total
        plural = "s" if found.values_total != 1 else ""
        detail = f"{failing:,} rows share {found.values_total:,} duplicated {test.column} value{plural}"
    elif test.kind == "unique":
        detail = f"{failing:,} rows repeat a {test.column} that another row has"
    else:
        outside = ", ".join(map(repr, test.values))
        distinct = f" ({found.values_total:,} distinct values)" if found is not None else ""
        detail = f"{failing:,} rows with a value outside {outside}{distinct}"
    if examples is not None and examples.error is not None:
        detail += f" (no examples: {examples.error})"
    return CheckOutcome(
        test.kind, test.label(), "failed", failing, detail, tuple(found.shown if found else ())
    )
