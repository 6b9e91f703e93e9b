"""Semantic-model entities: which models share an entity (customer, order), and on which column, so the
project graph can join them."""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from tools.dbt.artifacts import DbtArtifacts
from tools.dbt.building import resolve_reference


def entity_keys(artifacts: DbtArtifacts) -> dict[str, list[tuple[str, str]]]:
    """Entity name -> (model name, column) for each semantic model that declares it."""
    listed = (artifacts.semantic_manifest or {}).get("semantic_models")
    raw_models: list[Any] = listed or list((artifacts.manifest.get("semantic_models") or {}).values())
    keys: dict[str, list[tuple[str, str]]] = defaultdict(list)
    for raw in raw_models:
        if not isinstance(raw, dict):
            continue
        model = _model(raw)
        if not model:
            continue
        for entity in raw.get("entities") or []:
            if isinstance(entity, dict) and entity.get("name"):
                keys[str(entity["name"])].append((model, str(entity.get("expr") or entity["name"])))
    return {name: members for name, members in keys.items() if len(members) > 1}


def _model(raw: dict[str, Any]) -> str | None:
    if raw.get("model") and (name := resolve_reference(str(raw["model"]))):
        return name
    for dependency in (raw.get("depends_on") or {}).get("nodes") or []:
        return str(dependency).rsplit(".", 1)[-1]
    alias = (raw.get("node_relation") or {}).get("alias")
    return str(alias) if alias else None
