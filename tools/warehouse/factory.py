"""Choosing and building the warehouse connector: BLUEPRINTDATA_WAREHOUSE_URL, else the dbt profile."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.exc import ArgumentError

from tools.errors import WarehouseError
from tools.warehouse.base import Warehouse
from tools.warehouse.config import WarehouseConfig
from tools.warehouse.profiles import profile_target, url_from_target
from tools.warehouse.sqlalchemy_warehouse import SqlAlchemyWarehouse

_DIALECTS = {"duckdb": "duckdb", "postgresql": "postgres", "postgres": "postgres", "bigquery": "bigquery"}


def build_warehouse(config: WarehouseConfig, project_dir: Path | None) -> Warehouse:
    """The warehouse to query; connecting waits for the first query."""
    if config.url is not None:
        url = _parse_url(config.url)
        dialect = _DIALECTS.get(url.get_backend_name())
        if dialect is None:
            raise WarehouseError(
                f"BLUEPRINTDATA_WAREHOUSE_URL uses {url.get_backend_name()!r}; supported: duckdb, postgresql, "
                "bigquery."
            )
        if dialect == "bigquery":
            return _bigquery_warehouse(config, url=url)
        if dialect == "postgres" and url.drivername in {"postgres", "postgresql"}:
            url = url.set(drivername="postgresql+psycopg")
        return SqlAlchemyWarehouse(url, dialect=dialect, setting_name="BLUEPRINTDATA_WAREHOUSE_URL")
    if project_dir is None:
        raise WarehouseError(
            "No warehouse configured: set BLUEPRINTDATA_WAREHOUSE_URL or BLUEPRINTDATA_DBT_PROJECT_DIR."
        )
    target = profile_target(project_dir, config.dbt_profiles_dir, config.dbt_target)
    if target.get("type") == "bigquery":
        return _bigquery_warehouse(config, dbt_target=target)
    url, dialect = url_from_target(target, project_dir)
    return SqlAlchemyWarehouse(url, dialect=dialect, setting_name=f"the dbt profile {target['_source']}")


def _bigquery_warehouse(
    config: WarehouseConfig, *, url: sa.URL | None = None, dbt_target: dict[str, Any] | None = None
) -> Warehouse:
    """The BigQuery connector, from a `bigquery://` URL or a dbt target."""
    # Imported here: google-cloud-bigquery takes a third of a second to import, which DuckDB and PostgreSQL users
    # and every CLI command would otherwise pay.
    from tools.warehouse.bigquery_target import target_from_dbt, target_from_url
    from tools.warehouse.bigquery_warehouse import BigQueryWarehouse

    endpoint = config.bigquery_api_endpoint
    if url is not None:
        target = target_from_url(url.host, url.database, dict(url.query), api_endpoint=endpoint)
    else:
        target = target_from_dbt(dbt_target or {}, api_endpoint=endpoint)
    return BigQueryWarehouse(target, max_bytes_scanned=config.max_bytes_scanned)


def _parse_url(text: str) -> sa.URL:
    try:
        return sa.make_url(text)
    except ArgumentError:
        raise WarehouseError(
            "BLUEPRINTDATA_WAREHOUSE_URL is not a valid URL; expected e.g. duckdb:////path/to/file.duckdb, "
            "postgresql+psycopg://user@host:5432/db or bigquery://project/dataset"
        ) from None
