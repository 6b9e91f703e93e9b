"""The parts of dbt's artifacts we read, checked by shape as they are read.

A value of the wrong shape is reported once, naming the file and the path inside it ("manifest.json:
nodes.model.shop.x.columns: expected an object"), and then left out: a field is dropped (the readers treat it
as absent), an entry that cannot be read without it (a node without a name) is skipped, and everything else
keeps working. Only the parts we read are checked; dbt's other fields may be anything.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, NotRequired, Required, TypedDict

import msgspec

# The newest manifest schema this code was written against (dbt 1.8 to 1.10 write v12).
KNOWN_MANIFEST_VERSION = 12
_MANIFEST_VERSION = re.compile(r"/manifest/v(\d+)\.json$")


@dataclass(frozen=True)
class Kind:
    """What a value must be, how a problem names it, and the type msgspec checks it as when a whole artifact is
    decoded by shape at once (see `typed`)."""

    label: str
    accepts: Callable[[Any], bool]
    python_type: Any = Any


def _is_text_list(value: Any) -> bool:
    return isinstance(value, list) and all(isinstance(item, str) for item in value)


OBJECT = Kind("an object", lambda value: isinstance(value, dict), dict[str, Any])
LIST = Kind("a list", lambda value: isinstance(value, list), list[Any])
TEXT = Kind("text", lambda value: isinstance(value, str), str)
OPTIONAL_TEXT = Kind("text", lambda value: value is None or isinstance(value, str), str)
TEXT_LIST = Kind("a list of text", _is_text_list, list[str])
# msgspec's int refuses true and false, which isinstance(value, int) lets through: such a file takes the slow path.
SCALAR = Kind(
    "text or a number", lambda value: value is None or isinstance(value, str | int | float), str | int | float
)
INTEGER = Kind(
    "a whole number",
    lambda value: value is None or (isinstance(value, int) and not isinstance(value, bool)),
    int,
)
FILTER = Kind(
    "an object or text", lambda value: value is None or isinstance(value, dict | str), dict[str, Any] | str
)
# Read as it comes (the readers check it where they use it): listed so the typed decoding keeps it.
ANYTHING = Kind("anything", lambda value: True)

Spec = dict[str, "Kind | tuple[Kind, Spec]"]

_COLUMN: Spec = {"name": TEXT, "description": OPTIONAL_TEXT, "data_type": OPTIONAL_TEXT, "meta": OBJECT}
_NODE: Spec = {
    "resource_type": TEXT,
    "description": OPTIONAL_TEXT,
    "relation_name": OPTIONAL_TEXT,
    "database": OPTIONAL_TEXT,
    "schema": OPTIONAL_TEXT,
    "alias": OPTIONAL_TEXT,
    "identifier": OPTIONAL_TEXT,
    "original_file_path": OPTIONAL_TEXT,
    "path": OPTIONAL_TEXT,
    "config": (OBJECT, {"materialized": OPTIONAL_TEXT, "partition_by": ANYTHING}),
    "meta": OBJECT,
    "checksum": (OBJECT, {"checksum": OPTIONAL_TEXT}),
    "depends_on": (OBJECT, {"nodes": TEXT_LIST}),
    "tags": TEXT_LIST,
    "test_metadata": (OBJECT, {"name": TEXT, "kwargs": OBJECT}),
    "column_name": OPTIONAL_TEXT,
    "attached_node": OPTIONAL_TEXT,
    "columns": OBJECT,
    "group": ANYTHING,
    "loaded_at_field": ANYTHING,
    "source_name": ANYTHING,
}
_WHERE: Spec = {"where_filters": LIST}
_SEMANTIC_MODEL: Spec = {
    "model": OPTIONAL_TEXT,
    "node_relation": (OBJECT, {"relation_name": OPTIONAL_TEXT, "alias": OPTIONAL_TEXT}),
    "defaults": (OBJECT, {"agg_time_dimension": OPTIONAL_TEXT}),
    "dimensions": LIST,
    "measures": LIST,
    "depends_on": (OBJECT, {"nodes": TEXT_LIST}),
}
_DIMENSION: Spec = {"name": TEXT, "type_params": (OBJECT, {"time_granularity": OPTIONAL_TEXT})}
_MEASURE: Spec = {"agg": OPTIONAL_TEXT, "expr": SCALAR}
_METRIC: Spec = {
    "label": OPTIONAL_TEXT,
    "description": OPTIONAL_TEXT,
    "type": OPTIONAL_TEXT,
    "calculation_method": OPTIONAL_TEXT,
    "time_granularity": OPTIONAL_TEXT,
    "model": OPTIONAL_TEXT,
    "timestamp": OPTIONAL_TEXT,
    "expression": SCALAR,
    "sql": SCALAR,
    "dimensions": TEXT_LIST,
    "filter": FILTER,
    "type_params": (
        OBJECT,
        {
            "input_measures": LIST,
            "metrics": LIST,
            "measure": OBJECT,
            "numerator": OBJECT,
            "denominator": OBJECT,
            "expr": SCALAR,
            "grain_to_date": OPTIONAL_TEXT,
            "cumulative_type_params": OBJECT,
            "conversion_type_params": (OBJECT, {"base_measure": OBJECT, "conversion_measure": OBJECT}),
        },
    ),
}
_SAVED_QUERY: Spec = {
    "label": OPTIONAL_TEXT,
    "description": OPTIONAL_TEXT,
    "exports": LIST,
    "query_params": (
        OBJECT,
        {"metrics": LIST, "group_by": LIST, "order_by": LIST, "where": (FILTER, _WHERE)},
    ),
}
_CATALOG_COLUMN: Spec = {"type": OPTIONAL_TEXT, "index": INTEGER}
SEMANTIC_SECTIONS = ("semantic_models", "metrics", "saved_queries")


@dataclass
class ShapeCheck:
    """The problems found in one file, each naming the file and the path inside it."""

    file: str
    problems: list[str] = field(default_factory=list)

    def wrong(self, path: str, expected: str, consequence: str = "") -> None:
        self.problems.append(f"{self.file}: {path}: expected {expected}{consequence}")

    def fields(self, holder: dict[str, Any], path: str, spec: Spec) -> None:
        """Drop each field of `holder` that has the wrong shape (null is fine); check nested objects by their own
        spec."""
        for name, rule in spec.items():
            kind, nested = rule if isinstance(rule, tuple) else (rule, None)
            value = holder.get(name)
            if value is None:  # dbt writes null for what is not set; the readers treat it as absent.
                continue
            if not kind.accepts(value):
                self.wrong(f"{path}.{name}", kind.label)
                del holder[name]
            elif nested is not None and isinstance(value, dict):
                self.fields(value, f"{path}.{name}", nested)

    def section(self, document: dict[str, Any], name: str, kind: Kind) -> None:
        """A top-level section of the wrong shape is reported and read as empty."""
        if name in document and document[name] is not None and not kind.accepts(document[name]):
            self.wrong(name, kind.label, "; read as empty")
            document[name] = {} if kind is OBJECT else []

    def named_items(
        self, items: dict[str, Any] | list[Any], path: str, spec: Spec, required: tuple[str, ...]
    ) -> None:
        """Entries of a section (by key or by position): each an object with its required text, or skipped."""
        container: Any = items  # Indexed by key or by position alike below.
        keys: list[Any] = list(items) if isinstance(items, dict) else list(range(len(items)))
        for key in reversed(keys):  # From the end: deleting from a list keeps the earlier positions.
            entry = container[key]
            where = f"{path}.{key}" if isinstance(items, dict) else f"{path}[{key}]"
            if not isinstance(entry, dict):
                self.wrong(where, "an object", "; left out")
                del container[key]
                continue
            missing = next((name for name in required if not isinstance(entry.get(name), str)), None)
            if missing is not None:
                self.wrong(f"{where}.{missing}", "text", "; left out")
                del container[key]
                continue
            self.fields(entry, where, spec)


def check_manifest(manifest: dict[str, Any], nodes_checked: bool = False) -> list[str]:
    """Problems in manifest.json (nodes, sources, semantic sections); bad parts are left out in place.
    `nodes_checked` when nodes and sources were decoded by shape already (MANIFEST_BY_SHAPE)."""
    check = ShapeCheck("manifest.json")
    for name in ("sources", *SEMANTIC_SECTIONS):
        check.section(manifest, name, OBJECT)
    if not nodes_checked:
        check.named_items(manifest.get("nodes") or {}, "nodes", _NODE, ("name",))
        check.named_items(manifest.get("sources") or {}, "sources", _NODE, ("name", "source_name"))
        for section in ("nodes", "sources"):
            for unique_id, node in (manifest.get(section) or {}).items():
                if isinstance(node.get("columns"), dict):
                    check.named_items(node["columns"], f"{section}.{unique_id}.columns", _COLUMN, ())
    _check_semantic_sections(check, manifest)
    return check.problems + _version_warnings(manifest)


def check_semantic_manifest(semantic: dict[str, Any]) -> list[str]:
    """Problems in semantic_manifest.json, whose sections are lists."""
    check = ShapeCheck("semantic_manifest.json")
    for name in SEMANTIC_SECTIONS:
        check.section(semantic, name, LIST)
    _check_semantic_sections(check, semantic)
    return check.problems


def check_catalog(catalog: dict[str, Any]) -> list[str]:
    """Problems in catalog.json: nodes and sources by id, each with columns by name."""
    check = ShapeCheck("catalog.json")
    for section in ("nodes", "sources"):
        check.section(catalog, section, OBJECT)
        entries = catalog.get(section) or {}
        check.named_items(entries, section, {"columns": OBJECT}, ())
        for unique_id, entry in entries.items():
            columns = entry.get("columns")
            if isinstance(columns, dict):
                check.named_items(columns, f"{section}.{unique_id}.columns", _CATALOG_COLUMN, ("name",))
    return check.problems


# TypedDict's functional form, called with fields made at run time (mypy only accepts literal ones).
_TYPED_DICT: Any = TypedDict


def by_key(value_type: Any) -> Any:
    """Objects of `value_type` by key: dbt's nodes by unique id, a node's columns by name."""
    return dict[str, value_type]


def typed(
    name: str, spec: Spec, required: tuple[str, ...] = (), entries: dict[str, Any] | None = None
) -> Any:
    """The type msgspec decodes an object of `spec` as, accepting what ShapeCheck.fields and named_items accept
    without a problem: each field of its kind or null, the `required` ones text. Only these fields are kept; the
    rest of dbt's fields are skipped unread. `entries` names fields holding objects of their own type by key (a
    node's columns)."""
    fields: dict[str, Any] = {}
    for field_name, rule in spec.items():
        kind, nested = rule if isinstance(rule, tuple) else (rule, None)
        if entries and field_name in entries:
            value_type: Any = by_key(entries[field_name])
        elif nested is not None:
            if kind is not OBJECT:
                raise ValueError(f"{name}.{field_name}: only objects are nested by shape")
            value_type = typed(f"{name}_{field_name}", nested)
        else:
            value_type = kind.python_type
        fields[field_name] = NotRequired[value_type | None]
    fields.update({field_name: Required[str] for field_name in required})
    return _TYPED_DICT(name, fields, total=False)


_TYPED_COLUMN = typed("Column", _COLUMN)
# The parts of manifest.json and catalog.json that hold nodes (nearly all of a large project's bytes), by shape.
# A file that decodes so has nothing ShapeCheck would report there; one that does not is read again untyped, and
# checked part by part to say what is wrong.
MANIFEST_BY_SHAPE = msgspec.json.Decoder(
    _TYPED_DICT(
        "Manifest",
        {
            "metadata": Required[dict[str, Any]],
            "nodes": Required[by_key(typed("Node", _NODE, ("name",), {"columns": _TYPED_COLUMN}))],
            "sources": NotRequired[
                by_key(typed("Source", _NODE, ("name", "source_name"), {"columns": _TYPED_COLUMN})) | None
            ],
            **{section: NotRequired[Any] for section in ("groups", *SEMANTIC_SECTIONS)},
        },
        total=False,
    )
)
_CATALOG_COLUMNS = {"columns": typed("CatalogColumn", _CATALOG_COLUMN, ("name",))}
_CATALOG_ENTRIES = by_key(typed("CatalogEntry", {"columns": OBJECT}, (), _CATALOG_COLUMNS))
CATALOG_BY_SHAPE = msgspec.json.Decoder(
    _TYPED_DICT(
        "Catalog",
        {"nodes": NotRequired[_CATALOG_ENTRIES | None], "sources": NotRequired[_CATALOG_ENTRIES | None]},
        total=False,
    )
)


def _check_semantic_sections(check: ShapeCheck, document: dict[str, Any]) -> None:
    specs = {"semantic_models": _SEMANTIC_MODEL, "metrics": _METRIC, "saved_queries": _SAVED_QUERY}
    for name, spec in specs.items():
        items = document.get(name)
        if not isinstance(items, dict | list):
            continue
        check.named_items(items, name, spec, ("name",))
        for key, item in items.items() if isinstance(items, dict) else enumerate(items):
            where = f"{name}.{key}" if isinstance(items, dict) else f"{name}[{key}]"
            if name == "semantic_models":
                for part, part_spec in (("dimensions", _DIMENSION), ("measures", _MEASURE)):
                    if isinstance(item.get(part), list):
                        check.named_items(item[part], f"{where}.{part}", part_spec, ("name",))
            where_filter = (item.get("filter") if name == "metrics" else None) or (
                (item.get("query_params") or {}).get("where") if name == "saved_queries" else None
            )
            if isinstance(where_filter, dict) and isinstance(where_filter.get("where_filters"), list):
                filters = where_filter["where_filters"]
                check.named_items(filters, f"{where}.where_filters", {"where_sql_template": TEXT}, ())


def _version_warnings(manifest: dict[str, Any]) -> list[str]:
    metadata = manifest.get("metadata")
    version = metadata.get("dbt_schema_version") if isinstance(metadata, dict) else None
    match = _MANIFEST_VERSION.search(version) if isinstance(version, str) else None
    if match is None or int(match.group(1)) <= KNOWN_MANIFEST_VERSION:
        return []
    return [
        f"manifest.json: metadata.dbt_schema_version: v{match.group(1)} is newer than the newest schema this "
        f"version of BlueprintData knows (v{KNOWN_MANIFEST_VERSION}); it is read as v{KNOWN_MANIFEST_VERSION}, "
        "so what changed may be missed. Upgrade BlueprintData if answers look wrong."
    ]
