"""A real warehouse wrapped so that tests and benchmarks can see every statement and dry run sent to it.

The Warehouse protocol is the only way SQL reaches a warehouse, so what this records is what profiling, the
quality checks and the agent really asked for.
"""

from __future__ import annotations

from dataclasses import dataclass

from tools.results import QueryResult
from tools.warehouse.base import Warehouse
from tools.warehouse.dialects.base import WarehouseDialect


@dataclass(frozen=True)
class Estimate:
    """One estimate_bytes call: the SQL and the bytes answered (None where the warehouse has no estimate)."""

    sql: str
    bytes: int | None


class RecordingWarehouse:
    """Forwards to a real warehouse and records what it is asked; `fixed_estimate` answers every dry run."""

    def __init__(self, inner: Warehouse, *, fixed_estimate: int | None = None) -> None:
        self.inner = inner
        # A fixed estimate plays a costly warehouse (e.g. a byte cap refusing) on DuckDB, which has none.
        self.fixed_estimate = fixed_estimate
        self.statements: list[str] = []
        self.estimates: list[Estimate] = []

    @property
    def dialect(self) -> WarehouseDialect:
        return self.inner.dialect

    def execute_readonly(
        self, sql: str, *, max_rows: int, timeout_seconds: float, session_id: str | None = None
    ) -> QueryResult:
        self.statements.append(sql)
        return self.inner.execute_readonly(
            sql, max_rows=max_rows, timeout_seconds=timeout_seconds, session_id=session_id
        )

    def estimate_bytes(self, sql: str) -> int | None:
        answer = self.fixed_estimate if self.fixed_estimate is not None else self.inner.estimate_bytes(sql)
        self.estimates.append(Estimate(sql, answer))
        return answer

    def close(self) -> None:
        self.inner.close()

    @property
    def dry_runs(self) -> int:
        """How many estimates came back with a number (BigQuery dry runs; DuckDB and PostgreSQL have none)."""
        return sum(estimate.bytes is not None for estimate in self.estimates)

    def data_statements(self) -> list[str]:
        """The statements that read tables: all but the information_schema column listings."""
        return [sql for sql in self.statements if "information_schema" not in sql.lower()]
