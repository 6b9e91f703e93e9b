"""Running the quality queries: read-only guard, byte cap, row cap and time limit, and a count of each query."""

from __future__ import annotations

from pydantic import ByteSize

from tools.errors import ToolInputError
from tools.results import QueryResult
from tools.sql_guard import check_read_only
from tools.warehouse.base import Warehouse

# Our queries return one row of counts or a few examples; anything more is a bug, not data to keep.
_MAX_ROWS = 100


class QueryRunner:
    """Runs each quality query once, refusing any the warehouse estimates above the byte cap."""

    def __init__(
        self, warehouse: Warehouse, *, max_bytes: int, timeout_seconds: float, session_id: str | None
    ) -> None:
        self._warehouse = warehouse
        self._max_bytes = max_bytes
        self._timeout_seconds = timeout_seconds
        self._session_id = session_id
        self.queries: list[str] = []
        self.bytes_scanned = 0

    @property
    def dialect(self) -> str:
        return self._warehouse.dialect.sqlglot_name

    def run(self, sql: str) -> QueryResult:
        """The query's rows; ToolInputError when it is refused or the warehouse rejects it."""
        checked = check_read_only(sql, self.dialect)
        estimate = self._warehouse.estimate_bytes(checked.sql)
        if estimate is not None and estimate > self._max_bytes:
            raise ToolInputError(
                f"Not run: this check would scan {_size(estimate)}, over the {_size(self._max_bytes)} cap "
                "(BLUEPRINTDATA_MAX_BYTES_SCANNED).",
                sql=checked.sql,
            )
        self.queries.append(checked.sql)
        result = self._warehouse.execute_readonly(
            checked.sql,
            max_rows=_MAX_ROWS,
            timeout_seconds=self._timeout_seconds,
            session_id=self._session_id,
        )
        self.bytes_scanned += result.bytes_scanned or 0
        return result


def _size(count: int) -> str:
    return ByteSize(count).human_readable(decimal=True)
