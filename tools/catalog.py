"""The tools the agent is given, in the order Claude sees them."""

from __future__ import annotations

from tools import (
    check_data_quality,
    describe_model,
    detect_anomalies,
    get_dimensions,
    list_metrics,
    make_chart,
    query_metrics,
    run_query,
    search_models,
)
from tools.registry import Tool


def default_tools() -> list[Tool]:
    """Every tool of the product."""
    return [
        search_models.TOOL,
        describe_model.TOOL,
        list_metrics.TOOL,
        get_dimensions.TOOL,
        query_metrics.TOOL,
        run_query.TOOL,
        make_chart.TOOL,
        check_data_quality.TOOL,
        detect_anomalies.TOOL,
    ]
