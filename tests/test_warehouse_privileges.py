"""Least privilege at start: a warehouse user that may write or administer is refused (PostgreSQL) or warned
about (BigQuery), through the real drivers; a read-only one made with the SQL the refusal gives is accepted."""

from __future__ import annotations

import json
import logging
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
import sqlalchemy as sa

from agent.events import EventList, TurnFailed
from agent.runtime import Runtime, check_project
from agent.settings import Settings
from tests.fakes.bigquery_api import ENDPOINT, PROJECT, FakeBigQuery
from tests.postgres_roles import read_only_role
from tools.warehouse.privileges import PrivilegedWarehouseUserError

_TABLES = (
    "CREATE SCHEMA analytics; CREATE TABLE analytics.orders AS SELECT g AS id FROM generate_series(1, 5) g;"
)


def _project(tmp_path: Path, adapter: str, database: str, schema: str) -> Path:
    project = tmp_path / "project"
    (project / "target").mkdir(parents=True)
    (project / "dbt_project.yml").write_text("name: shop\nprofile: shop\n")
    node = {
        "resource_type": "model",
        "name": "orders",
        "database": database,
        "schema": schema,
        "alias": "orders",
        "relation_name": f"{database}.{schema}.orders",
        "columns": {"id": {"name": "id"}},
        "config": {"materialized": "table"},
        "depends_on": {"nodes": []},
    }
    manifest = {
        "metadata": {"project_name": "shop", "adapter_type": adapter},
        "nodes": {"model.shop.orders": node},
        "sources": {},
    }
    (project / "target" / "manifest.json").write_text(json.dumps(manifest))
    return project


@pytest.fixture
def bigquery_fake() -> Iterator[FakeBigQuery]:
    """The fake BigQuery API, answering the real client for one test."""
    fake = FakeBigQuery()
    with fake.serving():
        yield fake


@pytest.fixture
def shop_url(postgres_url: str) -> str:
    engine = sa.create_engine(postgres_url)
    with engine.begin() as connection:
        connection.exec_driver_sql(_TABLES)
    engine.dispose()
    return postgres_url


@contextmanager
def login_role(admin_url: str, *grants: str) -> Iterator[str]:
    """A plain login role given `grants` ({role} stands for its name); its URL; dropped afterwards."""
    role = f"bp_role_{uuid.uuid4().hex[:10]}"
    admin = sa.create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.exec_driver_sql(f'CREATE ROLE "{role}" LOGIN')
        for grant in ("GRANT USAGE ON SCHEMA analytics TO {role}", *grants):
            connection.exec_driver_sql(grant.format(role=f'"{role}"'))
    try:
        yield sa.make_url(admin_url).set(username=role).render_as_string(hide_password=False)
    finally:
        with admin.connect() as connection:
            connection.exec_driver_sql(
                f"SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = '{role}'"
            )
            connection.exec_driver_sql(f'REASSIGN OWNED BY "{role}" TO CURRENT_USER')
            connection.exec_driver_sql(f'DROP OWNED BY "{role}"')
            connection.exec_driver_sql(f'DROP ROLE "{role}"')
        admin.dispose()


def _postgres_runtime(
    make_runtime: Callable[..., Runtime], tmp_path: Path, url: str, **settings: object
) -> Runtime:
    database = str(sa.make_url(url).database)
    project = _project(tmp_path, "postgres", database, "analytics")
    return make_runtime(dbt_project_dir=project, warehouse_url=url, **settings)


@pytest.mark.postgres
def test_a_superuser_is_refused_with_the_sql_of_a_read_only_role(
    shop_url: str, tmp_path: Path, make_runtime: Callable[..., Runtime]
) -> None:
    runtime = _postgres_runtime(make_runtime, tmp_path, shop_url)
    session = runtime.store.open_session(source="cli").id
    events = EventList()
    runtime.agent().handle(session, "/sql SELECT count(*) FROM analytics.orders", events)
    failed = events.of_type(TurnFailed)
    assert len(failed) == 1
    headline, _, remedy = failed[0].message.partition("\n")  # type: ignore[union-attr]
    assert "The postgres warehouse user 'postgres' is a superuser." in headline
    assert "BLUEPRINTDATA_ALLOW_PRIVILEGED_WAREHOUSE_USER=true" in headline
    assert 'CREATE ROLE "blueprintdata_reader" LOGIN' in remedy
    assert 'GRANT SELECT ON ALL TABLES IN SCHEMA "analytics" TO "blueprintdata_reader";' in remedy
    # `init` checks the same before it writes anything.
    settings = Settings.model_validate({"warehouse_url": shop_url}, by_name=True)
    with pytest.raises(PrivilegedWarehouseUserError, match="is a superuser"):
        check_project(settings, runtime.project_dir)


@pytest.mark.postgres
def test_the_read_only_role_made_from_that_sql_is_accepted(
    shop_url: str, tmp_path: Path, make_runtime: Callable[..., Runtime]
) -> None:
    with read_only_role(shop_url, ["analytics"]) as reader_url:
        runtime = _postgres_runtime(make_runtime, tmp_path, reader_url)
        result = runtime.warehouse().execute_readonly(
            "SELECT count(*) FROM analytics.orders", max_rows=1, timeout_seconds=10
        )
        assert result.rows == [[5]]
        check_project(
            Settings.model_validate({"warehouse_url": reader_url}, by_name=True), runtime.project_dir
        )
        runtime.close()


@pytest.mark.postgres
@pytest.mark.parametrize(
    ("grants", "problem"),
    [
        (["GRANT CREATE ON SCHEMA analytics TO {role}"], "can create objects in schema analytics"),
        (
            ["GRANT SELECT, INSERT ON analytics.orders TO {role}"],
            "can change or drop tables in schema analytics",
        ),
        (["ALTER TABLE analytics.orders OWNER TO {role}"], "can change or drop tables in schema analytics"),
        (["GRANT pg_signal_backend TO {role}"], "is a member of pg_signal_backend"),
        (["GRANT pg_write_server_files TO {role}"], "is a member of pg_write_server_files"),
        (["GRANT pg_execute_server_program TO {role}"], "is a member of pg_execute_server_program"),
        (["ALTER ROLE {role} REPLICATION"], "has the REPLICATION attribute"),
    ],
)
def test_each_privilege_beyond_reading_is_refused(
    shop_url: str, tmp_path: Path, make_runtime: Callable[..., Runtime], grants: list[str], problem: str
) -> None:
    with login_role(shop_url, "GRANT SELECT ON analytics.orders TO {role}", *grants) as url:
        runtime = _postgres_runtime(make_runtime, tmp_path, url)
        with pytest.raises(PrivilegedWarehouseUserError) as refused:
            runtime.warehouse()
        assert problem in refused.value.message.splitlines()[0]
        runtime.close()


@pytest.mark.postgres
def test_the_setting_accepts_a_privileged_user_with_a_warning(
    shop_url: str, tmp_path: Path, make_runtime: Callable[..., Runtime], caplog: pytest.LogCaptureFixture
) -> None:
    runtime = _postgres_runtime(make_runtime, tmp_path, shop_url, allow_privileged_warehouse_user=True)
    with caplog.at_level(logging.WARNING, logger="tools.warehouse.privileges"):
        warehouse = runtime.warehouse()
        runtime.warehouse()  # Checked once per process, not per query.
    warnings = [record.getMessage() for record in caplog.records]
    assert len(warnings) == 1 and "is a superuser" in warnings[0] and "allowed by" in warnings[0]
    assert warehouse.execute_readonly("SELECT 1", max_rows=1, timeout_seconds=5).rows == [[1]]


@pytest.fixture
def bigquery(bigquery_fake: FakeBigQuery, tmp_path: Path, make_runtime: Callable[..., Runtime]) -> Runtime:
    bigquery_fake.execute("CREATE SCHEMA shop; CREATE TABLE shop.orders AS SELECT 1 AS id")
    return make_runtime(
        dbt_project_dir=_project(tmp_path, "bigquery", PROJECT, "shop"),
        warehouse_url=f"bigquery://{PROJECT}/shop",
        bigquery_api_endpoint=ENDPOINT,
    )


@pytest.mark.parametrize("can_write", [True, False])
def test_bigquery_credentials_that_can_write_are_warned_about(
    bigquery: Runtime, bigquery_fake: FakeBigQuery, caplog: pytest.LogCaptureFixture, can_write: bool
) -> None:
    if can_write:
        bigquery_fake.grant("bigquery.tables.updateData", "bigquery.tables.delete")
    with caplog.at_level(logging.WARNING, logger="tools.warehouse.privileges"):
        warehouse = bigquery.warehouse()
    warnings = [record.getMessage() for record in caplog.records]
    if can_write:
        assert len(warnings) == 1
        assert f"can write to dataset {PROJECT}.shop" in warnings[0]
        assert "bigquery.tables.delete" in warnings[0] and "roles/bigquery.dataViewer" in warnings[0]
    else:
        assert warnings == []
    # A warning, not a refusal: queries still run, each dry-run and refused unless a SELECT.
    assert warehouse.execute_readonly("SELECT id FROM orders", max_rows=5, timeout_seconds=10).rows == [[1]]


def test_duckdb_needs_no_check_and_cannot_write(make_runtime: Callable[..., Runtime]) -> None:
    runtime = make_runtime()  # The demo's DuckDB file, opened read-only.
    warehouse = runtime.warehouse()
    assert warehouse.dialect.check_privileges(warehouse, []).problems == ()
    session = runtime.store.open_session(source="cli").id
    events = EventList()
    runtime.agent().handle(session, "/sql SELECT count(*) FROM main.fct_orders", events)
    assert not events.of_type(TurnFailed)
