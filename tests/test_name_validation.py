"""Names checked against the warehouse's own listing when the dbt catalog does not list a query's columns:
one listing query per schema, kept; wrong names refused before running, right ones run."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import duckdb
import pytest

from agent.settings import Settings
from agent.tool_config import tool_limits, warehouse_config
from tests.test_dbt_index import write_project
from tools.dbt.index import load_index
from tools.errors import ToolInputError
from tools.name_validation import LISTINGS
from tools.registry import ToolContext
from tools.results import ResultStore
from tools.run_query import RunQueryInput, run_query
from tools.warehouse.factory import build_warehouse


@pytest.fixture
def context(tmp_path: Path, make_settings: Callable[..., Settings]) -> ToolContext:
    path = tmp_path / "wh.duckdb"
    with duckdb.connect(str(path)) as connection:
        connection.execute("CREATE SCHEMA shop")
        connection.execute(
            "CREATE TABLE shop.orders AS SELECT range AS id, range * 1.5 AS amount FROM range(50)"
        )
    # A project without catalog.json: the index knows no columns, so the warehouse's listing is asked.
    index = load_index(write_project(tmp_path / "p", {"orders": {"description": "Orders"}}))
    settings = Settings.model_validate({"warehouse_url": f"duckdb:///{path}"}, by_name=True)
    warehouse = build_warehouse(warehouse_config(settings), None)
    return ToolContext(
        limits=tool_limits(make_settings()),
        warehouse_provider=lambda: warehouse,
        dbt_provider=lambda: index,
        results=ResultStore(),
        artifacts=None,  # type: ignore[arg-type]
    )


def test_wrong_names_are_refused_from_the_warehouse_listing(context: ToolContext) -> None:
    with pytest.raises(
        ToolInputError, match=r"column amont not found .*listing of shop.*did you mean amount\?$"
    ):
        run_query(context, RunQueryInput(sql="SELECT amont FROM shop.orders"))
    with pytest.raises(ToolInputError, match=r"table shop.order not found.*did you mean orders"):
        run_query(context, RunQueryInput(sql="SELECT amount FROM shop.order"))


def test_right_names_run_and_the_listing_is_kept(context: ToolContext) -> None:
    output = run_query(context, RunQueryInput(sql="SELECT SUM(amount) AS total FROM shop.orders"))
    assert output.rows == 1
    listed = LISTINGS.tables(context.warehouse, None, "shop", 10.0)
    assert listed is LISTINGS.tables(context.warehouse, None, "shop", 10.0)
    assert [(t.identifier, t.columns) for t in listed] == [("orders", ("id", "amount"))]
