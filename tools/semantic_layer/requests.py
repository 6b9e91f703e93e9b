"""A metric query as we pass it around: what to compute, by what, filtered how; and its compiled SQL."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

# The grains MetricFlow accepts after a time dimension's name: metric_time__week, order__order_date__month.
GRAINS = ("hour", "day", "week", "month", "quarter", "year")

# A quoted string literal, kept as it is when a shorthand filter is turned into MetricFlow's syntax.
_QUOTED = re.compile(r"('(?:[^']|'')*')")
_NAME = re.compile(r"\b[a-z_][a-z0-9_]*__[a-z0-9_]+\b|\bmetric_time\b", re.IGNORECASE)


@dataclass(frozen=True)
class MetricRequest:
    """Metrics by group-by items (dunder names, a time grain as a suffix), or one saved query by name.

    `where` holds MetricFlow filters (`{{ Dimension('order__channel') }} = 'web'`); `order_by` names a metric
    or group-by item, `-` first for descending.
    """

    metrics: tuple[str, ...] = ()
    group_by: tuple[str, ...] = ()
    where: tuple[str, ...] = ()
    order_by: tuple[str, ...] = ()
    limit: int | None = None
    saved_query: str | None = None


@dataclass(frozen=True)
class CompiledMetricQuery:
    """The SQL MetricFlow wrote for a request, in the warehouse's dialect, and the governed metrics it computes."""

    request: MetricRequest
    sql: str
    dialect: str
    metrics: tuple[str, ...]
    compile_ms: float


def with_grain(name: str, grain: str | None) -> str:
    """`metric_time` with grain `week` -> `metric_time__week`; a name that already ends in a grain stays."""
    if not grain or name.rsplit("__", 1)[-1].lower() in GRAINS:
        return name
    return f"{name}__{grain.lower()}"


def templated_where(text: str, time_dimensions: Iterable[str]) -> str:
    """A filter in MetricFlow's syntax: written that way already, or shorthand whose dunder names become
    `{{ Dimension(...) }}` and time dimensions `{{ TimeDimension(..., grain) }}`; quoted strings stay."""
    if "{{" in text:
        return text
    times = {name.lower() for name in time_dimensions} | {"metric_time"}

    def template(match: re.Match[str]) -> str:
        name = match.group(0)
        base, _, grain = name.rpartition("__")
        if base and base.lower() in times and grain.lower() in GRAINS:
            return f"{{{{ TimeDimension('{base}', '{grain}') }}}}"
        if name.lower() in times:
            return f"{{{{ TimeDimension('{name}', 'day') }}}}"
        return f"{{{{ Dimension('{name}') }}}}"

    parts = _QUOTED.split(text)
    return "".join(part if index % 2 else _NAME.sub(template, part) for index, part in enumerate(parts))
