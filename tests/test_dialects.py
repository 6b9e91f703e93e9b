"""The dialect registry: every registered backend is found by its URL and dbt target, and its SQL passes the guard.

Parametrized over REGISTERED, so a newly registered dialect is checked here without a new test.
"""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from tools.errors import WarehouseError
from tools.profiling.query import ColumnPlan, RelationName, build_profile_sql
from tools.sql_guard import check_read_only
from tools.warehouse.config import WarehouseConfig
from tools.warehouse.dialects.base import WarehouseDialect
from tools.warehouse.dialects.registry import (
    REGISTERED,
    dialect_for_dbt_target,
    dialect_for_url,
    dialect_named,
)
from tools.warehouse.factory import build_warehouse

COLUMNS = [
    ColumnPlan("amount", "numeric", "number", sensitive=False, top_values=True),
    ColumnPlan("status", "text", "text", sensitive=False, top_values=True),
    ColumnPlan("email", "text", "text", sensitive=True, top_values=True),
    ColumnPlan("payload", "struct", "other", sensitive=False, top_values=False),
]
RELATION = RelationName("analytics", "marts", "fct_orders")


def _names(dialect: WarehouseDialect) -> str:
    return dialect.name


@pytest.mark.parametrize("dialect", REGISTERED, ids=_names)
@pytest.mark.parametrize("sample_percent", [None, 2.5])
def test_profile_sql_passes_the_guard_and_reads_only_the_relation(
    dialect: WarehouseDialect, sample_percent: float | None
) -> None:
    sql = build_profile_sql(RELATION, COLUMNS, dialect, sample_percent)
    checked = check_read_only(sql, dialect.sqlglot_name)
    assert {table.split(".")[-1].strip('`"') for table in checked.tables} == {"fct_orders"}
    assert ("TABLESAMPLE" in sql) == (sample_percent is not None)
    # Top values are never asked of a sensitive column, whatever the dialect writes for them.
    assert "top_1" in sql and "top_2" not in sql


@pytest.mark.parametrize("dialect", REGISTERED, ids=_names)
@pytest.mark.parametrize("database", [None, "analytics"])
def test_schema_listing_passes_the_guard(dialect: WarehouseDialect, database: str | None) -> None:
    sql = dialect.schema_columns_sql(database, "marts")
    assert check_read_only(sql, dialect.sqlglot_name).sql


@pytest.mark.parametrize("dialect", REGISTERED, ids=_names)
def test_each_dialect_is_found_by_name_url_scheme_and_dbt_adapter_type(dialect: WarehouseDialect) -> None:
    assert dialect_named(dialect.name) is dialect
    for scheme in dialect.url_schemes:
        assert dialect_for_url(sa.make_url(f"{scheme}://host/db")) is dialect
    for adapter_type in dialect.dbt_adapter_types:
        assert dialect_for_dbt_target({"type": adapter_type, "_source": "profiles.yml"}) is dialect
    assert dialect_for_url(sa.make_url(dialect.url_example)) is dialect


def test_no_two_dialects_claim_the_same_name_scheme_or_adapter_type() -> None:
    for claimed in (
        [dialect.name for dialect in REGISTERED],
        [scheme for dialect in REGISTERED for scheme in dialect.url_schemes],
        [kind for dialect in REGISTERED for kind in dialect.dbt_adapter_types],
    ):
        assert len(claimed) == len(set(claimed)), claimed


def test_an_unsupported_warehouse_is_refused_naming_every_supported_one() -> None:
    config = WarehouseConfig(
        url="mysql://user@host/db",
        dbt_profiles_dir=None,
        dbt_target=None,
        max_bytes_scanned=10**9,
        bigquery_api_endpoint=None,
    )
    with pytest.raises(WarehouseError) as failure:
        build_warehouse(config, None)
    assert "'mysql'" in failure.value.message
    assert all(dialect.url_schemes[0] in failure.value.message for dialect in REGISTERED)
    with pytest.raises(WarehouseError) as refused:
        dialect_for_dbt_target({"type": "snowflake", "_source": "profiles.yml"})
    assert all(dialect.name in refused.value.message for dialect in REGISTERED)
    assert dialect_named("snowflake") is None
