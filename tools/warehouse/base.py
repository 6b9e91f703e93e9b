"""The one interface every warehouse connector implements."""

from __future__ import annotations

from typing import Protocol

from tools.results import QueryResult


class Warehouse(Protocol):
    """A read-only connection to a warehouse."""

    @property
    def dialect(self) -> str:
        """The sqlglot dialect name: duckdb, postgres or bigquery."""
        ...

    def execute_readonly(self, sql: str, *, max_rows: int, timeout_seconds: float) -> QueryResult:
        """Run one already-checked SELECT in a read-only transaction; cap rows by wrapping the query.

        Raises tools.errors.ToolInputError for the warehouse's SQL errors (the model can fix them) and
        agent.errors.WarehouseError when the warehouse cannot be reached.
        """
        ...

    def close(self) -> None: ...
