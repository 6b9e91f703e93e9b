"""detect_anomalies and /anomalies end to end on the demo runtime: real DuckDB warehouse, real dbt metrics."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from agent.events import EventList, ToolFinished, TurnFinished
from agent.runtime import Runtime
from tests.fakes.slack_api import FakeSlack
from tests.slack_support import StartBot, wait_until
from tools.catalog import default_tools
from tools.registry import ToolOutput

DAILY = '"shop"."main"."daily_revenue"'


def call(runtime: Runtime, session: str, tool: str, arguments: dict[str, Any]) -> ToolOutput:
    return runtime.registry.execute(tool, arguments, runtime.tool_context(session)).output


def command(runtime: Runtime, session: str, text: str) -> tuple[str, bool, EventList]:
    events = EventList()
    outcome = runtime.agent().handle(session, text, events)
    finished = events.of_type(TurnFinished)
    return finished[-1].text, outcome.ok, events  # type: ignore[attr-defined]


def test_the_tool_is_in_the_catalog_with_a_schema_from_its_input_model() -> None:
    tool = next(tool for tool in default_tools() if tool.name == "detect_anomalies")
    properties = tool.anthropic_schema()["input_schema"]["properties"]
    assert {"result_id", "metric", "grain", "sensitivity"} <= set(properties)


def test_anomalies_in_a_query_result_are_listed_and_charted(make_runtime: Callable[..., Runtime]) -> None:
    runtime = make_runtime()
    session = runtime.store.open_session(source="cli").id
    queried = call(
        runtime, session, "run_query", {"sql": f"SELECT order_date, orders FROM {DAILY} ORDER BY 1"}
    )
    assert queried.table is not None
    output = call(runtime, session, "detect_anomalies", {"result_id": queried.table.result_id})
    assert not output.is_error, output.content
    assert "orders on 2024-03-14: 45, expected " in output.content  # the checkout outage, -70%
    assert "orders on 2024-06-12: " in output.content  # the viral newsletter, doubled
    assert output.content.count("\n- ") <= 4
    assert "Latest: orders on 2025-01-31: " in output.content and "(within range)" in output.content
    assert output.summary.startswith("Checked ") and "anomalies." in output.summary
    artifact = output.artifact
    assert artifact is not None and artifact.kind == "chart" and artifact.mime_type == "image/png"
    assert artifact.path.read_bytes().startswith(b"\x89PNG")


def test_a_dbt_metric_is_aggregated_by_day_in_the_warehouse(make_runtime: Callable[..., Runtime]) -> None:
    runtime = make_runtime()
    session = runtime.store.open_session(source="cli").id
    output = call(runtime, session, "detect_anomalies", {"metric": "revenue"})
    assert not output.is_error, output.content
    assert output.sql is not None and "GROUP BY" in output.sql.upper() and "net_revenue" in output.sql
    assert "revenue on 2024-11-05: " in output.content and "+3" in output.content  # bulk buying, baskets x3
    kept = runtime.results.latest(session)
    assert kept is not None and kept.column_names() == ["period", "value"] and kept.row_count > 300
    # A metric with a filter and a ratio of two metrics are aggregated too.
    web = call(runtime, session, "detect_anomalies", {"metric": "web_revenue"})
    assert not web.is_error and web.sql is not None and "channel = 'web'" in web.sql
    ratio = call(runtime, session, "detect_anomalies", {"metric": "average_order_value"})
    assert not ratio.is_error and ratio.sql is not None and "NULLIF" in ratio.sql.upper()


def test_the_anomalies_command_checks_the_latest_result_or_a_metric(
    make_runtime: Callable[..., Runtime],
) -> None:
    runtime = make_runtime()
    session = runtime.store.open_session(source="cli").id
    command(runtime, session, f"/sql SELECT order_date, refunds FROM {DAILY} ORDER BY 1")
    text, ok, events = command(runtime, session, "/anomalies")
    assert ok and "refunds on 2024-10-15: 117, expected " in text  # the bad coffee batch
    finished = events.of_type(ToolFinished)[0]
    assert finished.artifact is not None  # type: ignore[attr-defined]
    text, ok, _ = command(runtime, session, "/anomalies metric=revenue grain=day sensitivity=4")
    assert ok and "revenue on 2024-11-05" in text and "sensitivity 4" in text
    text, ok, _ = command(runtime, session, "/anomalies order_count")
    assert ok and "order_count on 2024-03-14" in text
    assert [run.tool for run in runtime.store.tool_runs(session)] == ["run_query", *["detect_anomalies"] * 3]
    help_text, _, _ = command(runtime, session, "/help")
    assert "/anomalies" in help_text


def test_the_anomalies_command_on_the_demo_keeps_its_past_verdicts_when_a_day_is_added(
    make_runtime: Callable[..., Runtime],
) -> None:
    runtime = make_runtime()
    session = runtime.store.open_session(source="cli").id
    until = f"SELECT order_date, revenue FROM {DAILY} WHERE order_date <= DATE '{{}}'"
    queries = {
        "to 5 Nov": until.format("2024-11-05"),
        "to 6 Nov": until.format("2024-11-06"),
        # A broken load: a day of zero revenue once switched the whole series off its log scale.
        "zero on 6 Nov": until.format("2024-11-05") + " UNION ALL SELECT DATE '2024-11-06', 0",
    }
    listed: dict[str, list[str]] = {}
    for name, query in queries.items():
        command(runtime, session, f"/sql {query} ORDER BY 1")
        text, ok, _ = command(runtime, session, "/anomalies")
        assert ok, text
        listed[name] = [line for line in text.splitlines() if line.startswith("- revenue on ")]
    before = listed["to 5 Nov"]
    planted = ("2024-03-14", "2024-06-12", "2024-09-03", "2024-10-15", "2024-11-05")
    assert [line.split(":")[0] for line in before] == [f"- revenue on {day}" for day in planted]
    # Each said the same way (value, range, change) after the new day as before it.
    assert listed["to 6 Nov"] == before
    assert listed["zero on 6 Nov"][:-1] == before
    assert listed["zero on 6 Nov"][-1].startswith("- revenue on 2024-11-06: 0, expected ")


def test_bad_input_gets_a_message_that_names_the_fix(make_runtime: Callable[..., Runtime]) -> None:
    runtime = make_runtime()
    session = runtime.store.open_session(source="cli").id
    text, ok, _ = command(runtime, session, "/anomalies")
    assert not ok and "name a dbt metric (/anomalies metric=revenue)" in text
    command(runtime, session, f"/sql SELECT order_date, orders FROM {DAILY} ORDER BY 1 LIMIT 10")
    text, ok, _ = command(runtime, session, "/anomalies")
    assert not ok and "Not enough history: 10 points" in text and "Widen the time range" in text
    command(runtime, session, f"/sql SELECT order_date, 'web' AS channel, orders FROM {DAILY}")
    text, ok, _ = command(runtime, session, "/anomalies value=channel")
    assert not ok and "Column 'channel' holds str values like 'web', not numeric values" in text
    assert "numeric columns: orders" in text
    command(runtime, session, f"/sql SELECT 'web' AS channel, sum(orders) AS orders FROM {DAILY}")
    text, ok, _ = command(runtime, session, "/anomalies")
    assert not ok and "has no date or time column" in text
    text, ok, _ = command(runtime, session, "/anomalies metric=nope")
    assert not ok and "No dbt metric 'nope'. The project's metrics: " in text and "revenue" in text
    # MetricFlow compiles a derived metric's series; a running total is not a series to judge.
    text, ok, _ = command(runtime, session, "/anomalies metric=revenue_per_new_customer")
    assert ok, text
    text, ok, _ = command(runtime, session, "/anomalies metric=cumulative_revenue")
    assert not ok and "is a cumulative metric" in text and "not checked for anomalies" in text
    both = call(runtime, session, "detect_anomalies", {"metric": "revenue", "result_id": "r_1"})
    assert both.is_error and "exactly one of result_id" in both.content


def test_values_stay_out_of_the_model_when_rows_are_not_shared(make_runtime: Callable[..., Runtime]) -> None:
    runtime = make_runtime(send_result_rows_to_model=False)
    session = runtime.store.open_session(source="cli").id
    output = call(runtime, session, "detect_anomalies", {"metric": "order_count"})
    assert not output.is_error
    assert "2024-03-14" not in output.content and "not shared with you" in output.content
    assert "order_count on 2024-03-14" in output.summary  # people still see the findings


def test_the_anomalies_command_answers_in_slack_with_the_chart(
    start_bot: StartBot,
    fake_slack: FakeSlack,
) -> None:
    start_bot()
    mention = fake_slack.app_mention("/anomalies metric=revenue", user="U0ASKER", channel="C0DATA")
    fake_slack.send_event(mention)
    uploads = wait_until(
        lambda: fake_slack.uploads("C0DATA", thread_ts=mention["ts"]), timeout=30, what="chart upload"
    )
    answer = wait_until(
        lambda: next(
            (m for m in fake_slack.messages("C0DATA", thread_ts=mention["ts"]) if "2024-11-05" in m.text),
            None,
        ),
        timeout=30,
        what="the findings",
    )
    assert uploads[0].content.startswith(b"\x89PNG")
    assert "revenue on 2024-11-05: " in answer.text
