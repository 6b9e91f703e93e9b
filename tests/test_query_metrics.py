"""list_metrics, get_dimensions and query_metrics on the demo: MetricFlow's SQL, run on the demo's DuckDB."""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from agent.alerts.definitions import AlertDefinition
from agent.alerts.loading import load_alerts
from agent.alerts.series import series_query
from agent.events import EventList, ToolFinished, TurnFinished
from agent.runtime import Runtime
from tests.fakes.anthropic_api import FakeAnthropic, text_reply, tool_use_reply
from tests.jaffle_shop.cases import CASES
from tests.jaffle_shop.manifest import semantic_manifest
from tests.metric_parity import normalised, same_rows
from tests.postgres_demo import copy_demo_tables, demo_project_on_postgres
from tests.postgres_roles import read_only_role
from tests.test_cli import events_of, run_cli
from tools.catalog import default_tools
from tools.errors import ToolInputError
from tools.registry import ToolOutput
from tools.semantic_layer.command_text import parse_metric_command
from tools.semantic_layer.dialects import metricflow_dialect, supported_dialects
from tools.semantic_layer.engine import SemanticLayer
from tools.semantic_layer.loading import COMPILED_DIALECTS, optional_semantic_layer
from tools.semantic_layer.ordering import default_order
from tools.semantic_layer.requests import templated_where
from tools.sql_guard import check_read_only

ORDERS = '"shop"."main"."fct_orders"'
DEMO_POSTGRES_TABLES = ("fct_orders", "metricflow_time_spine")


def call(runtime: Runtime, session: str, tool: str, arguments: dict[str, Any]) -> ToolOutput:
    return runtime.registry.execute(tool, arguments, runtime.tool_context(session)).output


def command(runtime: Runtime, session: str, text: str) -> tuple[str, bool, EventList]:
    events = EventList()
    outcome = runtime.agent().handle(session, text, events)
    return events.of_type(TurnFinished)[-1].text, outcome.ok, events  # type: ignore[attr-defined]


@pytest.fixture
def runtime(make_runtime: Callable[..., Runtime]) -> Runtime:
    return make_runtime()


def test_the_tools_are_named_as_dbts_mcp_server_names_them() -> None:
    tools = {tool.name: tool for tool in default_tools()}
    assert {"list_metrics", "get_dimensions", "query_metrics"} <= set(tools)
    properties = tools["query_metrics"].anthropic_schema()["input_schema"]["properties"]
    assert {"metrics", "group_by", "where", "order_by", "limit", "saved_query"} <= set(properties)


# The demo's metrics through the tool, against SQL written by hand over fct_orders.
DEMO_CASES = [
    (
        {"metrics": ["revenue", "order_count"], "group_by": [{"name": "metric_time", "grain": "month"}]},
        f"select date_trunc('month', order_date), sum(net_revenue), count(order_id) from {ORDERS} group by 1",
    ),
    (
        {"metrics": ["web_revenue"], "group_by": ["metric_time__week"]},
        f"select date_trunc('week', order_date), sum(net_revenue) from {ORDERS} where channel = 'web' group by 1",
    ),
    (
        {"metrics": ["average_order_value"], "group_by": ["order__payment_method"]},
        f"select payment_method, sum(net_revenue) / count(order_id) from {ORDERS} group by 1",
    ),
    (
        {"metrics": ["revenue_per_new_customer"], "group_by": [{"name": "metric_time", "grain": "quarter"}]},
        f"select date_trunc('quarter', order_date), sum(net_revenue) / "
        f"nullif(sum(case when is_first_order then 1 else 0 end), 0) from {ORDERS} group by 1",
    ),
    (
        {
            "metrics": ["order_count"],
            "group_by": ["order__channel"],
            "where": ["metric_time >= '2024-12-01'"],
        },
        f"select channel, count(order_id) from {ORDERS} where order_date >= '2024-12-01' group by 1",
    ),
    (
        {"saved_query": "own_channel_monthly_kpis"},
        f"select date_trunc('month', order_date), sum(net_revenue), sum(case when is_first_order then 1 else 0 end) "
        f"from {ORDERS} where channel in ('web', 'mobile') group by 1",
    ),
]


@pytest.mark.parametrize("arguments, gold", DEMO_CASES, ids=[str(n) for n in range(len(DEMO_CASES))])
def test_demo_metrics_equal_hand_written_sql(runtime: Runtime, arguments: dict[str, Any], gold: str) -> None:
    session = runtime.store.open_session(source="cli").id
    output = call(runtime, session, "query_metrics", arguments)
    assert not output.is_error, output.content
    assert output.table is not None and output.sql is not None and "fct_orders" in output.sql
    expected = runtime.warehouse().execute_readonly(gold, max_rows=10_000, timeout_seconds=60).rows
    assert same_rows(normalised(output.table.rows, ordered=False), normalised(expected, ordered=False))
    assert output.content.startswith("Governed metrics used: ")


@pytest.fixture
def demo_on_postgres(
    postgres_url: str, demo_data_dir: Path, make_runtime: Callable[..., Runtime], tmp_path: Path
) -> Iterator[tuple[Runtime, str]]:
    """The demo project on PostgreSQL, read as a read-only role; yields the runtime and the tables' schema."""
    schema = f"metrics_demo_{uuid.uuid4().hex[:8]}"
    copy_demo_tables(next(demo_data_dir.rglob("*.duckdb")), postgres_url, schema, DEMO_POSTGRES_TABLES)
    project = demo_project_on_postgres(tmp_path, str(sa.make_url(postgres_url).database), schema)
    with read_only_role(postgres_url, [schema]) as reader_url:
        yield make_runtime(dbt_project_dir=project, warehouse_url=reader_url), schema


@pytest.mark.postgres
def test_demo_metrics_equal_hand_written_sql_on_postgres(demo_on_postgres: tuple[Runtime, str]) -> None:
    runtime, schema = demo_on_postgres
    session = runtime.store.open_session(source="cli").id
    mismatches = []
    for number, (arguments, gold) in enumerate(DEMO_CASES):
        output = call(runtime, session, "query_metrics", arguments)
        assert not output.is_error, output.content
        assert output.table is not None and f'"{schema}"."fct_orders"' in (output.sql or "")
        expected = runtime.warehouse().execute_readonly(
            gold.replace(ORDERS, f'"{schema}"."fct_orders"'), max_rows=10_000, timeout_seconds=60
        )
        mine, theirs = normalised(output.table.rows, ordered=False), normalised(expected.rows, ordered=False)
        if not same_rows(mine, theirs):
            mismatches.append(f"{number}: {mine[:3]} vs gold {theirs[:3]}")
    assert mismatches == []


def test_the_row_cap_and_the_guard_apply_to_compiled_sql(make_runtime: Callable[..., Runtime]) -> None:
    runtime = make_runtime(max_result_rows=5)
    session = runtime.store.open_session(source="cli").id
    capped = call(
        runtime, session, "query_metrics", {"metrics": ["revenue"], "group_by": ["metric_time__day"]}
    )
    assert capped.table is not None and capped.table.row_count == 5 and capped.table.truncated
    sneaky = {
        "metrics": ["revenue"],
        "where": ["{{ Dimension('order__channel') }} = 'web'; DROP TABLE fct_orders"],
    }
    refused = call(runtime, session, "query_metrics", sneaky)
    assert refused.is_error and ("refused" in refused.content.lower() or "parse" in refused.content.lower())


def test_mistakes_come_back_as_errors_that_name_the_fix(runtime: Runtime) -> None:
    session = runtime.store.open_session(source="cli").id
    unknown = call(runtime, session, "query_metrics", {"metrics": ["profit"]})
    assert (
        unknown.is_error
        and "No metric named profit. The project's metrics: average_order_value" in unknown.content
    )
    bad_group = call(
        runtime, session, "query_metrics", {"metrics": ["revenue"], "group_by": ["order__colour"]}
    )
    assert bad_group.is_error and "MetricFlow cannot compile" in bad_group.content
    assert "order__colour" in bad_group.content
    nothing = call(runtime, session, "query_metrics", {})
    assert nothing.is_error and "Name at least one metric" in nothing.content
    dimensions = call(runtime, session, "get_dimensions", {"metrics": ["profit"]})
    assert dimensions.is_error and "No metric named profit" in dimensions.content


def test_an_unsupported_dialect_is_named_plainly() -> None:
    assert metricflow_dialect("postgres").engine.value == "Postgres"
    with pytest.raises(ToolInputError, match="snowflake, which is not supported"):
        metricflow_dialect("snowflake")


def test_list_metrics_and_dimensions(runtime: Runtime) -> None:
    session = runtime.store.open_session(source="cli").id
    listed = call(runtime, session, "list_metrics", {"search": "revenue"})
    assert (
        "- web_revenue (Web revenue), simple: Net revenue from orders placed in the web shop."
        in listed.content
    )
    assert "- cumulative_revenue (Cumulative revenue), cumulative:" in listed.content
    assert "- order_count" not in listed.content
    assert "- weekly_revenue_by_channel:" in listed.content
    dimensions = call(runtime, session, "get_dimensions", {"metrics": ["revenue", "average_order_value"]})
    assert "- metric_time (time, finest grain day)" in dimensions.content
    assert "- order__channel (categorical)" in dimensions.content
    assert "- customer (foreign, in orders)" in dimensions.content


def test_the_metric_command_reads_metrics_group_by_grain_order_limit_and_where() -> None:
    parsed = parse_metric_command(
        "revenue, order_count by order__channel grain=week order=-revenue limit=5 where order__channel = 'web'",
        saved_queries={"weekly_revenue_by_channel"},
    )
    assert parsed == {
        "metrics": ["revenue", "order_count"],
        "group_by": [{"name": "metric_time", "grain": "week"}, "order__channel"],
        "where": ["order__channel = 'web'"],
        "order_by": ["-revenue"],
        "limit": 5,
    }
    assert parse_metric_command("weekly_revenue_by_channel", saved_queries={"weekly_revenue_by_channel"}) == {
        "saved_query": "weekly_revenue_by_channel"
    }
    with pytest.raises(ToolInputError, match="Unknown option colour="):
        parse_metric_command("revenue colour=red", saved_queries=())


def test_a_limit_without_an_order_keeps_the_latest_periods_else_the_largest_values() -> None:
    times = ["metric_time", "order__order_date"]
    latest = default_order(["order__channel", "metric_time__month"], ["revenue"], times, 3)
    assert latest is not None and latest.order_by == "-metric_time__month"
    assert "these are 3 rows of the latest periods of metric_time__month, newest first" in latest.note
    other_time = default_order(["order__order_date__week"], ["revenue"], times, 2)
    assert other_time is not None and other_time.order_by == "-order__order_date__week"
    largest = default_order(["order__channel"], ["order_count", "revenue"], times, 2)
    assert largest is not None and largest.order_by == "-order_count"
    assert "the 2 rows with the largest order_count" in largest.note
    assert default_order([], [], times, 2) is None


def test_the_metric_command_with_a_limit_and_no_order_shows_the_latest_periods(runtime: Runtime) -> None:
    session = runtime.store.open_session(source="cli").id
    text, ok, events = command(runtime, session, "/metric revenue grain=month limit=3")
    assert ok, text
    assert "No order was given with limit=3: these are the latest 3 periods of metric_time__month" in text
    table = events.of_type(ToolFinished)[0].table  # type: ignore[attr-defined]
    gold = f"select date_trunc('month', order_date), sum(net_revenue) from {ORDERS} group by 1 order by 1 desc limit 3"
    expected = runtime.warehouse().execute_readonly(gold, max_rows=10, timeout_seconds=60).rows
    assert table is not None and normalised(table.rows, ordered=True) == normalised(expected, ordered=True)


def test_query_metrics_with_a_limit_and_no_time_keeps_the_largest_values(runtime: Runtime) -> None:
    session = runtime.store.open_session(source="cli").id
    output = call(
        runtime,
        session,
        "query_metrics",
        {"metrics": ["revenue"], "group_by": ["order__channel"], "limit": 2},
    )
    assert not output.is_error and output.table is not None, output.content
    assert "these are the 2 rows with the largest revenue" in output.content
    gold = f"select channel, sum(net_revenue) from {ORDERS} group by 1 order by 2 desc limit 2"
    expected = runtime.warehouse().execute_readonly(gold, max_rows=10, timeout_seconds=60).rows
    assert same_rows(normalised(output.table.rows, ordered=True), normalised(expected, ordered=True))
    ordered = call(
        runtime,
        session,
        "query_metrics",
        {"metrics": ["revenue"], "group_by": ["order__channel"], "order_by": ["order__channel"], "limit": 2},
    )
    assert "No order was given" not in ordered.content and "ORDER BY order__channel" in (ordered.sql or "")


def test_shorthand_filters_become_metricflow_syntax_and_strings_stay() -> None:
    assert templated_where(
        "order__channel = 'order__channel' and metric_time__month >= '2024-01-01'", []
    ) == (
        "{{ Dimension('order__channel') }} = 'order__channel' and "
        "{{ TimeDimension('metric_time', 'month') }} >= '2024-01-01'"
    )
    written = "{{ Dimension('order__channel') }} = 'web'"
    assert templated_where(written, []) == written


def test_commands_without_a_key(runtime: Runtime) -> None:
    session = runtime.store.open_session(source="cli").id
    text, ok, _ = command(runtime, session, "/metrics customers")
    assert ok and "- new_customers (New customers), simple" in text
    text, ok, events = command(
        runtime, session, "/metric revenue by order__channel grain=month where order__channel = 'web'"
    )
    assert ok, text
    finished = events.of_type(ToolFinished)[0]
    assert finished.tool == "query_metrics" and "channel = 'web'" in (finished.sql or "")  # type: ignore[attr-defined]
    text, ok, _ = command(runtime, session, "/metric weekly_revenue_by_channel")
    assert ok and text.startswith(
        "saved query weekly_revenue_by_channel (metrics: revenue, order_count, average_order_value)"
    )
    text, ok, _ = command(runtime, session, "/dimensions revenue")
    assert ok and "order__payment_method" in text
    text, ok, _ = command(runtime, session, "/help")
    assert "/metric revenue[,orders] [by order__channel] [grain=week] [where ...]" in text


def test_the_agent_answers_through_governed_metrics(
    fake_anthropic: FakeAnthropic, make_runtime: Callable[..., Runtime]
) -> None:
    runtime = make_runtime(anthropic_api_key="test-key", anthropic_base_url=fake_anthropic.base_url)
    fake_anthropic.enqueue(
        tool_use_reply("query_metrics", {"metrics": ["revenue"], "group_by": ["order__channel"]}),
        text_reply("Web is the biggest channel (governed metric: revenue)."),
    )
    session = runtime.store.open_session(source="cli").id
    _, ok, events = command(runtime, session, "What is revenue by channel?")
    assert ok
    finished = events.of_type(ToolFinished)[0]
    assert finished.sql is not None and "SUM(net_revenue)" in finished.sql  # type: ignore[attr-defined]
    assert "answer through query_metrics" in str(fake_anthropic.requests[0].body["system"])
    tool_result = str(fake_anthropic.requests[1].body["messages"][-1])
    assert "Governed metrics used: revenue. Name them in your answer." in tool_result


def test_json_events_show_the_compiled_sql(demo_cli_env: dict[str, str]) -> None:
    result = run_cli("chat", "--json", env=demo_cli_env, stdin="/metric average_order_value grain=month\n")
    assert result.returncode == 0, result.stderr
    finished = [e for e in events_of(result.stdout) if e["type"] == "tool_finished"]
    assert [e["tool"] for e in finished] == ["query_metrics"] and not finished[0]["is_error"]
    assert "NULLIF" in str(finished[0]["sql"]).upper() and "fct_orders" in str(finished[0]["sql"])


def test_alerts_and_anomalies_on_metrics_use_the_compiler_with_the_same_numbers(runtime: Runtime) -> None:
    index, warehouse = runtime.index(), runtime.warehouse()
    layer = optional_semantic_layer(runtime.project_dir, warehouse.dialect.name)
    assert layer is not None
    alert = AlertDefinition(
        name="aov", metric="average_order_value", history=30, schedule="0 8 * * *", channel="C0ALERTS"
    )
    compiled = series_query(alert, index, "duckdb", layer)
    hand_written = series_query(alert, index, "duckdb")
    assert "metric_time__day" in compiled.sql and "metric_time__day" not in hand_written.sql
    rows = [
        normalised(warehouse.execute_readonly(query.sql, max_rows=100, timeout_seconds=60).rows, ordered=True)
        for query in (compiled, hand_written)
    ]
    assert len(rows[0]) == 30 and same_rows(rows[0], rows[1])
    session = runtime.store.open_session(source="cli").id
    anomalies = call(runtime, session, "detect_anomalies", {"metric": "revenue"})
    assert anomalies.sql is not None and "metric_time__day" in anomalies.sql


def test_an_alert_on_a_derived_metric_loads_and_runs_through_metricflow(
    runtime: Runtime, tmp_path: Path
) -> None:
    alerts = tmp_path / "alerts.yml"
    alerts.write_text(
        "alerts:\n  - {name: rpnc, metric: revenue_per_new_customer, history: 20, channel: C0ALERTS, schedule: '0 8 * * *'}\n"
    )
    index, warehouse = runtime.index(), runtime.warehouse()
    loaded = load_alerts(alerts, index=index, project_dir=runtime.project_dir)
    assert loaded.problems == [] and [alert.name for alert in loaded.alerts] == ["rpnc"]
    # Without the semantic layer our own SQL would build the series, and it cannot build a derived metric.
    refused = load_alerts(alerts, index=index)
    assert [problem.field for problem in refused.problems] == ["metric"] and not refused.alerts
    layer = optional_semantic_layer(runtime.project_dir, warehouse.dialect.name)
    query = series_query(loaded.alerts[0], index, "duckdb", layer)
    series = warehouse.execute_readonly(query.sql, max_rows=100, timeout_seconds=60).rows
    gold = (
        f"select * from (select order_date d, sum(net_revenue) / nullif(sum(case when is_first_order then 1 "
        f"else 0 end), 0) v from {ORDERS} group by 1 order by 1 desc limit 20) newest order by d"
    )
    expected = warehouse.execute_readonly(gold, max_rows=100, timeout_seconds=60).rows
    assert len(series) == 20 and same_rows(
        normalised(series, ordered=True), normalised(expected, ordered=True)
    )


def test_the_dialects_known_without_metricflow_are_the_ones_it_renders() -> None:
    assert set(COMPILED_DIALECTS) == set(supported_dialects())


@pytest.mark.parametrize("dialect", ["duckdb", "postgres", "bigquery"])
def test_every_parity_query_compiles_to_sql_the_guard_accepts_in_each_dialect(dialect: str) -> None:
    text = json.dumps(semantic_manifest())
    if dialect == "bigquery":  # dbt names BigQuery relations with backticks: `project`.`dataset`.`table`.
        text = text.replace('\\"', "`")
    layer = SemanticLayer(text, dialect)
    for case in CASES:
        checked = check_read_only(layer.compile(case.request).sql, dialect)
        assert checked.tables, case.id
    trailing_week = next(case for case in CASES if case.id == "trailing_week_revenue_by_day")
    trailing = layer.compile(trailing_week.request).sql
    assert {"duckdb": "INTERVAL 7 day", "postgres": "MAKE_INTERVAL(days => 7)", "bigquery": "INTERVAL 7 day"}[
        dialect
    ] in trailing
