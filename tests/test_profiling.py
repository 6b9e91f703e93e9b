"""Profiling models: one query each on DuckDB, PostgreSQL and (fake) BigQuery; incremental; sensitive columns."""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import duckdb
import pytest
import sqlalchemy as sa
import sqlglot
from sqlalchemy.orm import Session

from agent.runtime import Runtime
from agent.store.database import create_store_engine, current_revision, upgrade_database
from agent.store.models import ModelProfileRow
from agent.store.profiles import ProfileStore
from demo.load import DEMO_PROJECT_DIR
from tests.fakes.bigquery_api import ENDPOINT, PROJECT, FakeBigQuery
from tests.fakes.bigquery_demo import load_demo_into_fake_bigquery
from tests.fakes.recording_warehouse import RecordingWarehouse
from tools.dbt.index import load_index
from tools.describe_model import DescribeModelInput, describe_model
from tools.profiling.profile import ColumnProfile, ModelProfile
from tools.profiling.runner import ProfileOptions, SyncSummary, sync_profiles
from tools.profiling.selection import SelectionError, select_nodes
from tools.sensitivity import is_sensitive
from tools.warehouse.bigquery_target import BigQueryTarget
from tools.warehouse.bigquery_warehouse import BigQueryWarehouse
from tools.warehouse.dialects.postgres import POSTGRES
from tools.warehouse.sqlalchemy_warehouse import SqlAlchemyWarehouse

DEMO_MODELS = 16  # 11 models and 5 sources; the demo has no ephemeral models.
OPTIONS = ProfileOptions(sample_rows=1_000_000, timeout_seconds=30)


def demo_sync(
    runtime: Runtime, *, select: str | None = None, **options: Any
) -> tuple[SyncSummary, RecordingWarehouse]:
    """Sync the runtime's project through a recording warehouse."""
    warehouse = RecordingWarehouse(runtime.warehouse())
    chosen = ProfileOptions(**{"sample_rows": 1_000_000, "timeout_seconds": 30, **options})
    return sync_profiles(runtime.index(), warehouse, runtime.profiles, chosen, select=select), warehouse


def stored_rows(runtime: Runtime) -> list[ModelProfileRow]:
    with Session(runtime.engine) as session:
        return list(session.scalars(sa.select(ModelProfileRow)))


# The store -----------------------------------------------------------------------------------------------


def test_the_profiles_table_is_migrated_and_keeps_every_attempt(tmp_path: Path) -> None:
    engine = create_store_engine(f"sqlite:///{tmp_path / 'store.db'}")
    upgrade_database(engine)
    revision = current_revision(engine)
    assert revision is not None and revision >= "0002"
    assert "model_profiles" in sa.inspect(engine).get_table_names()
    store = ProfileStore(engine)
    first = ModelProfile(
        unique_id="model.x.a",
        relation="db.main.a",
        row_count=10,
        profiled_at=_at("2026-01-01T00:00:00"),
        columns={"id": ColumnProfile("id", "INTEGER", 0.0, 10, 1, 10)},
        manifest_checksum="c1",
    )
    failed = ModelProfile(
        unique_id="model.x.a",
        relation="db.main.a",
        row_count=None,
        profiled_at=_at("2026-01-02T00:00:00"),
        status="failed",
        error="boom",
    )
    store.save(first)
    store.save(failed)
    assert store.latest("model.x.a") == first  # The newest successful one.
    assert store.latest("model.x.nope") is None
    assert store.all() == {"model.x.a": first}
    assert store.latest_attempts()["model.x.a"].status == "failed"
    # The per-turn read: the newest successful count of the listed models only.
    assert store.row_counts(["model.x.a", "model.x.nope"]) == {"model.x.a": 10}
    assert store.row_counts([]) == {}
    engine.dispose()


def _at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


# DuckDB: the demo warehouse ------------------------------------------------------------------------------


def test_the_demo_is_profiled_with_exactly_one_query_per_model(make_runtime: Callable[..., Runtime]) -> None:
    runtime = make_runtime()
    summary, warehouse = demo_sync(runtime)
    assert len(summary.profiled) == DEMO_MODELS and not summary.failed and not summary.skipped
    profile_sql = warehouse.data_statements()
    assert len(profile_sql) == DEMO_MODELS == summary.profile_queries
    assert summary.metadata_queries == 2  # main and raw: one column listing per schema, not per model
    assert len(warehouse.statements) == summary.queries == DEMO_MODELS + 2
    assert all(len(sqlglot.parse(sql, read="duckdb")) == 1 for sql in profile_sql)

    orders = runtime.profiles.latest("model.shop.fct_orders")
    assert orders is not None and orders.row_count == _scalar(runtime, "SELECT COUNT(*) FROM main.fct_orders")
    status = orders.column("status")
    assert status is not None and status.null_fraction == 0 and status.distinct_count == 3
    assert [top.value for top in status.top_values] == ["completed", "returned", "cancelled"]
    assert status.top_values[0].count == _scalar(
        runtime, "SELECT COUNT(*) FROM main.fct_orders WHERE status = 'completed'"
    )
    order_date = orders.column("order_date")
    assert order_date is not None and (order_date.min, order_date.max) == (
        str(_scalar(runtime, "SELECT MIN(order_date) FROM main.fct_orders")),
        str(_scalar(runtime, "SELECT MAX(order_date) FROM main.fct_orders")),
    )
    customers = runtime.profiles.latest("model.shop.dim_customers")
    assert customers is not None
    first_order = customers.column("first_order_date")
    nulls = _scalar(
        runtime, "SELECT AVG(CASE WHEN first_order_date IS NULL THEN 1.0 ELSE 0 END) FROM main.dim_customers"
    )
    assert first_order is not None and first_order.null_fraction == pytest.approx(float(nulls), abs=1e-6)
    assert runtime.profiles.latest("source.shop.raw.raw_orders") is not None


def _scalar(runtime: Runtime, sql: str) -> Any:
    return runtime.warehouse().execute_readonly(sql, max_rows=1, timeout_seconds=30).rows[0][0]


def test_sensitive_columns_keep_no_values_in_the_store_or_in_describe_model(
    make_runtime: Callable[..., Runtime],
) -> None:
    runtime = make_runtime()
    demo_sync(runtime)
    emails = [
        row[0]
        for row in runtime.warehouse()
        .execute_readonly("SELECT email FROM main.dim_customers LIMIT 3", max_rows=3, timeout_seconds=30)
        .rows
    ]
    names = _scalar(runtime, "SELECT first_name FROM main.dim_customers LIMIT 1")
    stored = json.dumps([row.columns for row in stored_rows(runtime)])
    assert "@" not in stored and not any(email in stored for email in emails)
    customers = runtime.profiles.latest("model.shop.dim_customers")
    assert customers is not None
    for name in ("email", "first_name", "last_name"):
        column = customers.column(name)
        assert column is not None and column.sensitive
        assert (column.min, column.max, column.top_values) == (None, None, ())
        assert column.null_fraction == 0  # Counts are kept: they reveal nothing about anyone.
    country = customers.column("country")
    assert country is not None and not country.sensitive and country.top_values

    output = describe_model(runtime.tool_context(None), DescribeModelInput(name="dim_customers"))
    assert f"Rows: {customers.row_count:,}" in output.content
    email_line = next(line for line in output.content.splitlines() if line.startswith("- email "))
    assert "sensitive: values withheld" in email_line and "@" not in output.content
    assert str(names) not in output.content.split("Columns:")[1]
    assert 'top: "US" (' in output.content  # country's frequent values are shown


def test_no_profile_values_reach_the_model_when_result_rows_are_not_shared(
    make_runtime: Callable[..., Runtime],
) -> None:
    runtime = make_runtime(send_result_rows_to_model=False)
    demo_sync(runtime)
    output = describe_model(runtime.tool_context(None), DescribeModelInput(name="dim_customers"))
    country = next(line for line in output.content.splitlines() if line.startswith("- country "))
    assert "values not shared (a setting)" in country and "null" in country  # Counts stay.
    assert "top:" not in output.content and '"US"' not in output.content


def test_the_system_prompt_carries_row_counts_of_the_main_models(
    make_runtime: Callable[..., Runtime],
) -> None:
    runtime = make_runtime()
    assert "Row counts" not in runtime.project_overview()
    demo_sync(runtime)
    overview = runtime.project_overview()
    orders = runtime.profiles.latest("model.shop.fct_orders")
    assert orders is not None and f"fct_orders {orders.row_count:,}" in overview


def test_large_tables_are_sampled_and_the_row_count_stays_exact(make_runtime: Callable[..., Runtime]) -> None:
    runtime = make_runtime()
    summary, warehouse = demo_sync(runtime, sample_rows=1_000)
    assert len(summary.profiled) == DEMO_MODELS
    orders = runtime.profiles.latest("model.shop.fct_orders")
    assert orders is not None and orders.sampled and orders.sample_percent is not None
    assert orders.row_count == _scalar(runtime, "SELECT COUNT(*) FROM main.fct_orders")
    sampled_sql = next(sql for sql in warehouse.data_statements() if '"fct_orders"' in sql)
    assert "TABLESAMPLE BERNOULLI" in sampled_sql
    products = runtime.profiles.latest("model.shop.dim_products")
    assert products is not None and not products.sampled  # 50 rows: read whole


# Incremental sync ------------------------------------------------------------------------------------------


@pytest.fixture
def project_copy(tmp_path: Path, demo_data_dir: Path) -> tuple[Path, Path]:
    """A copy of the demo dbt project and of its DuckDB warehouse, free to change."""
    project = tmp_path / "project"
    shutil.copytree(DEMO_PROJECT_DIR, project)
    database = tmp_path / "shop.duckdb"
    shutil.copy(next(demo_data_dir.rglob("shop.duckdb")), database)
    return project, database


def test_sync_profiles_only_the_model_whose_checksum_or_columns_changed(
    make_runtime: Callable[..., Runtime], project_copy: tuple[Path, Path]
) -> None:
    project, database = project_copy
    runtime = make_runtime(dbt_project_dir=project, warehouse_url=f"duckdb:///{database}")
    first, _ = demo_sync(runtime)
    assert len(first.profiled) == DEMO_MODELS

    again, warehouse = demo_sync(runtime)
    assert again.profiled == [] and set(again.skipped.values()) == {"unchanged"}
    assert warehouse.data_statements() == []  # Only the column listings ran.

    manifest_file = project / "target" / "manifest.json"
    manifest = json.loads(manifest_file.read_text())
    manifest["nodes"]["model.shop.dim_products"]["checksum"]["checksum"] = "changed"
    manifest_file.write_text(json.dumps(manifest))
    changed, warehouse = demo_sync(runtime)
    assert changed.profiled == ["dim_products"] and len(warehouse.data_statements()) == 1

    runtime.close()  # Release the read-only connection before changing the file.
    with duckdb.connect(str(database)) as connection:
        connection.execute("ALTER TABLE main.daily_revenue ADD COLUMN note VARCHAR")
    widened, warehouse = demo_sync(runtime)
    assert widened.profiled == ["daily_revenue"] and len(warehouse.data_statements()) == 1
    daily = runtime.profiles.latest("model.shop.daily_revenue")
    assert daily is not None and daily.column("note") is not None and daily.column("note").null_fraction == 1  # type: ignore[union-attr]

    full, warehouse = demo_sync(runtime, full=True)
    assert len(full.profiled) == DEMO_MODELS == len(warehouse.data_statements())


def test_selection_follows_dbt_syntax_and_lineage() -> None:
    index = load_index(DEMO_PROJECT_DIR)
    nodes = index.nodes()

    def names(expression: str) -> set[str]:
        return {node.name for node in select_nodes(index, expression, nodes)}

    assert names("fct_orders") == {"fct_orders"}
    assert names("fct_orders+") == {"fct_orders", "daily_revenue", "dim_customers"}
    assert {"stg_orders", "stg_payments", "raw.raw_orders"} <= names("+fct_orders")
    assert "raw.raw_orders" not in names("1+fct_orders")
    assert names("tag:staging") == {n.name for n in nodes if n.name.startswith("stg_")}
    assert names("path:models/marts") == {n.name for n in nodes if n.path.startswith("models/marts/")}
    assert names("stg_orders dim_products") == {"stg_orders", "dim_products"}
    assert names("stg_*") == names("tag:staging")
    assert names("source:raw") == {n.name for n in nodes if n.resource_type == "source"}
    with pytest.raises(SelectionError, match="fct_ordrs"):
        names("fct_ordrs")
    with pytest.raises(SelectionError, match="not supported"):
        names("config:materialized")


def test_a_selected_sync_profiles_only_the_selection(make_runtime: Callable[..., Runtime]) -> None:
    runtime = make_runtime()
    warehouse = RecordingWarehouse(runtime.warehouse())
    summary = sync_profiles(runtime.index(), warehouse, runtime.profiles, OPTIONS, select="+dim_products")
    assert sorted(summary.profiled) == ["dim_products", "raw.raw_products", "stg_products"]
    assert len(warehouse.data_statements()) == 3


def test_a_model_missing_from_the_warehouse_is_skipped_and_a_failing_one_is_retried(
    make_runtime: Callable[..., Runtime], project_copy: tuple[Path, Path]
) -> None:
    project, database = project_copy
    with duckdb.connect(str(database)) as connection:
        connection.execute("DROP TABLE main.dim_products")
        # A view whose query fails when read: the profile query fails, the sync goes on.
        connection.execute(
            "CREATE OR REPLACE VIEW main.stg_products AS SELECT CAST('x' AS INTEGER) AS product_id"
        )
    runtime = make_runtime(dbt_project_dir=project, warehouse_url=f"duckdb:///{database}")
    summary, _ = demo_sync(runtime)
    assert "not in the warehouse" in summary.skipped["dim_products"]
    assert "stg_products" in summary.failed and "rejected" in summary.failed["stg_products"]
    assert len(summary.profiled) == DEMO_MODELS - 2
    again, warehouse = demo_sync(runtime)
    assert list(again.failed) == ["stg_products"] and len(warehouse.data_statements()) == 1


# Sensitivity -------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "meta", "table", "expected"),
    [
        ("email", None, None, True),
        ("customer_email_address", None, None, True),
        ("first_name", None, None, True),
        ("customerName", None, None, True),
        ("date_of_birth", None, None, True),
        ("dob", None, None, True),
        ("born_on", None, None, True),
        ("phone_number", None, None, True),
        ("ip_address", None, None, True),
        ("ssn", None, None, True),
        ("name", None, "dim_customers", True),
        ("name", None, "raw_products", False),
        ("product_name", None, None, False),
        ("status", None, None, False),
        ("shipping_method", None, None, False),
        ("notes", {"pii": True}, None, True),
        ("notes", {"sensitive": "true"}, None, True),
        ("notes", {"tags": ["PII"]}, None, True),
        ("notes", {"classification": "confidential"}, None, True),
        ("notes", {"pii": False}, None, False),
    ],
)
def test_is_sensitive(name: str, meta: dict[str, Any] | None, table: str | None, expected: bool) -> None:
    assert is_sensitive(name, meta, table=table) is expected


# PostgreSQL ---------------------------------------------------------------------------------------------------


def _postgres_project(tmp_path: Path, database: str) -> Path:
    """A minimal dbt project whose manifest describes two PostgreSQL tables."""
    project = tmp_path / "pg_project"
    (project / "target").mkdir(parents=True)
    (project / "dbt_project.yml").write_text("name: pgshop\nprofile: pgshop\n")

    def model(name: str, columns: dict[str, dict[str, Any]], depends: list[str]) -> dict[str, Any]:
        return {
            "resource_type": "model",
            "name": name,
            "database": database,
            "schema": "analytics",
            "alias": name,
            "relation_name": f'"{database}"."analytics"."{name}"',
            "original_file_path": f"models/{name}.sql",
            "config": {"materialized": "table"},
            "tags": [],
            "columns": columns,
            "checksum": {"name": "sha256", "checksum": name},
            "depends_on": {"nodes": depends},
        }

    manifest = {
        "metadata": {"project_name": "pgshop", "adapter_type": "postgres"},
        "nodes": {
            "model.pgshop.customers": model(
                "customers", {"contact": {"name": "contact", "meta": {"pii": True}}}, []
            ),
            "model.pgshop.orders": model("orders", {}, ["model.pgshop.customers"]),
            "model.pgshop.not_built": model("not_built", {}, []),
        },
        "sources": {},
    }
    (project / "target" / "manifest.json").write_text(json.dumps(manifest))
    return project


@pytest.fixture
def postgres_shop(postgres_url: str) -> Iterator[str]:
    engine = sa.create_engine(postgres_url)
    with engine.begin() as connection:
        connection.exec_driver_sql(
            "CREATE SCHEMA analytics;"
            "CREATE TABLE analytics.customers (id int, email text, contact text, country text, born date);"
            "INSERT INTO analytics.customers SELECT g, 'user' || g || '@example.com', 'Person ' || g, "
            "CASE WHEN mod(g, 3) = 0 THEN 'DE' ELSE 'US' END, DATE '1980-01-01' + g FROM generate_series(1, 300) g;"
            "CREATE TABLE analytics.orders (id bigint, customer_id int, amount numeric(10,2), status text, "
            "placed_at timestamp, refunded boolean);"
            "INSERT INTO analytics.orders SELECT g, mod(g, 300) + 1, g * 1.25, "
            "CASE WHEN mod(g, 10) = 0 THEN NULL WHEN mod(g, 4) = 0 THEN 'returned' ELSE 'completed' END, "
            "TIMESTAMP '2024-01-01' + g * INTERVAL '1 hour', mod(g, 7) = 0 FROM generate_series(1, 2000) g;"
            "ANALYZE analytics.orders; ANALYZE analytics.customers;"
        )
    engine.dispose()
    yield postgres_url


def test_postgres_models_are_profiled_with_one_query_each(postgres_shop: str, tmp_path: Path) -> None:
    url = sa.make_url(postgres_shop)
    project = _postgres_project(tmp_path, str(url.database))
    index = load_index(project)
    store_engine = create_store_engine(f"sqlite:///{tmp_path / 'store.db'}")
    upgrade_database(store_engine)
    store = ProfileStore(store_engine)
    warehouse = RecordingWarehouse(SqlAlchemyWarehouse(url, dialect=POSTGRES, setting_name="test"))
    try:
        summary = sync_profiles(index, warehouse, store, OPTIONS)
        assert sorted(summary.profiled) == ["customers", "orders"]
        assert "not in the warehouse" in summary.skipped["not_built"]
        assert len(warehouse.data_statements()) == 2 and summary.metadata_queries == 1
        orders = store.latest("model.pgshop.orders")
        assert orders is not None and orders.row_count == 2000 and not orders.sampled
        status = orders.column("status")
        assert status is not None and status.null_fraction == pytest.approx(0.1)
        assert [(t.value, t.count) for t in status.top_values] == [("completed", 1400), ("returned", 400)]
        amount = orders.column("amount")
        assert amount is not None and (amount.min, amount.max, amount.distinct_count) == (1.25, 2500, 2000)
        refunded = orders.column("refunded")
        assert refunded is not None and [t.value for t in refunded.top_values] == [False, True]
        placed = orders.column("placed_at")
        assert placed is not None and str(placed.min).startswith("2024-01-01T01:00")

        customers = store.latest("model.pgshop.customers")
        assert customers is not None and customers.row_count == 300
        for name in ("email", "contact", "born"):  # by name, by dbt meta (pii: true), by name again
            column = customers.column(name)
            assert column is not None and column.sensitive and (column.min, column.max) == (None, None)
        assert "@" not in json.dumps({n: c.to_json() for n, c in customers.columns.items()})
        assert "Person" not in json.dumps({n: c.to_json() for n, c in customers.columns.items()})
        country = customers.column("country")
        assert country is not None and [(t.value, t.count) for t in country.top_values] == [
            ("US", 200),
            ("DE", 100),
        ]

        # Sampling on PostgreSQL: the catalog's row estimate (ANALYZE) decides, the count stays exact.
        sampled = sync_profiles(
            index, warehouse, store, ProfileOptions(sample_rows=1_000, timeout_seconds=30, full=True)
        )
        assert not sampled.failed
        orders = store.latest("model.pgshop.orders")
        assert orders is not None and orders.sampled and orders.row_count == 2000
        orders_sql = next(sql for sql in reversed(warehouse.data_statements()) if '"orders"' in sql)
        assert "TABLESAMPLE SYSTEM" in orders_sql and "REPEATABLE" in orders_sql
    finally:
        warehouse.close()
        store_engine.dispose()


# BigQuery (fake) ------------------------------------------------------------------------------------------------


@pytest.fixture
def bigquery_demo(demo_data_dir: Path) -> Iterator[FakeBigQuery]:
    """The demo warehouse loaded into the fake BigQuery, each dbt schema a dataset, with its INFORMATION_SCHEMA."""
    fake = FakeBigQuery(bytes_processed=_bytes_of)
    load_demo_into_fake_bigquery(fake, next(demo_data_dir.rglob("shop.duckdb")))
    with fake.serving():
        yield fake


def _bytes_of(sql: str) -> int:
    """40 GB for a model read whole, 1 MB on a sample, 10 MB for a column listing."""
    if "INFORMATION_SCHEMA" in sql:
        return 10 * 10**6
    return 10**6 if "TABLESAMPLE" in sql else 40 * 10**9


def test_bigquery_profiles_fit_the_byte_cap_by_sampling(bigquery_demo: FakeBigQuery) -> None:
    index = load_index(DEMO_PROJECT_DIR)
    target = BigQueryTarget(project=PROJECT, source="the test profile", dataset="main", api_endpoint=ENDPOINT)
    cap = 10 * 10**9
    warehouse = RecordingWarehouse(BigQueryWarehouse(target, max_bytes_scanned=cap))
    store_engine = create_store_engine("sqlite://")
    upgrade_database(store_engine)
    store = ProfileStore(store_engine)
    options = ProfileOptions(sample_rows=1_000_000, timeout_seconds=30, max_bytes_scanned=cap)
    summary = sync_profiles(index, warehouse, store, options, select="fct_orders dim_customers")
    assert sorted(summary.profiled) == ["dim_customers", "fct_orders"], summary.failed
    assert len(warehouse.data_statements()) == 2 and summary.dry_runs == 2
    # Each full query would scan 40 GB, over the 10 GB cap: each ran on a sample, billed 1 MB.
    assert all("TABLESAMPLE SYSTEM" in sql for sql in warehouse.data_statements())
    assert summary.bytes_scanned == 2 * 10**6
    orders = store.latest("model.shop.fct_orders")
    assert orders is not None and orders.sampled and orders.sample_percent == pytest.approx(22.5)
    assert orders.bytes_scanned == 10**6 and orders.row_count == 88432  # exact: the count reads no sample
    assert "APPROX_TOP_COUNT" in next(s for s in bigquery_demo.statements if "fct_orders" in s)
    store_engine.dispose()
