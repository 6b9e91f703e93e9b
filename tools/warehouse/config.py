"""What building a warehouse connector needs, apart from the dbt project: a small frozen copy of the settings."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from pathlib import Path


@dataclass(frozen=True)
class WarehouseConfig:
    """Where the warehouse is (a URL, else the dbt profile) and the limits its connector enforces itself."""

    # BLUEPRINTDATA_WAREHOUSE_URL; kept out of repr because it may hold a password.
    url: str | None = field(repr=False)
    dbt_profiles_dir: Path | None
    dbt_target: str | None
    max_bytes_scanned: int
    bigquery_api_endpoint: str | None

    def with_url(self, url: str) -> WarehouseConfig:
        """The same limits for another warehouse (the bundled demo's file)."""
        return replace(self, url=url)
