"""`/metric revenue,orders by order__channel grain=week order=-revenue limit=10 where ...` read as tool input."""

from __future__ import annotations

import re
from collections.abc import Collection
from typing import Any

from tools.direct_command import options, required
from tools.errors import ToolInputError

EXAMPLE = "/metric revenue by order__channel grain=week where order__channel = 'web'"
_WHERE = re.compile(r"\s+where\s+", re.IGNORECASE)


def parse_metric_command(argument: str, *, saved_queries: Collection[str]) -> dict[str, Any]:
    """query_metrics input from the command's words; the filter after `where` is kept whole."""
    parts = _WHERE.split(" " + required(argument.strip(), EXAMPLE), maxsplit=1)
    head = parts[0].strip()
    where = parts[1].strip() if len(parts) > 1 else None
    bare, named = options(head)
    unknown = set(named) - {"grain", "order", "limit"}
    if unknown:
        raise ToolInputError(f"Unknown option {', '.join(sorted(unknown))}=; use grain=, order= or limit=.")
    words = [word.lower() for word in bare]
    metrics_words, group_words = (
        (words[: words.index("by")], words[words.index("by") + 1 :]) if "by" in words else (words, [])
    )
    metrics = _listed(metrics_words)
    if not metrics:
        raise ToolInputError(f"Name a metric or a saved query, for example: {EXAMPLE}")
    tool_input: dict[str, Any] = {}
    if len(metrics) == 1 and metrics[0] in {name.lower() for name in saved_queries} and not group_words:
        tool_input["saved_query"] = metrics[0]
    else:
        tool_input["metrics"] = metrics
        tool_input["group_by"] = _group_by(_listed(group_words), named.get("grain"))
    if where:
        tool_input["where"] = [where]
    if named.get("order"):
        tool_input["order_by"] = _listed([named["order"]])
    if named.get("limit"):
        if not named["limit"].isdigit():
            raise ToolInputError(f"limit= takes a number of rows, not {named['limit']!r}.")
        tool_input["limit"] = int(named["limit"])
    return tool_input


def _listed(words: list[str]) -> list[str]:
    """`revenue, orders` or `revenue,orders` or `revenue orders` -> ["revenue", "orders"]."""
    return [name for word in words for name in word.split(",") if name]


def _group_by(names: list[str], grain: str | None) -> list[Any]:
    """The group-by items; `grain=` sets metric_time's grain and adds metric_time when no item is a time."""
    if grain is None:
        return list(names)
    items: list[Any] = [{"name": name, "grain": grain} if name == "metric_time" else name for name in names]
    if "metric_time" not in names:
        items.insert(0, {"name": "metric_time", "grain": grain})
    return items
