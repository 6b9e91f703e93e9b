"""Checks that need their own query: relationships (child values with no parent) and multi-column keys."""

from __future__ import annotations

from sqlglot import exp

from tools.data_quality import sql
from tools.data_quality.declared import DeclaredTest
from tools.data_quality.outcomes import CheckOutcome
from tools.data_quality.runner import QueryRunner
from tools.errors import ToolInputError


def relationship_outcome(
    runner: QueryRunner,
    relation: exp.Table,
    test: DeclaredTest,
    parent_name: str,
    parent_relation: exp.Table,
) -> CheckOutcome:
    """Child rows whose value has no row in the parent (dbt's relationships test); one query."""
    target = f"{test.column} -> {parent_name}.{test.parent_column}"
    child = sql.Source(relation, sql.condition(test.where, runner.dialect))
    query = sql.orphans_query(
        child, test.column, sql.Source(parent_relation), test.parent_column or test.column, runner.dialect
    )
    return _grouped_outcome(
        runner, query, "relationships", target, f"with no {parent_name}.{test.parent_column}"
    )


def combination_outcome(runner: QueryRunner, relation: exp.Table, test: DeclaredTest) -> CheckOutcome:
    """Rows sharing a combination of columns declared unique together; one query."""
    source = sql.Source(relation, sql.condition(test.where, runner.dialect))
    query = sql.repeated_combinations_query(source, test.columns, runner.dialect)
    return _grouped_outcome(
        runner,
        query,
        "unique_combination_of_columns",
        test.label(),
        "in combinations held by more than one row",
    )


def _grouped_outcome(runner: QueryRunner, query: str, check: str, target: str, what: str) -> CheckOutcome:
    try:
        result = runner.run(query)
    except ToolInputError as exc:
        return CheckOutcome(check, target, "error", detail=exc.message)
    if not result.rows:
        return CheckOutcome(check, target, "passed", 0)
    _, _, values_total, rows_total = result.rows[0]
    examples = tuple(
        str(example) if int(rows) == 1 else f"{example} (×{int(rows):,})" for example, rows, *_ in result.rows
    )
    detail = f"{int(rows_total):,} rows ({int(values_total):,} distinct values) {what}"
    return CheckOutcome(check, target, "failed", int(rows_total), detail, examples)
