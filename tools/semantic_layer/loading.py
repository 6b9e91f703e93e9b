"""The project's semantic layer for a dialect, built once and rebuilt when semantic_manifest.json changes."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import TYPE_CHECKING

from tools.dbt.semantic import read_semantic_manifest_text, semantic_manifest_stamp
from tools.errors import ToolInputError

if TYPE_CHECKING:
    from tools.semantic_layer.engine import SemanticLayer

# The dialects tools/semantic_layer/dialects.py has a MetricFlow renderer for, named here without MetricFlow's
# import (a test keeps the two lists equal).
COMPILED_DIALECTS = ("duckdb", "postgres", "bigquery")
_lock = threading.Lock()
_built: dict[tuple[Path, str], tuple[tuple[int, int], SemanticLayer]] = {}


def semantic_layer_for(project_dir: Path | None, dialect: str) -> SemanticLayer:
    """The warm engine for the project and dialect; ToolInputError when the project has no semantic layer."""
    if project_dir is None:
        raise ToolInputError("No dbt project is loaded, so there is no semantic layer to query.")
    stamp = semantic_manifest_stamp(project_dir)
    if stamp is None:
        raise ToolInputError(
            f"The dbt project at {project_dir} has no target/semantic_manifest.json, so it has no metrics to "
            "query. Run `dbt parse` after defining semantic models and metrics; meanwhile use run_query."
        )
    key = (project_dir.resolve(), dialect)
    with _lock:
        cached = _built.get(key)
        if cached is not None and cached[0] == stamp:
            return cached[1]
        # Imported here: MetricFlow takes about a second to import, which commands that never query metrics
        # (and every process start) should not pay.
        from tools.semantic_layer.engine import SemanticLayer

        layer = SemanticLayer(read_semantic_manifest_text(project_dir), dialect)
        _built[key] = (stamp, layer)
        return layer


def compiles_metrics(project_dir: Path | None, dialect: str) -> bool:
    """Whether MetricFlow compiles this project's metrics for this dialect: known without importing it, so
    that checking an alerts file at start pays nothing for it."""
    return (
        project_dir is not None
        and dialect in COMPILED_DIALECTS
        and semantic_manifest_stamp(project_dir) is not None
    )


def optional_semantic_layer(project_dir: Path | None, dialect: str) -> SemanticLayer | None:
    """The semantic layer if the project has one MetricFlow can compile for this dialect, else None."""
    return semantic_layer_for(project_dir, dialect) if compiles_metrics(project_dir, dialect) else None
