"""The order a metric query with a limit but no order gets, so that the limit keeps the rows a person means.

Without an order a warehouse returns any `limit` groups. dbt's MCP server tells its model that a lookback
question ("last month", "the latest weeks") orders by the time dimension descending and limits; we apply the
same reading when no order is given: the latest periods first, and without a time dimension the largest values
of the first metric first.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from tools.semantic_layer.requests import GRAINS


@dataclass(frozen=True)
class DefaultOrder:
    """The order chosen (a MetricFlow order-by name, `-` first: descending) and a line saying why."""

    order_by: str
    note: str


def default_order(
    group_by: Sequence[str], metrics: Sequence[str], time_dimensions: Iterable[str], limit: int
) -> DefaultOrder | None:
    """The first time dimension grouped by, newest first; else the first metric, largest first; else None."""
    times = {name.lower() for name in time_dimensions} | {"metric_time"}
    for item in group_by:
        base, _, grain = item.lower().rpartition("__")
        if item.lower() in times or (grain in GRAINS and base in times):
            # With other items grouped by too, a period spans several rows: the limit counts rows.
            kept = (
                f"the latest {limit} periods" if len(group_by) == 1 else f"{limit} rows of the latest periods"
            )
            return DefaultOrder(
                f"-{item}",
                f"No order was given with limit={limit}: these are {kept} of {item}, newest first "
                "(order= or order_by chooses another order).",
            )
    if metrics:
        return DefaultOrder(
            f"-{metrics[0]}",
            f"No order was given with limit={limit}: these are the {limit} rows with the largest {metrics[0]} "
            "(order= or order_by chooses another order).",
        )
    return None
