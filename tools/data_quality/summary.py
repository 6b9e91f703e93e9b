"""The report as a table for front ends, one summary line, and the text the model reads."""

from __future__ import annotations

from tools.data_quality.outcomes import CheckOutcome, QualityReport
from tools.results import Column, QueryResult

_ORDER = {"failed": 0, "error": 1, "note": 2, "passed": 3}
COLUMNS = [
    Column(name="check", type="VARCHAR"),
    Column(name="column", type="VARCHAR"),
    Column(name="result", type="VARCHAR"),
    Column(name="failing_rows", type="BIGINT"),
    Column(name="examples", type="VARCHAR"),
    Column(name="detail", type="VARCHAR"),
]


def ordered(report: QualityReport) -> list[CheckOutcome]:
    """Failures first, then checks that could not run, notes, and passes."""
    return sorted(report.outcomes, key=lambda outcome: _ORDER[outcome.status])


def report_table(report: QualityReport, elapsed_ms: float, bytes_scanned: int | None) -> QueryResult:
    rows = [
        [o.check, o.target, o.status, o.failing_rows, ", ".join(o.examples), o.detail]
        for o in ordered(report)
    ]
    return QueryResult(
        columns=COLUMNS, rows=rows, truncated=False, elapsed_ms=elapsed_ms, bytes_scanned=bytes_scanned
    )


def summary_line(report: QualityReport) -> str:
    """`fct_orders: 2 of 9 checks failed (not_null customer_id: 3 rows; ...), 7 passed, 32,716 rows; 3 queries`."""
    failed = report.with_status("failed")
    passed = report.with_status("passed")
    errors = report.with_status("error")
    checks = len(failed) + len(passed) + len(errors)
    if checks == 0:
        parts = [f"{report.model}: no declared tests and no time column to check"]
    else:
        parts = [f"{report.model}: {len(failed)} of {checks} checks failed"]
        if failed:
            parts[0] += " (" + "; ".join(_short(o) for o in failed) + ")"
        parts.append(f"{len(passed)} passed")
    if errors:
        parts.append(f"{len(errors)} could not run")
    parts += [o.detail for o in report.with_status("note")]
    queries = f"{len(report.queries)} {'query' if len(report.queries) == 1 else 'queries'}"
    return ", ".join(parts) + f"; {queries}"


def _short(outcome: CheckOutcome) -> str:
    name = f"{outcome.check} {outcome.target}".strip()
    if outcome.check in {"freshness", "row_count"} or outcome.failing_rows is None:
        return name
    return f"{name}: {outcome.failing_rows:,} rows"
