"""Reading dbt's target/ artifacts, with errors that name the dbt command that makes each one."""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import msgspec

from tools.dbt.shapes import (
    CATALOG_BY_SHAPE,
    MANIFEST_BY_SHAPE,
    check_catalog,
    check_manifest,
    check_semantic_manifest,
)
from tools.errors import DbtArtifactError

logger = logging.getLogger(__name__)


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
    manifest, nodes_checked = _read_json(path, "dbt parse", MANIFEST_BY_SHAPE)
    if not isinstance(manifest.get("nodes"), dict) or not isinstance(manifest.get("metadata"), dict):
        raise DbtArtifactError(
            f"{path} is not a dbt manifest (no nodes or metadata). Run `dbt parse` in {project_dir} to rebuild it."
        )
    # Parts of the wrong shape are reported and left out; the rest of the project keeps working.
    warnings = check_manifest(manifest, nodes_checked)
    catalog_path = project_dir / "target" / "catalog.json"
    catalog = _read_optional(catalog_path, "dbt docs generate", warnings, CATALOG_BY_SHAPE)
    if catalog is not None and not catalog[1]:  # decoded by shape: nothing for the check to find
        warnings += check_catalog(catalog[0])
    semantic_path = project_dir / "target" / "semantic_manifest.json"
    semantic = _read_optional(semantic_path, "dbt parse", warnings)
    if semantic is not None:
        warnings += check_semantic_manifest(semantic[0])
    for warning in warnings:
        logger.warning("%s", warning)
    if catalog is None:  # Ordinary before the first `dbt docs generate`: noted for the model, not logged.
        warnings.append(
            f"No usable target/catalog.json: column types are unknown. Run `dbt docs generate` in {project_dir}."
        )
    return DbtArtifacts(manifest, catalog and catalog[0], semantic and semantic[0], warnings)


def _read_optional(
    path: Path, command: str, warnings: list[str], by_shape: msgspec.json.Decoder[Any] | None = None
) -> tuple[dict[str, Any], bool] | None:
    """An optional artifact, as _read_json reads it, or None when it is missing or unreadable (then said in
    `warnings`)."""
    if not path.exists():
        return None
    try:
        return _read_json(path, command, by_shape)
    except DbtArtifactError as exc:
        warnings.append(f"{exc.message} It is left out meanwhile.")
        return None


def _read_json(
    path: Path, command: str, by_shape: msgspec.json.Decoder[Any] | None = None
) -> tuple[dict[str, Any], bool]:
    """The artifact as plain JSON values, and whether it was decoded `by_shape` (shapes.py): then the parts we
    read have their shape and only they are kept. Otherwise the caller checks its shape, part by part.

    msgspec decodes it, untyped about twice as fast as the json module on a large manifest (the same values), and
    by shape faster again: the fields we do not read are skipped, not made into Python values.
    """
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise DbtArtifactError(f"Cannot read {path}: {exc.strerror}.") from None
    text = raw.removeprefix(b"\xef\xbb\xbf")
    if by_shape is not None:
        try:
            return by_shape.decode(text), True
        except (RecursionError, msgspec.DecodeError):
            pass  # A part of the wrong shape, or no JSON at all: read untyped below, to say which.
    try:
        data = msgspec.json.decode(text)
    except (RecursionError, msgspec.DecodeError):
        try:
            raw.decode("utf-8")  # Names the first bad byte; msgspec only says a string is not UTF-8.
        except UnicodeDecodeError as exc:
            raise DbtArtifactError(
                f"{path} is not UTF-8 text (byte {exc.start}). Run `{command}` again to rebuild it."
            ) from None
        raise DbtArtifactError(
            f"{path} is not valid JSON ({_json_error(path)}). Run `{command}` again to rebuild it."
        ) from None
    if not isinstance(data, dict):
        raise DbtArtifactError(f"{path} is not a dbt artifact. Run `{command}` again to rebuild it.")
    return data, False


def _json_error(path: Path) -> str:
    """Where the JSON breaks, by line and column: msgspec only says the byte, so the slow parser is asked."""
    try:
        json.loads(path.read_bytes().decode("utf-8-sig"))
    except json.JSONDecodeError as exc:
        return f"line {exc.lineno}, column {exc.colno}: {exc.msg}"
    except RecursionError:
        return "nested too deeply to read"
    except (OSError, ValueError) as exc:
        return str(exc)
    return "unreadable"
