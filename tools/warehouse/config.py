"""What building a warehouse connector needs, apart from the dbt project: a small frozen copy of the settings."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from pathlib import Path

from tools.warehouse.result_budget import (
    DEFAULT_MAX_CELL_CHARS,
    DEFAULT_MAX_ENGINE_MEMORY,
    DEFAULT_MAX_RESULT_BYTES,
    ResultLimits,
)


@dataclass(frozen=True)
class WarehouseConfig:
    """Where the warehouse is (a URL, else the dbt profile) and the limits its connector enforces itself."""

    # BLUEPRINTDATA_WAREHOUSE_URL; kept out of repr because it may hold a password.
    url: str | None = field(repr=False)
    dbt_profiles_dir: Path | None
    dbt_target: str | None
    max_bytes_scanned: int
    bigquery_api_endpoint: str | None
    max_result_bytes: int = DEFAULT_MAX_RESULT_BYTES
    max_cell_chars: int = DEFAULT_MAX_CELL_CHARS
    duckdb_memory_limit: int = DEFAULT_MAX_ENGINE_MEMORY

    def result_limits(self) -> ResultLimits:
        """What one result may hold in memory and show in one cell, and what an in-process engine may hold."""
        return ResultLimits(
            max_bytes=self.max_result_bytes,
            max_cell_chars=self.max_cell_chars,
            max_engine_memory=self.duckdb_memory_limit,
        )

    def with_url(self, url: str) -> WarehouseConfig:
        """The same limits for another warehouse (the bundled demo's file)."""
        return replace(self, url=url)
