"""The fields of dbt's manifest.json and catalog.json that the index reads, as msgspec Structs.

Decoding into these skips every other field (compiled SQL, configs, macros, docs) without building it, which
is most of a large manifest: a 5,000-model manifest decodes in a tenth of json.loads' time. The result is
turned back into plain dicts holding only these fields, so the rest of the code reads an artifact the same way
whether it came from a file or was built in a test. Every field is optional and may be null; a field of the
wrong type is an error naming where it is (`$.nodes['model.shop.orders'].columns`).
"""

from __future__ import annotations

from typing import Any

import msgspec


class _Lean(msgspec.Struct, omit_defaults=True):
    """A field left out of the file (or null) is left out of the dict too, as json.loads would leave it."""


class _Column(_Lean):
    name: str | None = None
    description: str | None = None
    data_type: str | None = None
    meta: dict[str, Any] | None = None


class _Config(_Lean):
    materialized: str | None = None


class _Checksum(_Lean):
    checksum: str | None = None


class _DependsOn(_Lean):
    nodes: list[str] | None = None


class _TestMetadata(_Lean):
    name: str | None = None
    kwargs: dict[str, Any] | None = None


class _Node(_Lean):
    """A model, seed, snapshot, source or test: what the index, its keys, joins and lineage need."""

    resource_type: str | None = None
    name: str | None = None
    source_name: str | None = None
    description: str | None = None
    relation_name: str | None = None
    database: str | None = None
    schema: str | None = None
    alias: str | None = None
    identifier: str | None = None
    config: _Config | None = None
    tags: list[str] | None = None
    original_file_path: str | None = None
    path: str | None = None
    meta: dict[str, Any] | None = None
    columns: dict[str, _Column] | None = None
    checksum: _Checksum | None = None
    depends_on: _DependsOn | None = None
    attached_node: str | None = None
    column_name: str | None = None
    test_metadata: _TestMetadata | None = None


class _Manifest(_Lean):
    # The semantic layer is small and read field by field in semantic.py: kept whole.
    metadata: dict[str, Any] | None = None
    nodes: dict[str, _Node] | None = None
    sources: dict[str, _Node] | None = None
    semantic_models: dict[str, Any] | None = None
    metrics: dict[str, Any] | None = None
    saved_queries: dict[str, Any] | None = None


class _CatalogColumn(_Lean):
    name: str | None = None
    type: str | None = None
    index: int | None = None


class _CatalogEntry(_Lean):
    columns: dict[str, _CatalogColumn] | None = None


class _Catalog(_Lean):
    metadata: dict[str, Any] | None = None
    nodes: dict[str, _CatalogEntry] | None = None
    sources: dict[str, _CatalogEntry] | None = None


_DECODERS: dict[str, msgspec.json.Decoder[Any]] = {
    "manifest.json": msgspec.json.Decoder(_Manifest),
    "catalog.json": msgspec.json.Decoder(_Catalog),
}
_ANY = msgspec.json.Decoder()


def decode_artifact(name: str, data: bytes) -> Any:
    """The artifact file `name` decoded: manifest and catalog to dicts of the fields the index reads, any
    other artifact whole. Raises msgspec.ValidationError (a field of the wrong type, or not a JSON object)
    or msgspec.DecodeError (not JSON)."""
    decoder = _DECODERS.get(name)
    if decoder is None:
        return _ANY.decode(data)
    return msgspec.to_builtins(decoder.decode(data))
