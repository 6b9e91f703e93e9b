"""The dbt index: artifacts read with clear errors, keys and lineage, search, and reload without restart."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path
from typing import Any

import pytest

from agent.settings import Settings
from agent.tool_config import tool_limits
from demo.load import DEMO_PROJECT_DIR
from tools.dbt.index import DbtIndexProvider, load_index
from tools.dbt.tokenize import tokens
from tools.describe_model import DescribeModelInput, describe_model
from tools.errors import DbtArtifactError, ToolInputError
from tools.registry import ToolContext
from tools.results import ResultStore
from tools.search_models import SearchModelsInput, search_models


def manifest(models: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """A minimal manifest: each model with a description and documented columns."""
    nodes = {}
    for name, spec in models.items():
        nodes[f"model.p.{name}"] = {
            "resource_type": "model",
            "name": name,
            "description": spec.get("description", ""),
            "relation_name": f'"db"."main"."{name}"',
            "database": "db",
            "schema": "main",
            "alias": name,
            "config": {"materialized": "table"},
            "tags": spec.get("tags", []),
            "original_file_path": f"models/{name}.sql",
            "columns": {c: {"name": c, "description": d} for c, d in spec.get("columns", {}).items()},
            "checksum": {"checksum": spec.get("checksum", name)},
            "depends_on": {"nodes": [f"model.p.{d}" for d in spec.get("depends_on", [])]},
        }
    return {"metadata": {"project_name": "p", "adapter_type": "postgres"}, "nodes": nodes, "sources": {}}


def write_project(folder: Path, models: dict[str, dict[str, Any]]) -> Path:
    (folder / "target").mkdir(parents=True, exist_ok=True)
    (folder / "dbt_project.yml").write_text("name: p\nprofile: p\n")
    (folder / "target" / "manifest.json").write_text(json.dumps(manifest(models)))
    return folder


def test_missing_manifest_names_the_dbt_command(tmp_path: Path) -> None:
    (tmp_path / "dbt_project.yml").write_text("name: p\n")
    with pytest.raises(DbtArtifactError, match="Run `dbt parse`"):
        load_index(tmp_path)


def test_a_folder_that_is_no_dbt_project_says_so(tmp_path: Path) -> None:
    with pytest.raises(DbtArtifactError, match="is it a dbt project"):
        load_index(tmp_path)
    with pytest.raises(DbtArtifactError, match="does not exist"):
        load_index(tmp_path / "missing")


def test_corrupt_manifest_points_at_the_position_and_the_fix(tmp_path: Path) -> None:
    project = write_project(tmp_path, {"a": {}})
    (project / "target" / "manifest.json").write_text('{"nodes": {"x": ')
    with pytest.raises(DbtArtifactError, match=r"not valid JSON \(line 1.*dbt parse"):
        load_index(project)
    (project / "target" / "manifest.json").write_text('["not", "a", "manifest"]')
    with pytest.raises(DbtArtifactError, match="not a dbt artifact"):
        load_index(project)


def test_a_field_of_the_wrong_type_names_the_file_and_where_it_is_and_the_rest_loads(tmp_path: Path) -> None:
    project = write_project(tmp_path, {"a": {}, "b": {}})
    broken = manifest({"a": {}, "b": {}})
    broken["nodes"]["model.p.a"]["columns"] = ["id"]
    (project / "target" / "manifest.json").write_text(json.dumps(broken))
    index = load_index(project)
    assert any("manifest.json" in warning and "columns" in warning for warning in index.warnings)
    assert index.resolve("b").name == "b"


def test_fields_the_index_does_not_read_are_skipped_whatever_their_shape(tmp_path: Path) -> None:
    project = write_project(tmp_path, {"orders": {"description": "Orders", "columns": {"id": "key"}}})
    extended = manifest({"orders": {"description": "Orders", "columns": {"id": "key"}}})
    extended["nodes"]["model.p.orders"] |= {
        "compiled_code": None,
        "config": {"materialized": "table", "x": [1]},
    }
    extended["macros"] = {"macro.p.m": {"anything": [1, {"deep": True}]}}
    (project / "target" / "manifest.json").write_text(json.dumps(extended))
    orders = load_index(project).resolve("orders")
    assert orders.materialization == "table" and [c.name for c in orders.columns] == ["id"]


def test_missing_catalog_is_a_warning_naming_docs_generate(tmp_path: Path) -> None:
    index = load_index(write_project(tmp_path, {"a": {"columns": {"id": "key"}}}))
    assert any("dbt docs generate" in warning for warning in index.warnings)
    assert "dbt docs generate" in index.overview().to_prompt_text()


def test_demo_keys_joins_lineage_types_and_metrics() -> None:
    index = load_index(DEMO_PROJECT_DIR)
    orders = index.resolve("fct_orders")
    assert orders.unique_keys == ("order_id",)
    assert "customer_id" in orders.not_null_columns
    assert [(j.column, j.to_node, j.to_column) for j in orders.joins] == [
        ("customer_id", "dim_customers", "customer_id")
    ]
    assert {n.name for n in index.upstream(orders)} == {"stg_orders", "stg_order_items", "stg_payments"}
    assert {n.name for n in index.downstream(orders)} == {"daily_revenue", "dim_customers"}
    assert orders.column("order_date") is not None and orders.column("order_date").data_type == "DATE"  # type: ignore[union-attr]
    assert index.find('"shop"."main"."fct_orders"') is orders
    assert {m.name for m in index.metrics()} >= {
        "revenue",
        "order_count",
        "new_customers",
        "average_order_value",
    }
    assert index.find_metric("average_order_value").definition == "revenue / order_count"  # type: ignore[union-attr]
    overview = index.overview().to_prompt_text()
    assert "fct_orders" in overview and "revenue" in overview and len(overview) < 2_000


def test_tokens_understand_snake_case_camel_case_and_plurals() -> None:
    assert tokens("fct_order_items") == ["fct", "order", "item"]
    assert tokens("customerLifetimeValue") == ["customer", "lifetime", "value"]
    assert tokens("What are the categories with most boxes?") == ["category", "box"]


@pytest.mark.parametrize(
    ("question", "expected"),
    [
        ("revenue by day", "daily_revenue"),
        ("revenue by product category", "fct_order_items"),
        ("customers by country", "dim_customers"),
        ("order items quantity", "fct_order_items"),
        ("dim_products", "dim_products"),
    ],
)
def test_search_ranks_the_right_model_first(question: str, expected: str) -> None:
    hits = load_index(DEMO_PROJECT_DIR).search(question, 3)
    assert hits[0].node.name == expected, [h.node.name for h in hits]


def test_search_without_matches_is_empty() -> None:
    assert load_index(DEMO_PROJECT_DIR).search("zzz qqq", 5) == []


def test_the_index_reloads_when_the_manifest_changes(tmp_path: Path) -> None:
    project = write_project(tmp_path, {"orders": {"description": "Orders."}})
    provider = DbtIndexProvider(project)
    assert provider.current().find("orders") is not None
    assert provider.current() is provider.current()
    write_project(tmp_path, {"orders": {}, "refunds": {"description": "Refunds by day."}})
    path = project / "target" / "manifest.json"
    os.utime(path, ns=(path.stat().st_atime_ns, path.stat().st_mtime_ns + 1_000_000))
    assert provider.current().find("refunds") is not None
    path.write_text("{broken")
    assert provider.current().find("refunds") is not None  # a broken rewrite keeps the last good index


def context_for(project: Path) -> ToolContext:
    provider = DbtIndexProvider(project)
    return ToolContext(
        limits=tool_limits(Settings()),
        warehouse_provider=lambda: None,  # type: ignore[arg-type, return-value]
        dbt_provider=provider.current,
        results=ResultStore(),
        artifacts=None,  # type: ignore[arg-type]
    )


def test_search_models_tool_lists_relations_and_key_columns() -> None:
    output = search_models(context_for(DEMO_PROJECT_DIR), SearchModelsInput(query="revenue by day", limit=3))
    assert output.content.splitlines()[1].startswith("- daily_revenue [model]")
    assert '"shop"."main"."daily_revenue"' in output.content and "order_date" in output.content


def test_describe_model_tool_and_its_errors(tmp_path: Path) -> None:
    context = context_for(DEMO_PROJECT_DIR)
    text = describe_model(context, DescribeModelInput(name="fct_orders")).content
    assert 'Query it as: "shop"."main"."fct_orders"' in text
    assert "Joins: customer_id -> dim_customers.customer_id" in text
    assert "- order_id INTEGER — Primary key of an order. [tests: not_null, unique]" in text
    metric = describe_model(context, DescribeModelInput(name="revenue")).content
    assert metric.startswith("Metric revenue") and "sum(net_revenue)" in metric
    with pytest.raises(ToolInputError, match=r"Did you mean: .*fct_orders"):
        describe_model(context, DescribeModelInput(name="fct_ordrs"))


def test_project_copy_still_indexes(tmp_path: Path) -> None:
    copy = tmp_path / "shop"
    shutil.copytree(DEMO_PROJECT_DIR, copy)
    assert len(load_index(copy).nodes()) == len(load_index(DEMO_PROJECT_DIR).nodes())
