"""Parity: metric queries compiled by MetricFlow return the same rows as hand-written gold SQL.

On a fixture shaped like dbt's jaffle-shop semantic layer (tests/jaffle_shop) with generated data, on DuckDB and
on PostgreSQL, through the same warehouse path run_query uses (guard, row cap, time limit).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa

from tests.jaffle_shop import data
from tests.jaffle_shop.cases import CASES, ORDERS, ParityCase, converted
from tests.jaffle_shop.manifest import write_project
from tests.metric_parity import normalised, same_rows
from tools.limits import ToolLimits
from tools.semantic_layer.engine import SemanticLayer
from tools.semantic_layer.execution import execute_compiled
from tools.warehouse.base import Warehouse
from tools.warehouse.config import WarehouseConfig
from tools.warehouse.dialects.registry import dialect_for_url

LIMITS = ToolLimits(
    max_result_rows=10_000,
    rows_to_model=20,
    query_timeout_seconds=60,
    max_bytes_scanned=10**12,
    send_result_rows_to_model=True,
    quality_freshness_hours=24,
    quality_row_count_change_percent=50,
)


def _warehouse(url: str) -> Warehouse:
    parsed = sa.make_url(url)
    config = WarehouseConfig(url=url, dbt_profiles_dir=None, dbt_target=None, max_bytes_scanned=10**12,
                             bigquery_api_endpoint=None)  # fmt: skip
    return dialect_for_url(parsed).warehouse_from_url(parsed, config)


def _layer(project: Path, dialect: str) -> SemanticLayer:
    return SemanticLayer((project / "target" / "semantic_manifest.json").read_text(), dialect)


def _mismatch(case: ParityCase, layer: SemanticLayer, warehouse: Warehouse) -> str | None:
    compiled = layer.compile(case.request)
    got = execute_compiled(compiled, warehouse, LIMITS, None).result
    assert not got.truncated
    expected = warehouse.execute_readonly(case.gold, max_rows=LIMITS.max_result_rows, timeout_seconds=60).rows
    mine, theirs = normalised(got.rows, ordered=case.ordered), normalised(expected, ordered=case.ordered)
    if same_rows(mine, theirs):
        return None
    return f"{case.id}: {len(mine)} rows vs gold {len(theirs)}; first {mine[:3]} vs {theirs[:3]}"


@pytest.fixture(scope="module")
def jaffle_project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_project(tmp_path_factory.mktemp("jaffle_shop"))


@pytest.fixture(scope="module")
def duckdb_jaffle(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Warehouse]:
    url = f"duckdb:///{tmp_path_factory.mktemp('jaffle_duckdb') / 'shop.duckdb'}"
    engine = sa.create_engine(url)
    data.load(engine, data.generate())
    engine.dispose()  # The warehouse opens the file itself, read-only.
    warehouse = _warehouse(url)
    yield warehouse
    warehouse.close()


def test_there_are_at_least_thirty_parity_queries_of_every_metric_type() -> None:
    assert len(CASES) >= 30 and len({case.id for case in CASES}) == len(CASES)
    names = " ".join(case.id for case in CASES)
    for kind in (
        "average_order_value",
        "gross_profit",
        "cumulative",
        "growth",
        "visit_to_order_rate_by_month",
        "visit_to_order_rate_7d",
        "conversions_7d",
        "same_location",
        "saved_query",
        "by_customer_type",
    ):
        assert kind in names


@pytest.mark.parametrize("case", CASES, ids=[case.id for case in CASES])
def test_duckdb_metric_queries_equal_gold_sql(
    case: ParityCase, jaffle_project: Path, duckdb_jaffle: Warehouse
) -> None:
    assert _mismatch(case, _layer(jaffle_project, "duckdb"), duckdb_jaffle) is None


@pytest.mark.postgres
def test_postgres_metric_queries_equal_gold_sql(jaffle_project: Path, postgres_url: str) -> None:
    engine = sa.create_engine(postgres_url)
    data.load(engine, data.generate())
    warehouse = _warehouse(postgres_url)
    layer = _layer(jaffle_project, "postgres")
    try:
        mismatches = [found for case in CASES if (found := _mismatch(case, layer, warehouse))]
    finally:
        warehouse.close()
        engine.dispose()
    assert mismatches == []


def test_the_conversion_gold_tells_dbts_semantics_from_near_misses(duckdb_jaffle: Warehouse) -> None:
    """The conversion parity queries would catch a compiler that read the semantics slightly otherwise."""

    def rate(sql: str) -> float:
        return float(duckdb_jaffle.execute_readonly(sql, max_rows=1, timeout_seconds=60).rows[0][0])

    def overall(ctes: str) -> str:
        return f"with {ctes} select count(*) / (select count(*) from v) from converted"

    documented = rate(overall(converted(7)))
    near_misses = {
        # The 7th day counted: an order exactly a window after the visit's day.
        "7th day counts": rate(overall(converted(7).replace("v.d > o.d - interval", "v.d >= o.d - interval"))),
        # Times compared rather than days: a visit later on the order's day would not count.
        "times, not days": rate(overall(converted(7).replace("date_trunc('day', visited_at)", "visited_at")
                                         .replace("date_trunc('day', ordered_at)", "ordered_at"))),
        # The share of visits followed by an order, rather than orders credited to their nearest visit.
        "share of visits": rate(f"with {converted(7)} select avg(case when exists (select 1 from {ORDERS} o "
                                "where o.customer_id = v.customer_id and date_trunc('day', o.ordered_at) >= v.d "
                                "and date_trunc('day', o.ordered_at) < v.d + interval '7 days') then 1.0 else 0 end) "
                                "from v"),
    }  # fmt: skip
    assert 0.5 < documented < 1
    assert all(abs(value - documented) > 0.003 for value in near_misses.values()), (documented, near_misses)
    # Without a window a visit is credited with every later order until the next visit: more than one a visit.
    assert rate(overall(converted(None))) > 1
