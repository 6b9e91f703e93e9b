"""Reading dbt's target/ artifacts, with errors that name the dbt command that makes each one."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import msgspec

from tools.dbt.artifact_fields import decode_artifact
from tools.errors import DbtArtifactError


@dataclass(frozen=True)
class DbtArtifacts:
    """The parsed artifacts of one project; catalog and semantic manifest are optional."""

    manifest: dict[str, Any]
    catalog: dict[str, Any] | None
    semantic_manifest: dict[str, Any] | None
    warnings: list[str] = field(default_factory=list)


def manifest_path(project_dir: Path) -> Path:
    return project_dir / "target" / "manifest.json"


def read_artifacts(project_dir: Path) -> DbtArtifacts:
    """Read manifest.json (required), catalog.json and semantic_manifest.json (optional)."""
    if not project_dir.is_dir():
        raise DbtArtifactError(
            f"dbt project directory {project_dir} does not exist. Set BLUEPRINTDATA_DBT_PROJECT_DIR to the "
            "folder that holds dbt_project.yml."
        )
    path = manifest_path(project_dir)
    if not path.exists():
        hint = (
            ""
            if (project_dir / "dbt_project.yml").exists()
            else " (and it has no dbt_project.yml: is it a dbt project?)"
        )
        raise DbtArtifactError(
            f"No dbt manifest at {path}{hint}. Run `dbt parse` in {project_dir} to create target/manifest.json."
        )
    manifest = _read_json(path, "dbt parse")
    if not isinstance(manifest.get("nodes"), dict) or "metadata" not in manifest:
        raise DbtArtifactError(
            f"{path} is not a dbt manifest (no nodes or metadata). Run `dbt parse` in {project_dir} to rebuild it."
        )
    warnings = []
    catalog_path = project_dir / "target" / "catalog.json"
    catalog = _read_json(catalog_path, "dbt docs generate") if catalog_path.exists() else None
    if catalog is None:
        warnings.append(
            f"No target/catalog.json: column types are unknown. Run `dbt docs generate` in {project_dir}."
        )
    semantic_path = project_dir / "target" / "semantic_manifest.json"
    semantic = _read_json(semantic_path, "dbt parse") if semantic_path.exists() else None
    return DbtArtifacts(manifest, catalog, semantic, warnings)


def _read_json(path: Path, command: str) -> dict[str, Any]:
    try:
        data = decode_artifact(path.name, path.read_bytes())
    except msgspec.ValidationError as exc:
        raise DbtArtifactError(
            f"{path} is not a dbt artifact ({exc}). Run `{command}` again to rebuild it."
        ) from None
    except msgspec.DecodeError:
        raise DbtArtifactError(
            f"{path} is not valid JSON ({_json_error(path)}). Run `{command}` again to rebuild it."
        ) from None
    except OSError as exc:
        raise DbtArtifactError(f"Cannot read {path}: {exc.strerror}.") from None
    if not isinstance(data, dict):
        raise DbtArtifactError(f"{path} is not a dbt artifact. Run `{command}` again to rebuild it.")
    return data


def _json_error(path: Path) -> str:
    """Where the JSON breaks, by line and column: msgspec only says the byte, so the slow parser is asked."""
    try:
        json.loads(path.read_bytes())
    except json.JSONDecodeError as exc:
        return f"line {exc.lineno}, column {exc.colno}: {exc.msg}"
    except (OSError, ValueError) as exc:
        return str(exc)
    return "unreadable"
