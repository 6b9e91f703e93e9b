"""Stored history becomes a valid, bounded conversation, whatever an interrupted turn left behind."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from agent.history import conversation_for_model, estimate_tokens


@dataclass
class Stored:
    role: str
    content: list[dict[str, Any]]


def user(text: str) -> Stored:
    return Stored("user", [{"type": "text", "text": text}])


def assistant(text: str) -> Stored:
    return Stored("assistant", [{"type": "text", "text": text}])


def tool_call(call_id: str, sql: str = "SELECT 1") -> Stored:
    return Stored(
        "assistant", [{"type": "tool_use", "id": call_id, "name": "run_query", "input": {"sql": sql}}]
    )


def tool_result(call_id: str, content: str = "1 row") -> Stored:
    return Stored("user", [{"type": "tool_result", "tool_use_id": call_id, "content": content}])


def test_a_complete_exchange_is_replayed_exactly() -> None:
    stored = [user("revenue?"), tool_call("t1"), tool_result("t1"), assistant("42")]
    messages = conversation_for_model(stored, token_budget=10_000)
    assert messages == [{"role": s.role, "content": s.content} for s in stored]


def test_an_unanswered_tool_call_left_by_a_crash_is_dropped() -> None:
    stored = [user("revenue?"), tool_call("t1"), user("hello again?")]
    messages = conversation_for_model(stored, token_budget=10_000)
    assert [m["role"] for m in messages] == ["user"]
    assert [b["text"] for b in messages[0]["content"]] == ["revenue?", "hello again?"]


def test_consecutive_user_messages_are_merged_into_one_turn() -> None:
    stored = [user("a"), user("b"), assistant("c")]
    messages = conversation_for_model(stored, token_budget=10_000)
    assert [m["role"] for m in messages] == ["user", "assistant"]
    assert len(messages[0]["content"]) == 2


def test_old_tool_results_are_shortened_but_recent_ones_kept_whole() -> None:
    big = "x" * 10_000
    stored = [user("q1"), tool_call("t1"), tool_result("t1", big), assistant("a1")]
    stored += [user(f"q{i}") if i % 2 == 0 else assistant(f"a{i}") for i in range(2, 10)]
    stored += [user("q-last"), tool_call("t2"), tool_result("t2", big)]
    messages = conversation_for_model(stored, token_budget=100_000)
    results = [b for m in messages for b in m["content"] if b.get("type") == "tool_result"]
    assert len(results[0]["content"]) < 2_000
    assert results[1]["content"] == big


def test_over_budget_history_keeps_the_newest_turn_and_starts_on_a_question() -> None:
    stored = []
    for i in range(50):
        stored += [
            user(f"question {i} " + "word " * 200),
            tool_call(f"t{i}"),
            tool_result(f"t{i}"),
            assistant("ok"),
        ]
    stored.append(user("the latest question"))
    budget = 3_000
    messages = conversation_for_model(stored, token_budget=budget)
    assert estimate_tokens(messages) <= budget + 100
    first = messages[0]
    assert first["role"] == "user"
    assert not any(b.get("type") == "tool_result" for b in first["content"])
    assert "left out" in first["content"][0]["text"]
    assert messages[-1]["content"][-1]["text"] == "the latest question"
