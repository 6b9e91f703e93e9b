"""The dbt semantic layer: metrics and saved queries read, searched and described, from the tool and the CLI."""

from __future__ import annotations

from dataclasses import replace

import pytest
import yaml

from agent.settings import Settings
from agent.tool_config import tool_limits
from demo.load import DEMO_PROJECT_DIR
from tests.test_cli import events_of, run_cli
from tools.dbt.artifacts import read_artifacts
from tools.dbt.index import DbtIndex, DbtIndexProvider, load_index
from tools.dbt.semantic import build_metrics, build_saved_queries
from tools.describe_model import DescribeModelInput, describe_model
from tools.registry import ToolContext
from tools.results import ResultStore
from tools.search_models import SearchModelsInput, search_models

FCT_ORDERS = '"shop"."main"."fct_orders"'


@pytest.fixture(scope="module")
def index() -> DbtIndex:
    return load_index(DEMO_PROJECT_DIR)


def context() -> ToolContext:
    return ToolContext(
        limits=tool_limits(Settings()),
        warehouse_provider=lambda: None,  # type: ignore[arg-type, return-value]
        dbt_provider=DbtIndexProvider(DEMO_PROJECT_DIR).current,
        results=ResultStore(),
        artifacts=None,  # type: ignore[arg-type]
    )


def test_the_demo_artifacts_carry_every_metric_and_saved_query_of_its_yaml(index: DbtIndex) -> None:
    declared = yaml.safe_load((DEMO_PROJECT_DIR / "models" / "marts" / "_marts.yml").read_text())
    assert {m.name for m in index.metrics()} == {m["name"] for m in declared["metrics"]}
    assert {q.name for q in index.saved_queries()} == {q["name"] for q in declared["saved_queries"]}


def test_metrics_know_their_measure_model_relation_grains_dimensions_and_filters(index: DbtIndex) -> None:
    web = index.find_metric("web_revenue")
    assert web is not None and web.type == "simple" and web.definition == "sum(net_revenue)"
    assert [(m.name, m.expression, m.semantic_model) for m in web.measures] == [
        ("revenue", "sum(net_revenue)", "orders")
    ]
    assert (web.semantic_model, web.model, web.relation_name) == ("orders", "fct_orders", FCT_ORDERS)
    assert web.time_dimension == "order_date" and web.grains == ("day", "week", "month", "quarter", "year")
    assert web.dimensions == ("order_date", "channel", "payment_method")
    assert web.filters == ("{{ Dimension('order__channel') }} = 'web'",)
    derived = index.find_metric("revenue_per_new_customer")
    assert derived is not None and derived.definition == "revenue / nullif(new_customers, 0)"
    assert derived.input_metrics == ("revenue", "new_customers") and derived.model == "fct_orders"
    assert index.find_metric("average_order_value").input_metrics == ("revenue", "order_count")  # type: ignore[union-attr]
    cumulative = index.find_metric("cumulative_revenue")
    assert cumulative is not None and cumulative.definition == "sum(net_revenue) to date, over all time"


def test_saved_queries_know_metrics_group_by_and_where(index: DbtIndex) -> None:
    weekly = index.find_saved_query("weekly_revenue_by_channel")
    assert weekly is not None and weekly.metrics == ("revenue", "order_count", "average_order_value")
    assert weekly.group_by == ("TimeDimension('order__order_date', 'week')", "Dimension('order__channel')")
    own = index.find_saved_query("OWN_CHANNEL_MONTHLY_KPIS")
    assert own is not None and own.where == ("{{ Dimension('order__channel') }} in ('web', 'mobile')",)


def test_manifest_json_alone_gives_the_same_semantic_layer() -> None:
    artifacts = read_artifacts(DEMO_PROJECT_DIR)
    without_semantic_manifest = replace(artifacts, semantic_manifest=None)
    for build in (build_metrics, build_saved_queries):
        from_manifest = sorted(build(without_semantic_manifest), key=lambda item: item.name)
        assert from_manifest == sorted(build(artifacts), key=lambda item: item.name)


def test_search_returns_metrics_and_saved_queries_as_their_own_kinds() -> None:
    output = search_models(context(), SearchModelsInput(query="weekly revenue by channel", limit=5))
    models, semantic = output.content.split("\n\nSemantic layer (metrics and saved queries):\n")
    assert models.splitlines()[1].startswith("- fct_orders [model]")
    assert semantic.startswith("- revenue [metric] Revenue: Net revenue in USD")
    assert f"  computed as: sum(net_revenue) on fct_orders ({FCT_ORDERS}); time: order_date" in semantic
    assert "- weekly_revenue_by_channel [saved_query] Weekly revenue by channel:" in semantic
    assert "  metrics: revenue, order_count, average_order_value; group by: TimeDimension(" in semantic
    assert "weekly_revenue_by_channel (saved_query)" in output.summary
    web = search_models(context(), SearchModelsInput(query="web_revenue", limit=8))
    assert "Semantic layer (metrics and saved queries):\n- web_revenue [metric]" in web.content


def test_describe_a_metric_and_a_saved_query() -> None:
    metric = describe_model(context(), DescribeModelInput(name="web_revenue"))
    assert metric.summary == "metric web_revenue: sum(net_revenue)"
    assert metric.content.splitlines() == [
        "Metric web_revenue (Web revenue, simple): Net revenue from orders placed in the web shop.",
        "Definition: sum(net_revenue)",
        "Measure revenue: sum(net_revenue) in semantic model orders",
        "Built on model: fct_orders; time dimension: order_date",
        f"Query it as: {FCT_ORDERS}",
        "Time grains: day, week, month, quarter, year",
        "Dimensions: order_date, channel, payment_method",
        "Filter: {{ Dimension('order__channel') }} = 'web'",
    ]
    saved = describe_model(context(), DescribeModelInput(name="own_channel_monthly_kpis")).content
    assert saved.splitlines()[:5] == [
        "Saved query own_channel_monthly_kpis (Monthly KPIs of our own shops): Monthly net revenue and new "
        "customers from the web and mobile shops, marketplace excluded.",
        "Metrics: revenue, new_customers",
        "- revenue: sum(net_revenue) on fct_orders",
        "- new_customers: sum(case when is_first_order then 1 else 0 end) on fct_orders",
        "Group by: TimeDimension('order__order_date', 'month')",
    ]
    assert "Where: {{ Dimension('order__channel') }} in ('web', 'mobile')" in saved


def test_the_prompt_names_metrics_and_saved_queries(index: DbtIndex) -> None:
    overview = index.overview().to_prompt_text()
    assert "- web_revenue (sum(net_revenue)): Net revenue from orders placed in the web shop." in overview
    assert "Saved queries: weekly_revenue_by_channel, own_channel_monthly_kpis." in overview


def test_cli_search_and_describe_the_semantic_layer(demo_cli_env: dict[str, str]) -> None:
    commands = "/search weekly revenue by channel\n/describe revenue_per_new_customer\n/describe weekly_revenue_by_channel\n"
    result = run_cli("chat", "--json", env=demo_cli_env, stdin=commands)
    assert result.returncode == 0, result.stderr
    events = events_of(result.stdout)
    finished = [e for e in events if e["type"] == "tool_finished"]
    assert [e["tool"] for e in finished] == ["search_models", "describe_model", "describe_model"]
    assert not any(e["is_error"] for e in finished)
    finals = [str(e["text"]) for e in events if e["type"] == "final"]
    assert "- weekly_revenue_by_channel [saved_query]" in finals[0]
    assert finals[1].startswith("Metric revenue_per_new_customer (Revenue per new customer, derived)")
    assert "Built from metrics: revenue, new_customers" in finals[1]
    assert finals[2].startswith("Saved query weekly_revenue_by_channel (Weekly revenue by channel)")
    assert "Group by: TimeDimension('order__order_date', 'week'), Dimension('order__channel')" in finals[2]
