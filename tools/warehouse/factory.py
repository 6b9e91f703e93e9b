"""Choosing and building the warehouse connector: BLUEPRINTDATA_WAREHOUSE_URL, else the dbt profile."""

from __future__ import annotations

from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.exc import ArgumentError

from tools.errors import WarehouseError
from tools.warehouse.base import Warehouse
from tools.warehouse.config import WarehouseConfig
from tools.warehouse.dialects.registry import dialect_for_dbt_target, dialect_for_url, url_examples
from tools.warehouse.profiles import profile_target


def build_warehouse(config: WarehouseConfig, project_dir: Path | None) -> Warehouse:
    """The warehouse to query; connecting waits for the first query."""
    if config.url is not None:
        url = _parse_url(config.url)
        return dialect_for_url(url).warehouse_from_url(url, config)
    if project_dir is None:
        raise WarehouseError(
            "No warehouse configured: set BLUEPRINTDATA_WAREHOUSE_URL or BLUEPRINTDATA_DBT_PROJECT_DIR."
        )
    target = profile_target(project_dir, config.dbt_profiles_dir, config.dbt_target)
    return dialect_for_dbt_target(target).warehouse_from_dbt_target(target, project_dir, config)


def _parse_url(text: str) -> sa.URL:
    try:
        return sa.make_url(text)
    except ArgumentError:
        raise WarehouseError(
            f"BLUEPRINTDATA_WAREHOUSE_URL is not a valid URL; expected e.g. {url_examples()}"
        ) from None
