"""A warehouse that runs only what the asker's policy allows: the seam every tool's SQL passes through."""

from __future__ import annotations

from typing import TYPE_CHECKING

from tools.policy.tool_policy import ToolPolicy
from tools.results import QueryResult
from tools.warehouse.base import Warehouse

if TYPE_CHECKING:
    from tools.warehouse.dialects.base import WarehouseDialect


class PolicedWarehouse:
    """Wraps a warehouse: every statement is checked and rewritten by the policy before the warehouse sees it."""

    def __init__(self, inner: Warehouse, policy: ToolPolicy) -> None:
        self._inner = inner
        self._policy = policy

    @property
    def dialect(self) -> WarehouseDialect:
        return self._inner.dialect

    def execute_readonly(
        self, sql: str, *, max_rows: int, timeout_seconds: float, session_id: str | None = None
    ) -> QueryResult:
        enforced = self._policy.enforce_sql(sql, self._inner.dialect.sqlglot_name)
        if self._policy.before_query is not None:
            # BigQuery's dry run gives the bytes before anything is billed; elsewhere the spent total decides.
            self._policy.before_query(lambda: self._inner.estimate_bytes(enforced))
        return self._inner.execute_readonly(
            enforced, max_rows=max_rows, timeout_seconds=timeout_seconds, session_id=session_id
        )

    def estimate_bytes(self, sql: str) -> int | None:
        return self._inner.estimate_bytes(self._policy.enforce_sql(sql, self._inner.dialect.sqlglot_name))

    def close(self) -> None:
        """Nothing: the connection is the runtime's, shared by every asker."""
