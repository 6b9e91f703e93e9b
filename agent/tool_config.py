"""The one place settings become what tools read: their limits and the warehouse's configuration."""

from __future__ import annotations

from agent.settings import Settings
from tools.limits import ToolLimits
from tools.warehouse.config import WarehouseConfig


def tool_limits(settings: Settings) -> ToolLimits:
    """The limits every tool call obeys."""
    return ToolLimits(
        max_result_rows=settings.max_result_rows,
        rows_to_model=settings.rows_to_model,
        query_timeout_seconds=settings.query_timeout_seconds,
        max_bytes_scanned=int(settings.max_bytes_scanned),
        send_result_rows_to_model=settings.send_result_rows_to_model,
        quality_freshness_hours=settings.quality_freshness_hours,
        quality_row_count_change_percent=settings.quality_row_count_change_percent,
        allowed_functions=settings.allowed_functions,
        max_tool_result_chars=settings.max_tool_result_chars,
    )


def warehouse_config(settings: Settings) -> WarehouseConfig:
    """Where the warehouse is and the byte cap its connector enforces."""
    url = settings.warehouse_url
    return WarehouseConfig(
        url=url.get_secret_value() if url is not None else None,
        dbt_profiles_dir=settings.dbt_profiles_dir,
        dbt_target=settings.dbt_target,
        max_bytes_scanned=int(settings.max_bytes_scanned),
        bigquery_api_endpoint=settings.bigquery_api_endpoint,
        max_result_bytes=int(settings.max_result_bytes),
        max_cell_chars=settings.max_cell_chars,
        duckdb_memory_limit=int(settings.duckdb_memory_limit),
    )
