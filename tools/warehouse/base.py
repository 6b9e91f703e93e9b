"""The one interface every warehouse connector implements."""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol

from tools.results import QueryResult

if TYPE_CHECKING:
    from tools.warehouse.dialects.base import WarehouseDialect


class Warehouse(Protocol):
    """A read-only connection to a warehouse."""

    @property
    def dialect(self) -> WarehouseDialect:
        """What this warehouse does its own way, including the sqlglot dialect its SQL is written in."""
        ...

    def execute_readonly(
        self, sql: str, *, max_rows: int, timeout_seconds: float, session_id: str | None = None
    ) -> QueryResult:
        """Run one already-checked SELECT in a read-only transaction; cap rows by wrapping the query.

        `session_id` attributes the query's cost to a conversation where the warehouse supports it (BigQuery
        job labels hold its hash). Raises tools.errors.ToolInputError for the warehouse's SQL errors and for
        queries over a cost limit (the model can fix them) and tools.errors.WarehouseError when the warehouse
        cannot be reached or refuses our credentials.
        """
        ...

    def estimate_bytes(self, sql: str) -> int | None:
        """Bytes the query would scan, without running it (BigQuery's dry run); None where unknown.

        Lets profiling and data-quality checks skip what would cost too much. Raises like execute_readonly.
        """
        ...

    def close(self) -> None: ...
