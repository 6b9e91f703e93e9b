"""The tools the agent is given, in the order Claude sees them."""

from __future__ import annotations

from tools import describe_model, make_chart, run_query, search_models
from tools.registry import Tool


def default_tools() -> list[Tool]:
    """Every tool of the product."""
    return [search_models.TOOL, describe_model.TOOL, run_query.TOOL, make_chart.TOOL]
