"""Scripted model conversations shared by the agent and Slack tests."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from tests.fakes.anthropic_api import Reply, text_reply, tool_use_reply

DAILY = '"shop"."main"."daily_revenue"'


def result_id_in(request_body: dict[str, Any]) -> str:
    last = request_body["messages"][-1]["content"]
    text = " ".join(str(block.get("content", "")) for block in last if block.get("type") == "tool_result")
    match = re.search(r"result_id: (r_[0-9a-f]+)", text)
    assert match, text
    return match.group(1)


def analyst_script() -> Callable[[dict[str, Any]], Reply]:
    """search_models, then run_query, then make_chart on the query's result, then the answer."""
    step = iter(range(10))

    def respond(body: dict[str, Any]) -> Reply:
        number = next(step)
        if number == 0:
            return tool_use_reply("search_models", {"query": "revenue by day"}, text="Let me look.")
        if number == 1:
            sql = f"SELECT order_date, revenue FROM {DAILY} WHERE order_date BETWEEN DATE '2024-12-01' AND DATE '2024-12-31' ORDER BY 1"
            return tool_use_reply("run_query", {"sql": sql})
        if number == 2:
            chart = {
                "result_id": result_id_in(body),
                "kind": "line",
                "x": "order_date",
                "y": ["revenue"],
                "title": "Revenue",
            }
            return tool_use_reply("make_chart", chart)
        return text_reply("Revenue in December 2024 rose into the holidays (from daily_revenue).")

    return respond
