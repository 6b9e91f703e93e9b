"""The project's semantic layer for a dialect, built once and rebuilt when semantic_manifest.json changes."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import TYPE_CHECKING

from tools.dbt.semantic import read_semantic_manifest_text, semantic_manifest_stamp
from tools.errors import ToolInputError

if TYPE_CHECKING:
    from tools.semantic_layer.engine import SemanticLayer

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


def optional_semantic_layer(project_dir: Path | None, dialect: str) -> SemanticLayer | None:
    """The semantic layer if the project has one MetricFlow can compile for this dialect, else None."""
    if project_dir is None or semantic_manifest_stamp(project_dir) is None:
        return None
    from tools.semantic_layer.dialects import supported_dialects

    return semantic_layer_for(project_dir, dialect) if dialect in supported_dialects() else None
