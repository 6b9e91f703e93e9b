"""The warehouse backends we support: adding one is its dialect module and one line in REGISTERED."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import sqlalchemy as sa

from tools.errors import WarehouseError
from tools.warehouse.dialects.base import WarehouseDialect
from tools.warehouse.dialects.bigquery import BIGQUERY
from tools.warehouse.dialects.duckdb import DUCKDB
from tools.warehouse.dialects.postgres import POSTGRES

REGISTERED: tuple[WarehouseDialect, ...] = (
    DUCKDB,
    POSTGRES,
    BIGQUERY,
)


def dialect_named(name: str) -> WarehouseDialect | None:
    """The dialect of that name (duckdb, postgres, bigquery), or None for a warehouse we do not support."""
    return next((dialect for dialect in REGISTERED if dialect.name == name), None)


def dialect_for_url(url: sa.URL) -> WarehouseDialect:
    """The dialect serving a BLUEPRINTDATA_WAREHOUSE_URL; raises WarehouseError naming those supported."""
    backend = url.get_backend_name()
    for dialect in REGISTERED:
        if backend in dialect.url_schemes:
            return dialect
    supported = ", ".join(dialect.url_schemes[0] for dialect in REGISTERED)
    raise WarehouseError(f"BLUEPRINTDATA_WAREHOUSE_URL uses {backend!r}; supported: {supported}.")


def dialect_for_dbt_target(target: Mapping[str, Any]) -> WarehouseDialect:
    """The dialect serving a dbt profile target; raises WarehouseError naming those supported."""
    kind = target.get("type")
    for dialect in REGISTERED:
        if kind in dialect.dbt_adapter_types:
            return dialect
    raise WarehouseError(
        f"Warehouse type {kind!r} in {target.get('_source')} is not supported; use {_names_listed()}, "
        "or set BLUEPRINTDATA_WAREHOUSE_URL."
    )


def url_examples() -> str:
    """An example URL of every supported warehouse, for messages: "a, b or c"."""
    return _listed([dialect.url_example for dialect in REGISTERED])


def _names_listed() -> str:
    return _listed([dialect.name for dialect in REGISTERED])


def _listed(items: list[str]) -> str:
    return ", ".join(items[:-1]) + " or " + items[-1] if len(items) > 1 else "".join(items)
