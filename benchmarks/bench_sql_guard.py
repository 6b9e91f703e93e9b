"""SQL guard cost per statement, p50/p95 over the whole guard corpus (hostile, benign and the unit cases).

Each statement is checked uncached (the guard's cache would otherwise answer repeats for free) several times;
its cost is the median of those runs. Target: p95 under 1 ms for statements under 2 KB.
"""

from __future__ import annotations

import statistics
import time

from tests.redteam.benign_statements import BENIGN
from tests.redteam.other_dialects import HOSTILE_BIGQUERY, HOSTILE_DUCKDB
from tests.redteam.postgres_statements import HOSTILE_POSTGRES
from tests.test_sql_guard import ALLOWED, REFUSED
from tools.sql_guard import SqlRefused, check_read_only

RUNS_PER_STATEMENT = 7
SMALL_STATEMENT_BYTES = 2_048
TARGET_P95_MS = 1.0


def corpus() -> list[tuple[str, str]]:
    """Every (dialect, sql) the guard's tests use."""
    statements = [("postgres", sql) for sql, _ in HOSTILE_POSTGRES]
    statements += [("duckdb", sql) for sql, _ in HOSTILE_DUCKDB]
    statements += [("bigquery", sql) for sql, _ in HOSTILE_BIGQUERY]
    statements += [(dialect, sql) for dialect, queries in BENIGN.items() for sql in queries]
    statements += list(ALLOWED) + [(dialect, sql) for dialect, sql, _ in REFUSED]
    return statements


def cost_ms(dialect: str, sql: str) -> tuple[float, bool]:
    """Median milliseconds to check `sql` uncached, and whether it was refused."""
    uncached = check_read_only.__wrapped__
    timings = []
    refused = False
    for _ in range(RUNS_PER_STATEMENT):
        started = time.perf_counter()
        try:
            uncached(sql, dialect)
        except SqlRefused:
            refused = True
        timings.append((time.perf_counter() - started) * 1000)
    return statistics.median(timings), refused


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


def main() -> None:
    statements = corpus()
    for dialect in {dialect for dialect, _ in statements}:  # Each dialect's parser and generator load once.
        cost_ms(dialect, "SELECT 1")
    small: list[float] = []
    large: list[float] = []
    refused_count = 0
    for dialect, sql in statements:
        cost, refused = cost_ms(dialect, sql)
        refused_count += refused
        (small if len(sql.encode()) < SMALL_STATEMENT_BYTES else large).append(cost)
    everything = small + large
    print(
        f"statements: {len(statements)} ({refused_count} refused, {len(statements) - refused_count} allowed)"
    )
    print(
        f"under 2 KB ({len(small)}): p50 {percentile(small, 0.5):.3f} ms, p95 {percentile(small, 0.95):.3f} ms, "
        f"max {max(small):.3f} ms (target p95 < {TARGET_P95_MS:.0f} ms: "
        f"{'met' if percentile(small, 0.95) < TARGET_P95_MS else 'NOT met'})"
    )
    print(
        f"all ({len(everything)}): p50 {percentile(everything, 0.5):.3f} ms, "
        f"p95 {percentile(everything, 0.95):.3f} ms, max {max(everything):.3f} ms"
    )
    if large:
        print(
            f"2 KB and over ({len(large)}): median {statistics.median(large):.1f} ms, max {max(large):.1f} ms"
        )


if __name__ == "__main__":
    main()
