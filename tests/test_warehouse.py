"""Warehouse connectors on real DuckDB and PostgreSQL: read-only, capped, timed, and clear when they fail."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import duckdb
import pytest
import sqlalchemy as sa
from pydantic import SecretStr

from agent.settings import Settings
from agent.tool_config import tool_limits, warehouse_config
from tests.test_sql_guard import REFUSED
from tools.errors import ToolInputError, WarehouseError
from tools.registry import ToolContext
from tools.results import ResultStore
from tools.run_query import RunQueryInput, run_query
from tools.warehouse.factory import build_warehouse
from tools.warehouse.row_cap import capped_sql
from tools.warehouse.sqlalchemy_warehouse import SqlAlchemyWarehouse


@pytest.fixture
def duckdb_file(tmp_path: Path) -> Path:
    path = tmp_path / "wh.duckdb"
    with duckdb.connect(str(path)) as connection:
        connection.execute(
            "CREATE TABLE orders AS SELECT range AS id, range * 1.5 AS amount FROM range(5000)"
        )
    return path


@pytest.fixture
def postgres_warehouse_url(postgres_url: str) -> str:
    engine = sa.create_engine(postgres_url)
    with engine.begin() as connection:
        connection.exec_driver_sql(
            "CREATE TABLE orders AS SELECT g AS id, g * 1.5 AS amount FROM generate_series(0, 4999) AS g"
        )
    engine.dispose()
    return postgres_url


def warehouse_for(url: str) -> SqlAlchemyWarehouse:
    settings = Settings.model_validate({"warehouse_url": url}, by_name=True)
    warehouse = build_warehouse(warehouse_config(settings), None)
    assert isinstance(warehouse, SqlAlchemyWarehouse)
    return warehouse


@pytest.fixture(params=["duckdb", "postgres"])
def warehouse_url(request: pytest.FixtureRequest, duckdb_file: Path) -> str:
    if request.param == "duckdb":
        return f"duckdb:///{duckdb_file}"
    return str(request.getfixturevalue("postgres_warehouse_url"))


def test_rows_are_capped_and_flagged(warehouse_url: str) -> None:
    warehouse = warehouse_for(warehouse_url)
    result = warehouse.execute_readonly(
        "SELECT id, amount FROM orders ORDER BY id", max_rows=100, timeout_seconds=10
    )
    assert len(result.rows) == 100 and result.truncated
    assert result.rows[0][0] == 0 and result.rows[99][0] == 99
    assert [c.name for c in result.columns] == ["id", "amount"]
    small = warehouse.execute_readonly("SELECT count(*) AS n FROM orders", max_rows=100, timeout_seconds=10)
    assert small.rows == [[5000]] and not small.truncated
    warehouse.close()


def test_the_connection_itself_refuses_writes(warehouse_url: str) -> None:
    warehouse = warehouse_for(warehouse_url)
    with pytest.raises(ToolInputError, match=r"(?i)read.only|cannot execute"):
        warehouse.execute_readonly("INSERT INTO orders VALUES (1, 2)", max_rows=10, timeout_seconds=10)
    count = warehouse.execute_readonly("SELECT count(*) FROM orders", max_rows=1, timeout_seconds=10)
    assert count.rows == [[5000]]
    warehouse.close()


def test_a_slow_query_is_stopped_with_advice(warehouse_url: str) -> None:
    warehouse = warehouse_for(warehouse_url)
    slow = (
        "SELECT count(*) FROM orders a, orders b, orders c WHERE (a.id * 7 + b.id * 13 + c.id) % 1000003 = 17"
    )
    with pytest.raises(ToolInputError, match=r"longer than 0.2 s"):
        warehouse.execute_readonly(slow, max_rows=10, timeout_seconds=0.2)
    warehouse.close()


def test_sql_errors_carry_the_warehouse_message(warehouse_url: str) -> None:
    warehouse = warehouse_for(warehouse_url)
    with pytest.raises(ToolInputError, match="revnue"):
        warehouse.execute_readonly("SELECT revnue FROM orders", max_rows=10, timeout_seconds=10)
    warehouse.close()


def test_refused_statements_never_reach_the_warehouse_and_data_is_unchanged(
    warehouse_url: str, make_settings: Callable[..., Settings]
) -> None:
    warehouse = warehouse_for(warehouse_url)
    dialect = warehouse.dialect.sqlglot_name
    checksum = "SELECT count(*), sum(amount) FROM orders"
    before = warehouse.execute_readonly(checksum, max_rows=1, timeout_seconds=10).rows

    class NoSchema:
        def relations(self) -> list[object]:
            return []

        def known_tables(self) -> list[object]:
            return []

    context = ToolContext(
        limits=tool_limits(make_settings()),
        warehouse_provider=lambda: warehouse,
        dbt_provider=lambda: NoSchema(),  # type: ignore[arg-type, return-value]
        results=ResultStore(),
        artifacts=None,  # type: ignore[arg-type]
    )
    for statement_dialect, sql, _reason in REFUSED:
        if sql.strip(" ;") and statement_dialect in {dialect, "duckdb"}:
            with pytest.raises(ToolInputError):
                run_query(context, RunQueryInput(sql=sql.replace(" t ", " orders ")))
    assert warehouse.execute_readonly(checksum, max_rows=1, timeout_seconds=10).rows == before
    warehouse.close()


def test_row_cap_changes_the_tree_not_the_text() -> None:
    assert capped_sql("SELECT a FROM t ORDER BY a", "duckdb", 11) == "SELECT a FROM t ORDER BY a LIMIT 11"
    assert capped_sql("SELECT a FROM t LIMIT 5", "duckdb", 11) == "SELECT a FROM t LIMIT 5"
    assert capped_sql("SELECT a FROM t LIMIT 500", "postgres", 11) == "SELECT a FROM t LIMIT 11"
    wrapped = capped_sql("SELECT 1 UNION ALL SELECT 2", "duckdb", 11)
    assert wrapped.startswith("SELECT * FROM (SELECT 1 UNION ALL SELECT 2) AS _bp_rows LIMIT 11")


def test_unreachable_postgres_names_the_setting() -> None:
    warehouse = warehouse_for("postgresql://reader:s3cret-pass@127.0.0.1:1/analytics")
    with pytest.raises(WarehouseError) as failure:
        warehouse.execute_readonly("SELECT 1", max_rows=1, timeout_seconds=5)
    assert "BLUEPRINTDATA_WAREHOUSE_URL" in failure.value.message
    assert "s3cret-pass" not in failure.value.message


def test_missing_duckdb_file_is_a_warehouse_error(tmp_path: Path) -> None:
    warehouse = warehouse_for(f"duckdb:///{tmp_path / 'missing.duckdb'}")
    with pytest.raises(WarehouseError, match="Cannot connect"):
        warehouse.execute_readonly("SELECT 1", max_rows=1, timeout_seconds=5)


@pytest.mark.parametrize("url", ["not a url", "mysql://x@y/z"])
def test_bad_warehouse_url_is_explained(url: str) -> None:
    settings = Settings.model_validate({"warehouse_url": url}, by_name=True)
    with pytest.raises(WarehouseError, match="BLUEPRINTDATA_WAREHOUSE_URL"):
        build_warehouse(warehouse_config(settings), None)


def write_project(folder: Path, profile: str) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "dbt_project.yml").write_text("name: p\nprofile: analytics\n")
    (folder / "profiles.yml").write_text(profile)


def test_the_dbt_profile_is_read_like_dbt_reads_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, duckdb_file: Path
) -> None:
    project = tmp_path / "project"
    write_project(
        project,
        "analytics:\n  target: dev\n  outputs:\n"
        "    dev:\n      type: duckdb\n      path: \"{{ env_var('WH_PATH') }}\"\n"
        "    prod:\n      type: postgres\n      host: 127.0.0.1\n      port: 1\n      user: reader\n"
        "      password: \"{{ env_var('WH_PASSWORD', 'default-pw') }}\"\n      dbname: analytics\n      schema: marts\n",
    )
    monkeypatch.setenv("WH_PATH", str(duckdb_file))
    warehouse = build_warehouse(warehouse_config(Settings.model_validate({}, by_name=True)), project)
    assert warehouse.dialect.name == "duckdb"
    assert warehouse.execute_readonly("SELECT count(*) FROM orders", max_rows=1, timeout_seconds=5).rows == [
        [5000]
    ]
    prod = build_warehouse(
        warehouse_config(Settings.model_validate({"dbt_target": "prod"}, by_name=True)), project
    )
    assert prod.dialect.name == "postgres"
    with pytest.raises(WarehouseError) as failure:
        prod.execute_readonly("SELECT 1", max_rows=1, timeout_seconds=5)
    assert "dbt profile" in failure.value.message and "default-pw" not in failure.value.message


def test_profile_problems_are_explained(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    project = tmp_path / "project"
    write_project(
        project,
        "analytics:\n  target: dev\n  outputs:\n    dev:\n      type: duckdb\n      path: \"{{ env_var('NOPE_NOT_SET') }}\"\n",
    )
    monkeypatch.delenv("NOPE_NOT_SET", raising=False)
    with pytest.raises(WarehouseError, match="NOPE_NOT_SET"):
        build_warehouse(warehouse_config(Settings.model_validate({}, by_name=True)), project)
    monkeypatch.setenv("NOPE_NOT_SET", "x.duckdb")
    with pytest.raises(WarehouseError, match="BLUEPRINTDATA_DBT_TARGET"):
        build_warehouse(
            warehouse_config(Settings.model_validate({"dbt_target": "prod"}, by_name=True)), project
        )
    (project / "profiles.yml").unlink()
    monkeypatch.setenv("HOME", str(tmp_path))
    with pytest.raises(WarehouseError, match=r"No profiles.yml"):
        build_warehouse(warehouse_config(Settings.model_validate({}, by_name=True)), project)


def test_secrets_stay_out_of_settings_errors() -> None:
    settings = Settings.model_validate({"warehouse_url": "postgresql://u:pw@h/db"}, by_name=True)
    assert "pw" not in repr(settings.warehouse_url)
    assert isinstance(settings.warehouse_url, SecretStr)


def test_a_huge_result_is_never_read_whole(warehouse_url: str) -> None:
    warehouse = warehouse_for(warehouse_url)
    huge = "SELECT a.id, b.amount, c.id AS c_id FROM orders a, orders b, orders c"
    # 125 billion rows: reading them whole would take far past the time limit; the cap stops at 11.
    result = warehouse.execute_readonly(huge, max_rows=10, timeout_seconds=10)
    assert len(result.rows) == 10 and result.truncated
    assert warehouse.estimate_bytes(huge) is None  # Only BigQuery knows what a query would scan.
    warehouse.close()


def test_duckdb_connection_cannot_read_files_even_past_the_guard(duckdb_file: Path, tmp_path: Path) -> None:
    secret = tmp_path / "secret.csv"
    secret.write_text("token\nabc123\n")
    warehouse = warehouse_for(f"duckdb:///{duckdb_file}")
    # Straight to the connector, as if the SQL guard had missed it.
    with pytest.raises(ToolInputError) as refused:
        warehouse.execute_readonly(f"SELECT * FROM read_csv('{secret}')", max_rows=5, timeout_seconds=5)
    assert "disabled by configuration" in refused.value.message and "abc123" not in refused.value.message
    warehouse.close()


@pytest.mark.parametrize("share_rows", [True, False])
def test_result_rows_reach_the_model_only_when_allowed(
    duckdb_file: Path, make_settings: Callable[..., Settings], share_rows: bool
) -> None:
    warehouse = warehouse_for(f"duckdb:///{duckdb_file}")

    class NoSchema:
        def relations(self) -> list[object]:
            return []

        def known_tables(self) -> list[object]:
            return []

    context = ToolContext(
        limits=tool_limits(make_settings(send_result_rows_to_model=share_rows)),
        warehouse_provider=lambda: warehouse,
        dbt_provider=lambda: NoSchema(),  # type: ignore[arg-type, return-value]
        results=ResultStore(),
        artifacts=None,  # type: ignore[arg-type]
    )
    output = run_query(
        context, RunQueryInput(sql="SELECT id, amount * 1000003 AS marker FROM orders ORDER BY id")
    )
    assert "columns: id BIGINT, marker" in output.content and "rows: 5000" in output.content
    assert ("1500004.5" in output.content) is share_rows  # Row 1's marker value.
    assert ("<query_result>" in output.content) is share_rows
    assert output.table is not None and output.table.row_count == 5000  # The user still gets every row.
    assert "scanned" not in output.summary  # DuckDB reports no bytes.
    warehouse.close()
