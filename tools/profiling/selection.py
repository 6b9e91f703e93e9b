"""A subset of dbt's node selection syntax: names, tag:, path:, source:, +ancestors and descendants+."""

from __future__ import annotations

import fnmatch
import re
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from tools.dbt.index import DbtIndex
    from tools.dbt.nodes import DbtNode

# [n]+selector[+[n]]: `+fct_orders` (all parents), `fct_orders+` (all children), `1+fct_orders` (direct parents).
_GRAPH = re.compile(
    r"^(?:(?P<up_depth>\d*)(?P<up>\+))?(?P<selector>[^+]+)(?:(?P<down>\+)(?P<down_depth>\d*))?$"
)


class SelectionError(ValueError):
    """A --select expression that is malformed or matches nothing; the message says what exists."""


def select_nodes(index: DbtIndex, expression: str | None, candidates: Iterable[DbtNode]) -> list[DbtNode]:
    """The candidate nodes matched by a space-separated union of selectors; all of them when no expression."""
    pool = list(candidates)
    if not expression or not expression.strip():
        return pool
    allowed = {node.unique_id for node in pool}
    chosen: set[str] = set()
    for selector in expression.split():
        matched = _graph_select(index, selector)
        if not matched:
            raise SelectionError(
                f"--select {selector!r} matches no model. Use a model name (fct_orders, stg_*), tag:NAME, "
                "path:models/marts or source:NAME, with + for parents (+fct_orders) or children (fct_orders+)."
            )
        chosen |= matched
    return [node for node in pool if node.unique_id in chosen and node.unique_id in allowed]


def _graph_select(index: DbtIndex, selector: str) -> set[str]:
    match = _GRAPH.match(selector)
    if match is None:
        raise SelectionError(f"--select {selector!r} is not a selector dbt would accept, e.g. +fct_orders+.")
    seeds = [node for node in index.nodes() if _matches(node, match.group("selector"))]
    found = {node.unique_id for node in seeds}
    if match.group("up"):
        found |= _walk(seeds, index.upstream, _depth(match.group("up_depth")))
    if match.group("down"):
        found |= _walk(seeds, index.downstream, _depth(match.group("down_depth")))
    return found


def _depth(text: str | None) -> int | None:
    return int(text) if text else None


def _walk(start: list[DbtNode], step: Callable[[DbtNode], list[DbtNode]], depth: int | None) -> set[str]:
    """Every node reachable from `start` within `depth` steps (no limit when None)."""
    seen: set[str] = set()
    frontier = list(start)
    level = 0
    while frontier and (depth is None or level < depth):
        level += 1
        following = []
        for node in frontier:
            for neighbour in step(node):
                if neighbour.unique_id not in seen:
                    seen.add(neighbour.unique_id)
                    following.append(neighbour)
        frontier = following
    return seen


def _matches(node: DbtNode, selector: str) -> bool:
    method, _, value = selector.partition(":") if ":" in selector else ("", "", selector)
    lowered = value.lower()
    if method == "tag":
        return lowered in {tag.lower() for tag in node.tags}
    if method == "path":
        path = node.path.replace("\\", "/").lower()
        wanted = lowered.replace("\\", "/").rstrip("/")
        return path == wanted or path.startswith(wanted + "/")
    if method == "source":
        source_name, _, table = lowered.partition(".")
        parts = node.name.lower().split(".", 1)
        return (
            node.resource_type == "source"
            and parts[0] == source_name
            and (not table or fnmatch.fnmatchcase(parts[-1], table))
        )
    if method:
        raise SelectionError(f"--select method {method!r} is not supported; use tag:, path: or source:.")
    return fnmatch.fnmatchcase(node.name.lower(), lowered) or node.unique_id.lower() == lowered
