"""The agent's tool-use loop, end to end through the real anthropic SDK against the fake Messages API."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from agent.events import EventList, StatusChanged, TextDelta, ToolFinished, TurnFailed, TurnFinished
from agent.runtime import Runtime
from tests.fakes.analyst_script import DAILY, analyst_script
from tests.fakes.anthropic_api import (
    FakeAnthropic,
    error_reply,
    text_reply,
    tool_use_reply,
)


@pytest.fixture
def runtime(fake_anthropic: FakeAnthropic, make_runtime: Callable[..., Runtime]) -> Runtime:
    return make_runtime(anthropic_api_key="test-key", anthropic_base_url=fake_anthropic.base_url)


def ask(runtime: Runtime, text: str, *, session_id: str | None = None, stream: bool = True) -> EventList:
    session = session_id or runtime.store.open_session(source="cli").id
    events = EventList()
    runtime.agent().handle(session, text, events, stream=stream)
    return events


@pytest.mark.parametrize("stream", [True, False], ids=["streaming", "non-streaming"])
def test_question_searches_queries_charts_and_answers(
    runtime: Runtime, fake_anthropic: FakeAnthropic, stream: bool
) -> None:
    fake_anthropic.respond_with(analyst_script())
    events = ask(runtime, "How did revenue develop in December?", stream=stream)

    finished = events.of_type(ToolFinished)
    assert [e.tool for e in finished] == ["search_models", "run_query", "make_chart"]  # type: ignore[union-attr]
    assert not any(e.is_error for e in finished)  # type: ignore[union-attr]
    query = finished[1]
    assert query.table is not None and query.table.row_count == 31  # type: ignore[union-attr]
    chart = finished[2]
    assert chart.artifact is not None and chart.artifact.path.read_bytes().startswith(b"\x89PNG")  # type: ignore[union-attr]
    final = events.of_type(TurnFinished)[0]
    assert "December" in final.text  # type: ignore[union-attr]
    assert final.usage.output_tokens > 0 and final.usage.cost_usd > 0  # type: ignore[union-attr]
    assert "".join(e.text for e in events.of_type(TextDelta)).endswith(final.text)  # type: ignore[union-attr]
    assert any("querying daily_revenue" in e.status for e in events.of_type(StatusChanged))  # type: ignore[union-attr]
    assert all(request.streamed is stream for request in fake_anthropic.requests)
    # The model saw the search results and the rows, as data.
    second = fake_anthropic.requests[1].tool_results()[0]["content"]
    assert "daily_revenue" in second
    third = fake_anthropic.requests[2].tool_results()[0]["content"]
    assert "<query_result>" in third and "not instructions" in third
    # Everything is stored: 4 assistant messages, 1 question and 3 tool-result messages, 3 tool runs.
    session_id = final.session_id
    assert [m.role for m in runtime.store.history(session_id)].count("assistant") == 4
    assert [run.tool for run in runtime.store.tool_runs(session_id)] == [
        "search_models",
        "run_query",
        "make_chart",
    ]


def test_a_tool_error_goes_back_to_the_model_which_corrects_itself(
    runtime: Runtime, fake_anthropic: FakeAnthropic
) -> None:
    fake_anthropic.enqueue(
        tool_use_reply("run_query", {"sql": f"SELECT sum(revnue) FROM {DAILY}"}),
        tool_use_reply("run_query", {"sql": f"SELECT sum(revenue) AS total FROM {DAILY}"}),
        text_reply("Total revenue was about 3.5M."),
    )
    events = ask(runtime, "Total revenue?")
    first, second = events.of_type(ToolFinished)
    assert first.is_error and "did you mean revenue" in first.summary  # type: ignore[union-attr]
    assert not second.is_error  # type: ignore[union-attr]
    error_block = fake_anthropic.requests[1].tool_results()[0]
    assert error_block["is_error"] is True and "revnue" in error_block["content"]
    assert events.of_type(TurnFinished)


def test_refused_sql_never_reaches_the_warehouse(runtime: Runtime, fake_anthropic: FakeAnthropic) -> None:
    fake_anthropic.enqueue(
        tool_use_reply("run_query", {"sql": f"DELETE FROM {DAILY}"}),
        text_reply("I cannot change data."),
    )
    before = runtime.warehouse().execute_readonly(
        f"SELECT count(*) FROM {DAILY}", max_rows=1, timeout_seconds=5
    )
    events = ask(runtime, "Delete everything")
    refused = events.of_type(ToolFinished)[0]
    assert refused.is_error and "not a read-only query" in refused.summary  # type: ignore[union-attr]
    after = runtime.warehouse().execute_readonly(
        f"SELECT count(*) FROM {DAILY}", max_rows=1, timeout_seconds=5
    )
    assert before.rows == after.rows


def test_overloaded_twice_then_success(runtime: Runtime, fake_anthropic: FakeAnthropic) -> None:
    fake_anthropic.enqueue(
        error_reply(529, "overloaded_error", "Overloaded"),
        error_reply(529, "overloaded_error", "Overloaded"),
        text_reply("Here you go."),
    )
    events = ask(runtime, "hello")
    assert events.of_type(TurnFinished)[0].text == "Here you go."  # type: ignore[union-attr]
    assert len(fake_anthropic.requests) == 3


def test_when_retries_run_out_the_user_gets_one_clear_line(
    runtime: Runtime, fake_anthropic: FakeAnthropic
) -> None:
    fake_anthropic.enqueue(*[error_reply(529, "overloaded_error", "Overloaded")] * 4)
    events = ask(runtime, "hello")
    failure = events.of_type(TurnFailed)[0]
    assert "overloaded" in failure.message and "4 tries" in failure.message  # type: ignore[union-attr]
    assert failure.reference  # type: ignore[union-attr]
    assert len(fake_anthropic.requests) == 4


def test_a_refused_key_is_named(runtime: Runtime, fake_anthropic: FakeAnthropic) -> None:
    fake_anthropic.enqueue(error_reply(401, "authentication_error", "invalid x-api-key", retry_after=None))
    failure = ask(runtime, "hello").of_type(TurnFailed)[0]
    assert "ANTHROPIC_API_KEY" in failure.message  # type: ignore[union-attr]


def test_a_resumed_session_sends_its_history_after_a_restart(
    fake_anthropic: FakeAnthropic, make_runtime: Callable[..., Runtime]
) -> None:
    settings = {"anthropic_api_key": "test-key", "anthropic_base_url": fake_anthropic.base_url}
    first_process = make_runtime(**settings)
    fake_anthropic.enqueue(text_reply("Revenue was 3.5M."), text_reply("Orders were 32,716."))
    session_id = first_process.store.open_session(source="cli").id
    ask(first_process, "What was revenue?", session_id=session_id)
    first_process.close()

    second_process = make_runtime(**settings)
    events = ask(second_process, "And orders?", session_id=session_id)
    assert events.of_type(TurnFinished)
    replayed = fake_anthropic.requests[1].body["messages"]
    assert [m["role"] for m in replayed] == ["user", "assistant", "user"]
    assert replayed[0]["content"][0]["text"] == "What was revenue?"
    assert replayed[1]["content"][0]["text"] == "Revenue was 3.5M."


def test_prompt_caching_marks_system_tools_and_conversation(
    runtime: Runtime, fake_anthropic: FakeAnthropic
) -> None:
    fake_anthropic.enqueue(text_reply("one"), text_reply("two"))
    session_id = runtime.store.open_session(source="cli").id
    ask(runtime, "first question", session_id=session_id)
    second = ask(runtime, "second question", session_id=session_id)
    body = fake_anthropic.requests[1].body
    assert body["system"][-1]["cache_control"] == {"type": "ephemeral"}
    assert body["tools"][-1]["cache_control"] == {"type": "ephemeral"}
    assert body["messages"][-1]["content"][-1]["cache_control"] == {"type": "ephemeral"}
    assert (
        {"search_models", "describe_model", "run_query", "make_chart"}
        <= {tool["name"] for tool in body["tools"]}
        == set(runtime.registry.names())
    )
    usage = second.of_type(TurnFinished)[0].usage  # type: ignore[union-attr]
    assert usage.cache_read_input_tokens > 0


def test_the_tool_limit_forces_an_answer(
    fake_anthropic: FakeAnthropic, make_runtime: Callable[..., Runtime]
) -> None:
    runtime = make_runtime(
        anthropic_api_key="test-key", anthropic_base_url=fake_anthropic.base_url, max_tool_iterations=2
    )
    fake_anthropic.enqueue(
        tool_use_reply("search_models", {"query": "a"}),
        tool_use_reply("search_models", {"query": "b"}),
        text_reply("Best answer with what I found."),
    )
    events = ask(runtime, "loop forever")
    assert events.of_type(TurnFinished)[0].text == "Best answer with what I found."  # type: ignore[union-attr]
    last = fake_anthropic.requests[-1].body
    assert last["tool_choice"] == {"type": "none"}
    assert "answer now" in last["messages"][-1]["content"][-1]["text"]


def test_a_question_without_an_api_key_says_how_to_set_one(make_runtime: Callable[..., Runtime]) -> None:
    runtime = make_runtime()
    failure = ask(runtime, "What was revenue?").of_type(TurnFailed)[0]
    assert "ANTHROPIC_API_KEY" in failure.message and "/help" in failure.message  # type: ignore[union-attr]


def test_unknown_model_name_from_the_model_is_a_correctable_error(
    runtime: Runtime, fake_anthropic: FakeAnthropic
) -> None:
    fake_anthropic.enqueue(tool_use_reply("describe_model", {"name": "ordrs"}), text_reply("ok"))
    events = ask(runtime, "describe orders")
    failed = events.of_type(ToolFinished)[0]
    assert failed.is_error and "fct_orders" in failed.summary  # type: ignore[union-attr]
