"""What a dbt project declares about its data: generic tests and source freshness, read from manifest.json."""

from __future__ import annotations

import json
import threading
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tools.dbt.artifacts import manifest_path

# dbt's own tests, and dbt_utils' multi-column key (the one package test nearly every project uses).
_KNOWN_TESTS = {"not_null", "unique", "accepted_values", "relationships", "unique_combination_of_columns"}
_HOURS_PER_PERIOD = {"minute": 1 / 60, "hour": 1.0, "day": 24.0}


@dataclass(frozen=True)
class DeclaredTest:
    """One generic test on a node: its kind, the columns it covers and its arguments."""

    kind: str
    columns: tuple[str, ...]
    # accepted_values: the values; relationships: the parent's unique id (or name) and column.
    values: tuple[Any, ...] = ()
    parent: str | None = None
    parent_column: str | None = None
    # The test's `where` config, SQL written by the project: dbt tests only the rows it selects.
    where: str | None = None

    @property
    def column(self) -> str:
        return self.columns[0]

    def label(self) -> str:
        """The columns, and the rows the test covers when it has a `where`."""
        columns = " + ".join(self.columns)
        return f"{columns} where {self.where}" if self.where else columns


@dataclass(frozen=True)
class DeclaredFreshness:
    """A source's `loaded_at_field` and `warn_after`, in hours."""

    loaded_at_field: str | None
    warn_after_hours: float | None


@dataclass(frozen=True)
class DeclaredChecks:
    """Everything declared about one node."""

    tests: tuple[DeclaredTest, ...] = ()
    freshness: DeclaredFreshness | None = None

    def of_kind(self, kind: str) -> list[DeclaredTest]:
        return [test for test in self.tests if test.kind == kind]


@dataclass
class _Cached:
    stamp: tuple[int, int]
    by_node: dict[str, DeclaredChecks] = field(default_factory=dict)


class DeclaredChecksReader:
    """Declared checks by node unique id; the manifest is read again only when it changes."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._cache: dict[Path, _Cached] = {}

    def for_node(self, project_dir: Path, unique_id: str) -> DeclaredChecks:
        path = manifest_path(project_dir)
        stat = path.stat()
        stamp = (stat.st_mtime_ns, stat.st_size)
        with self._lock:
            cached = self._cache.get(path)
            if cached is None or cached.stamp != stamp:
                # Only the small extract is kept: a large manifest is not held in memory twice.
                cached = _Cached(stamp, declared_checks(json.loads(path.read_bytes())))
                self._cache[path] = cached
        return cached.by_node.get(unique_id, DeclaredChecks())


def declared_checks(manifest: dict[str, Any]) -> dict[str, DeclaredChecks]:
    """Generic tests and source freshness of every node, by the unique id of the node they check."""
    queryable = set(manifest.get("sources") or {}) | {
        uid for uid, node in (manifest.get("nodes") or {}).items() if node.get("resource_type") != "test"
    }
    tests: dict[str, list[DeclaredTest]] = defaultdict(list)
    for test in (manifest.get("nodes") or {}).values():
        if test.get("resource_type") != "test":
            continue
        parsed = _declared_test(test, queryable)
        if parsed is not None:
            tests[parsed[0]].append(parsed[1])
    checks = {uid: DeclaredChecks(tests=tuple(found)) for uid, found in tests.items()}
    for uid, source in (manifest.get("sources") or {}).items():
        freshness = _freshness(source)
        if freshness is not None:
            checks[uid] = DeclaredChecks(tests=tuple(tests.get(uid, ())), freshness=freshness)
    return checks


def _declared_test(test: dict[str, Any], queryable: set[str]) -> tuple[str, DeclaredTest] | None:
    metadata = test.get("test_metadata") or {}
    kind = metadata.get("name")
    if kind not in _KNOWN_TESTS:
        return None
    kwargs = metadata.get("kwargs") or {}
    dependencies = [d for d in (test.get("depends_on") or {}).get("nodes") or [] if d in queryable]
    attached = test.get("attached_node") or (dependencies[-1] if dependencies else None)
    if not attached:
        return None
    where = (test.get("config") or {}).get("where") or None
    if kind == "unique_combination_of_columns":
        columns = tuple(str(c) for c in kwargs.get("combination_of_columns") or ())
        return (attached, DeclaredTest(kind, columns, where=where)) if columns else None
    column = test.get("column_name") or kwargs.get("column_name")
    if not column:
        return None
    if kind == "accepted_values":
        values = tuple(kwargs.get("values") or ())
        return (attached, DeclaredTest(kind, (str(column),), values=values, where=where)) if values else None
    if kind == "relationships":
        # The parent is the test's other dependency; a self-reference (a parent_id column) depends on one node.
        others = [d for d in dependencies if d != attached] or [attached]
        if not kwargs.get("field"):
            return None
        return attached, DeclaredTest(
            kind, (str(column),), parent=others[0], parent_column=str(kwargs["field"]), where=where
        )
    return attached, DeclaredTest(kind, (str(column),), where=where)


def _freshness(source: dict[str, Any]) -> DeclaredFreshness | None:
    config = source.get("config") or {}
    freshness = source.get("freshness") or config.get("freshness") or {}
    loaded_at = source.get("loaded_at_field") or config.get("loaded_at_field")
    warn_after = _hours(freshness.get("warn_after")) or _hours(freshness.get("error_after"))
    if loaded_at is None and warn_after is None:
        return None
    return DeclaredFreshness(loaded_at, warn_after)


def _hours(window: dict[str, Any] | None) -> float | None:
    if not window or not window.get("count") or window.get("period") not in _HOURS_PER_PERIOD:
        return None
    return float(window["count"]) * _HOURS_PER_PERIOD[str(window["period"])]
