"""check_data_quality: the tests and freshness a dbt model declares, checked in the warehouse."""

from __future__ import annotations

import time
from datetime import UTC, datetime
from pathlib import Path

from pydantic import BaseModel, Field
from sqlglot import exp

from tools.data_quality import sql
from tools.data_quality.cross_checks import combination_outcome, relationship_outcome
from tools.data_quality.declared import DeclaredChecks, DeclaredChecksReader, DeclaredTest
from tools.data_quality.freshness import freshness_outcome, threshold, time_column
from tools.data_quality.model_scan import SCANNED_KINDS, scan_model
from tools.data_quality.outcomes import CheckOutcome, QualityReport
from tools.data_quality.row_count import row_count_outcome
from tools.data_quality.runner import QueryRunner
from tools.data_quality.summary import report_table, summary_line
from tools.dbt.index import DbtIndex
from tools.dbt.nodes import DbtNode
from tools.direct_command import DirectCommand, whole_argument
from tools.errors import DbtArtifactError, ToolInputError
from tools.registry import Tool, ToolContext, ToolOutput
from tools.results import ResultTable
from tools.run_query import describe_for_model

_DECLARED = DeclaredChecksReader()


class CheckDataQualityInput(BaseModel):
    """Check one model's data against what its dbt project declares."""

    model: str = Field(
        description="Model or source (source_name.table) name, e.g. 'fct_orders'.", min_length=1
    )


def check_data_quality(context: ToolContext, arguments: CheckDataQualityInput) -> ToolOutput:
    started = time.perf_counter()
    index = context.dbt
    node = index.resolve(arguments.model)
    if context.policy is not None:
        node = context.policy.require(node)  # Checks of hidden columns go with them.
    if not node.relation_name and node.materialization == "ephemeral":
        raise ToolInputError(f"{node.name} is ephemeral: it has no table or view to check.")
    limits = context.limits
    declared = _declared(context.project_dir, node)
    warehouse = context.warehouse
    runner = QueryRunner(
        warehouse,
        max_bytes=limits.max_bytes_scanned,
        timeout_seconds=limits.query_timeout_seconds,
        session_id=context.session_id,
    )
    relation_name = node.relation_name or ".".join(
        p for p in (node.database, node.schema, node.identifier) if p
    )
    relation = sql.relation(relation_name, runner.dialect)
    report = QualityReport(node.name, relation_name)
    runnable = _runnable(report, declared, runner.dialect)
    scanned = [test for test in runnable if test.kind in SCANNED_KINDS]
    clock = _clock(report, node, declared, runner.dialect)
    scan = scan_model(runner, relation, scanned, _key(node, declared), clock)
    report.outcomes += scan.outcomes
    report.row_count = scan.row_count
    for test in runnable:
        if test.kind == "relationships":
            report.outcomes.append(_relationship(runner, index, relation, test))
        elif test.kind == "unique_combination_of_columns":
            report.outcomes.append(combination_outcome(runner, relation, test))
    if clock and scan.error is None:
        hours, source = threshold(declared, limits.quality_freshness_hours)
        report.outcomes.append(freshness_outcome(clock, scan.latest, hours, source, datetime.now(UTC)))
    if scan.row_count is not None:
        earlier = context.profiles.latest(node.unique_id) if context.profiles is not None else None
        report.outcomes.append(
            row_count_outcome(scan.row_count, earlier, limits.quality_row_count_change_percent)
        )
    report.queries = runner.queries
    elapsed_ms = (time.perf_counter() - started) * 1000
    table = context.results.put(
        report_table(report, elapsed_ms, runner.bytes_scanned or None),
        sql=";\n\n".join(runner.queries),
        session_id=context.session_id,
    )
    summary = summary_line(report)
    # The offending keys are warehouse values: with BLUEPRINTDATA_SEND_RESULT_ROWS_TO_MODEL off the model gets the
    # checks and their counts, the user still sees the keys.
    for_model = table if limits.send_result_rows_to_model else _without_examples(table)
    return ToolOutput(
        content=f"Checked {relation_name}. {summary}\n" + describe_for_model(for_model, len(for_model.rows)),
        summary=summary,
        table=table,
        sql=table.sql,
        rows=table.row_count,
        bytes_scanned=runner.bytes_scanned or None,
    )


def _without_examples(table: ResultTable) -> ResultTable:
    position = table.column_names().index("examples")
    rows = [[*row[:position], "", *row[position + 1 :]] for row in table.rows]
    return table.model_copy(update={"rows": rows})


def _declared(project_dir: Path | None, node: DbtNode) -> DeclaredChecks:
    """The tests with their arguments from manifest.json; what the index knows when it cannot be read."""
    if project_dir is not None:
        try:
            return _DECLARED.for_node(project_dir, node.unique_id)
        except (OSError, ValueError, DbtArtifactError):
            pass
    tests = [DeclaredTest("not_null", (c,)) for c in node.not_null_columns]
    tests += [DeclaredTest("unique", (c,)) for c in node.unique_keys]
    tests += [
        DeclaredTest("relationships", (j.column,), parent=j.to_node, parent_column=j.to_column)
        for j in node.joins
    ]
    return DeclaredChecks(tuple(tests))


def _runnable(report: QualityReport, declared: DeclaredChecks, dialect: str) -> list[DeclaredTest]:
    """Tests whose `where` is plain SQL; the others are reported as not run."""
    runnable = []
    for test in declared.tests:
        try:
            sql.condition(test.where, dialect)
        except ToolInputError as exc:
            report.outcomes.append(
                CheckOutcome(test.kind, test.label(), "error", detail=f"Not run: {exc.message}")
            )
            continue
        runnable.append(test)
    return runnable


def _clock(report: QualityReport, node: DbtNode, declared: DeclaredChecks, dialect: str) -> str | None:
    """The time column for freshness, when there is one and it is plain SQL."""
    clock = time_column(node, declared)
    if clock is None:
        return None
    try:
        sql.time_value(clock, dialect)
    except ToolInputError as exc:
        report.outcomes.append(CheckOutcome("freshness", clock, "error", detail=f"Not run: {exc.message}"))
        return None
    return clock


def _key(node: DbtNode, declared: DeclaredChecks) -> str | None:
    """The column that names a row in examples: the first single-column unique key."""
    unique = [test.column for test in declared.of_kind("unique")]
    return unique[0] if unique else (node.unique_keys[0] if node.unique_keys else None)


def _relationship(
    runner: QueryRunner, index: DbtIndex, relation: exp.Table, test: DeclaredTest
) -> CheckOutcome:
    parent = index.find(test.parent or "")
    if parent is None or not (parent.relation_name or parent.identifier):
        target = f"{test.column} -> {test.parent}.{test.parent_column}"
        return CheckOutcome(
            "relationships", target, "error", detail=f"{test.parent} is not in the dbt project"
        )
    parent_relation = sql.relation(parent.relation_name or parent.identifier, runner.dialect)
    return relationship_outcome(runner, relation, test, parent.name, parent_relation)


TOOL = Tool(
    name="check_data_quality",
    description=(
        "Check one dbt model's data in the warehouse against what the project declares: nulls in not_null "
        "columns, duplicate unique keys, child rows with no parent (relationships), values outside "
        "accepted_values, freshness of its latest timestamp, and the row count against the last profile. "
        "Returns counts per check with up to 5 offending keys. Use it when asked whether data can be trusted."
    ),
    input_model=CheckDataQualityInput,
    run=check_data_quality,
    status=lambda arguments: f"is checking {arguments.model}…",
    command=DirectCommand(
        "quality",
        "/quality model",
        "check a model's declared tests, freshness and row count",
        whole_argument("model", "/quality fct_orders"),
    ),
)
