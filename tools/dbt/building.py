"""Turning parsed dbt artifacts into nodes, keys, joins and lineage (metrics: see semantic.py)."""

from __future__ import annotations

import re
from collections import defaultdict
from typing import Any

from tools.dbt.artifacts import DbtArtifacts
from tools.dbt.nodes import DbtColumn, DbtNode, Join, Partitioning

QUERYABLE = {"model", "source", "seed", "snapshot"}
_REF = re.compile(r"""ref\(\s*['"]([^'"]+)['"]\s*(?:,\s*['"]([^'"]+)['"]\s*)?\)""")
_SOURCE = re.compile(r"""source\(\s*['"]([^'"]+)['"]\s*,\s*['"]([^'"]+)['"]\s*\)""")
_UNDOCUMENTED: dict[str, Any] = {}


def build_nodes(artifacts: DbtArtifacts) -> list[DbtNode]:
    """Every queryable node, with catalog types and what its tests say about keys and joins."""
    manifest = artifacts.manifest
    raw_nodes: dict[str, dict[str, Any]] = {
        uid: node for uid, node in manifest.get("nodes", {}).items() if node.get("resource_type") in QUERYABLE
    }
    raw_nodes.update(manifest.get("sources", {}))
    catalog_columns = _catalog_columns(artifacts.catalog)
    tests = _tests_by_node(manifest, raw_nodes)
    accepted = _accepted_values(manifest)
    joins = _joins_by_node(manifest)
    group_owners = _group_owners(manifest)
    nodes = []
    for unique_id, raw in raw_nodes.items():
        try:
            nodes.append(_node(unique_id, raw, catalog_columns, tests, accepted, joins, group_owners))
        except (KeyError, TypeError, AttributeError, ValueError) as exc:
            # shapes.py checks what we read; a shape it does not know costs this node, not the project.
            artifacts.warnings.append(f"manifest.json: {unique_id}: cannot be read ({exc!r}); left out")
    return nodes


def _node(
    unique_id: str,
    raw: dict[str, Any],
    catalog_columns: dict[str, dict[str, tuple[str, str]]],
    tests: dict[str, dict[str, set[str]]],
    accepted: dict[str, dict[str, tuple[str, ...]]],
    joins: dict[str, list[Join]],
    group_owners: dict[str, tuple[str, ...]],
) -> DbtNode:
    node_tests = tests.get(unique_id, {})
    columns = _columns(raw, catalog_columns.get(unique_id, {}), node_tests, accepted.get(unique_id, {}))
    return DbtNode(
        unique_id=unique_id,
        name=raw["name"] if raw.get("resource_type") != "source" else f"{raw['source_name']}.{raw['name']}",
        resource_type=raw.get("resource_type", "model"),
        description=(raw.get("description") or "").strip(),
        relation_name=raw.get("relation_name"),
        database=raw.get("database"),
        schema=raw.get("schema"),
        identifier=raw.get("alias") or raw.get("identifier") or raw["name"],
        materialization=(raw.get("config") or {}).get("materialized"),
        tags=tuple(raw.get("tags") or ()),
        path=raw.get("original_file_path") or raw.get("path") or "",
        meta=dict(raw.get("meta") or {}),
        columns=columns,
        checksum=(raw.get("checksum") or {}).get("checksum"),
        depends_on=tuple((raw.get("depends_on") or {}).get("nodes") or ()),
        unique_keys=tuple(sorted(c for c, kinds in node_tests.items() if "unique" in kinds)),
        not_null_columns=tuple(sorted(c for c, kinds in node_tests.items() if "not_null" in kinds)),
        joins=tuple(joins.get(unique_id, ())),
        group=raw.get("group"),
        group_owners=group_owners.get(str(raw.get("group") or ""), ()),
        loaded_at_field=raw.get("loaded_at_field"),
        partitioning=_partitioning((raw.get("config") or {}).get("partition_by")),
    )


def _partitioning(spec: Any) -> Partitioning | None:
    """dbt-bigquery's `partition_by: {field, data_type, granularity}`; anything else (other adapters' lists of
    columns, a malformed entry) is no partitioning we can filter on."""
    if not isinstance(spec, dict) or not isinstance(spec.get("field"), str) or not spec["field"]:
        return None
    return Partitioning(
        spec["field"],
        str(spec.get("data_type") or "date").lower(),
        str(spec.get("granularity") or "day").lower(),
    )


def _group_owners(manifest: dict[str, Any]) -> dict[str, tuple[str, ...]]:
    """Per dbt group name, how to reach its owner: the owner's email, and `slack` when the project adds one."""
    owners: dict[str, tuple[str, ...]] = {}
    for group in (manifest.get("groups") or {}).values():
        owner = group.get("owner") or {}
        contacts = tuple(str(owner[key]) for key in ("slack", "email") if owner.get(key))
        owners[str(group.get("name"))] = contacts
    return owners


def _catalog_columns(catalog: dict[str, Any] | None) -> dict[str, dict[str, tuple[str, str]]]:
    """By node and lower-case column name: the column's name as the warehouse spells it, and its type."""
    if not catalog:
        return {}
    found: dict[str, dict[str, tuple[str, str]]] = {}
    for section in ("nodes", "sources"):
        for unique_id, entry in (catalog.get(section) or {}).items():
            ordered = sorted((entry.get("columns") or {}).values(), key=lambda c: c.get("index") or 0)
            found[unique_id] = {c["name"].lower(): (c["name"], c.get("type") or "") for c in ordered}
    return found


def _columns(
    raw: dict[str, Any],
    catalog: dict[str, tuple[str, str]],
    tests: dict[str, set[str]],
    accepted: dict[str, tuple[str, ...]],
) -> tuple[DbtColumn, ...]:
    documented = {name.lower(): column for name, column in (raw.get("columns") or {}).items()}
    names = list(catalog) + [name for name in documented if name not in catalog]
    columns = []
    for lowered in names:
        doc = documented.get(lowered, _UNDOCUMENTED)
        listed = catalog.get(lowered)
        column_tests = tests.get(lowered)
        meta = doc.get("meta")
        columns.append(
            DbtColumn(
                # The warehouse's spelling: case matters when a query quotes the name.
                name=listed[0] if listed else doc.get("name") or lowered,
                data_type=(listed[1] if listed else None) or doc.get("data_type"),
                description=(doc.get("description") or "").strip(),
                tests=tuple(sorted(column_tests)) if column_tests else (),
                meta=dict(meta) if meta else {},
                accepted_values=accepted.get(lowered, ()),
            )
        )
    return tuple(columns)


def _tests_by_node(manifest: dict[str, Any], raw_nodes: dict[str, Any]) -> dict[str, dict[str, set[str]]]:
    found: dict[str, dict[str, set[str]]] = defaultdict(lambda: defaultdict(set))
    for test in manifest.get("nodes", {}).values():
        if test.get("resource_type") != "test" or not test.get("test_metadata"):
            continue
        attached = test.get("attached_node") or _first_dependency(test, raw_nodes)
        column = test.get("column_name") or (test["test_metadata"].get("kwargs") or {}).get("column_name")
        kind = test["test_metadata"].get("name")  # shapes.py drops a name that is not text
        if attached and column and kind:
            found[attached][str(column).lower()].add(kind)
    return found


def _accepted_values(manifest: dict[str, Any]) -> dict[str, dict[str, tuple[str, ...]]]:
    """The values each column's accepted_values test allows, by node and lower-case column."""
    found: dict[str, dict[str, tuple[str, ...]]] = defaultdict(dict)
    for test in manifest.get("nodes", {}).values():
        metadata = test.get("test_metadata") or {}
        if metadata.get("name") != "accepted_values" or not test.get("attached_node"):
            continue
        kwargs = metadata.get("kwargs") or {}
        column = test.get("column_name") or kwargs.get("column_name")
        values = kwargs.get("values")
        if column and isinstance(values, list):
            found[test["attached_node"]][str(column).lower()] = tuple(str(value) for value in values)
    return found


def _first_dependency(test: dict[str, Any], raw_nodes: dict[str, Any]) -> str | None:
    for dependency in (test.get("depends_on") or {}).get("nodes") or []:
        if dependency in raw_nodes:
            return str(dependency)
    return None


def _joins_by_node(manifest: dict[str, Any]) -> dict[str, list[Join]]:
    """relationships tests, by the node they are attached to."""
    joins: dict[str, list[Join]] = defaultdict(list)
    for test in manifest.get("nodes", {}).values():
        metadata = test.get("test_metadata") or {}
        if metadata.get("name") != "relationships" or not test.get("attached_node"):
            continue
        kwargs = metadata.get("kwargs") or {}
        target = resolve_reference(str(kwargs.get("to", "")))
        if target and kwargs.get("field"):
            joins[test["attached_node"]].append(
                Join(str(test.get("column_name")), target, str(kwargs["field"]))
            )
    return joins


def resolve_reference(text: str) -> str | None:
    """The node name a `ref('x')` or `source('a', 'b')` string points at."""
    if match := _REF.search(text):
        return match.group(2) or match.group(1)
    if match := _SOURCE.search(text):
        return f"{match.group(1)}.{match.group(2)}"
    return None
