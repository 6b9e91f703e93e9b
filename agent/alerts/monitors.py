"""Monitors without config: a `monitors:` entry (or `meta: {blueprintdata: {monitor: true}}` on a model) turns
into two alerts per selected model, run like any other (incidents, owners, routing):

- `volume.<model>`: rows per day of the model's likeliest time column;
- `freshness.<model>`: how old its newest row is (by `loaded_at_field`, else the likeliest load or time column),
  stale past `warn_after`.

    monitors:
      - select: "tag:mart"      # dbt selection syntax (names, tag:, path:, source:, +parents, children+)
        exclude: metricflow_time_spine  # optional, the same syntax, as dbt's --exclude
        warn_after: 1d          # optional; also any alert field (schedule, channel, sensitivity...)
"""

from __future__ import annotations

from typing import Any

from tools.dbt.index import DbtIndex
from tools.dbt.nodes import DbtNode
from tools.profiling.selection import SelectionError, select_nodes

DEFAULT_WARN_AFTER = "1d"
_MONITOR_KEYS = {"select", "exclude", "volume", "freshness"}
# Column names that usually say when a row happened (for volume) or arrived (for freshness), best first.
_EVENT_HINTS = ("date", "_at", "_on", "time", "day")
_LOAD_HINTS = ("loaded_at", "_loaded", "updated_at", "inserted_at", "ingested", "synced", "created_at")


def monitor_entries(
    monitors: list[Any], defaults: dict[str, Any], index: DbtIndex
) -> tuple[list[dict[str, Any]], list[str]]:
    """The alert entries the monitors make (after the file's defaults), and why some could not be made."""
    entries: dict[str, dict[str, Any]] = {}
    problems: list[str] = []
    chosen: list[tuple[DbtNode, dict[str, Any]]] = []
    for position, monitor in enumerate(monitors, start=1):
        if not isinstance(monitor, dict) or not isinstance(monitor.get("select"), str):
            problems.append(f"monitor #{position}: needs select, e.g. select: 'tag:mart'")
            continue
        candidates = [node for node in index.nodes() if node.resource_type in ("model", "source", "snapshot")]
        try:
            nodes = select_nodes(index, monitor["select"], candidates)
            if isinstance(monitor.get("exclude"), str):
                left_out = {node.unique_id for node in select_nodes(index, monitor["exclude"], nodes)}
                nodes = [node for node in nodes if node.unique_id not in left_out]
        except SelectionError as exc:
            problems.append(f"monitor #{position}: {exc}")
            continue
        chosen.extend((node, monitor) for node in nodes)
    opted_in = [
        node for node in index.nodes() if (node.meta.get("blueprintdata") or {}).get("monitor") is True
    ]
    chosen.extend((node, {}) for node in opted_in)
    for node, monitor in chosen:
        settings = {key: value for key, value in monitor.items() if key not in _MONITOR_KEYS}
        for entry in _entries_for(node, monitor, {**defaults, **settings}):
            entries.setdefault(entry["name"], entry)
    return list(entries.values()), problems


def _entries_for(node: DbtNode, monitor: dict[str, Any], settings: dict[str, Any]) -> list[dict[str, Any]]:
    event = likeliest_time_column(node, _EVENT_HINTS)
    if event is None:
        return []  # Nothing says when a row happened: no volume, no freshness.
    loaded = node.loaded_at_field or likeliest_time_column(node, _LOAD_HINTS, fallback=event)
    made = []
    if monitor.get("volume", True):
        made.append(
            {
                **settings,
                "name": f"volume.{node.name}",
                "description": f"Rows per day in {node.name} (a monitor).",
                "model": node.name,
                "time_column": event,
                "measure": "count(*)",
                "label": f"rows in {node.name}",
                "monitor": "volume",
            }
        )
    if monitor.get("freshness", True):
        made.append(
            {
                **settings,
                "name": f"freshness.{node.name}",
                "description": f"How old the newest row of {node.name} is, by {loaded} (a monitor).",
                "model": node.name,
                "time_column": loaded,
                "measure": f"max({loaded})",
                "label": f"hours since the newest row in {node.name}",
                "monitor": "freshness",
                "warn_after": settings.get("warn_after", DEFAULT_WARN_AFTER),
            }
        )
    return made


def likeliest_time_column(node: DbtNode, hints: tuple[str, ...], fallback: str | None = None) -> str | None:
    """The time column whose name best matches `hints` (earlier hints first), else the first time column."""
    columns = node.time_columns()
    for hint in hints:
        for column in columns:
            if hint in column.lower():
                return column
    return fallback or (columns[0] if columns else None)
