"""Direct commands run one tool each, with no model and no API key."""

from __future__ import annotations

from collections.abc import Callable

from agent.events import EventList, ToolFinished, TurnFinished
from agent.runtime import Runtime


def run(runtime: Runtime, session_id: str, text: str) -> tuple[EventList, bool]:
    events = EventList()
    outcome = runtime.agent().handle(session_id, text, events)
    return events, outcome.ok


def test_sql_then_chart_of_the_latest_result(make_runtime: Callable[..., Runtime]) -> None:
    runtime = make_runtime()
    session = runtime.store.open_session(source="cli").id
    events, ok = run(
        runtime, session, '/sql SELECT channel, count(*) AS orders FROM "shop"."main"."fct_orders" GROUP BY 1'
    )
    assert ok and events.of_type(ToolFinished)[0].table.row_count == 3  # type: ignore[union-attr]
    events, ok = run(runtime, session, "/chart pie x=channel y=orders")
    chart = events.of_type(ToolFinished)[0]
    assert ok and chart.artifact is not None and chart.artifact.kind == "chart"  # type: ignore[union-attr]
    assert [r.tool for r in runtime.store.tool_runs(session)] == ["run_query", "make_chart"]
    assert runtime.store.get_session(session).title.startswith("/sql SELECT channel")  # type: ignore[union-attr]


def test_help_unknown_and_incomplete_commands_answer_with_guidance(
    make_runtime: Callable[..., Runtime],
) -> None:
    runtime = make_runtime()
    session = runtime.store.open_session(source="cli").id
    help_events, ok = run(runtime, session, "/help")
    assert ok and "/describe name" in help_events.of_type(TurnFinished)[0].text  # type: ignore[union-attr]
    unknown, ok = run(runtime, session, "/frobnicate")
    assert not ok and "Unknown command /frobnicate" in unknown.of_type(TurnFinished)[0].text  # type: ignore[union-attr]
    empty, ok = run(runtime, session, "/sql")
    assert not ok and "Usage: /sql" in empty.of_type(TurnFinished)[0].text  # type: ignore[union-attr]
    no_result, ok = run(runtime, session, "/chart line x=a y=b")
    assert not ok and "run /sql" in no_result.of_type(TurnFinished)[0].text  # type: ignore[union-attr]


def test_search_and_describe_answer_in_text(make_runtime: Callable[..., Runtime]) -> None:
    runtime = make_runtime()
    session = runtime.store.open_session(source="cli").id
    found, ok = run(runtime, session, "/search refunds by day")
    assert ok and "daily_revenue" in found.of_type(TurnFinished)[0].text  # type: ignore[union-attr]
    described, ok = run(runtime, session, "/describe daily_revenue")
    assert ok and "Unique key: order_date" in described.of_type(TurnFinished)[0].text  # type: ignore[union-attr]
