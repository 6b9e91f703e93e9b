"""Reading the dbt profile the way dbt does, and turning a duckdb or postgres target into a SQLAlchemy URL."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import jinja2
import sqlalchemy as sa
import yaml

from tools.errors import WarehouseError


class _MissingVariable(Exception):
    pass


def _env_var(name: str, default: str | None = None) -> str:
    value = os.environ.get(name, default)
    if value is None:
        raise _MissingVariable(name)
    return value


def find_profiles_file(project_dir: Path, profiles_dir: Path | None) -> Path:
    """profiles.yml from DBT_PROFILES_DIR, then the project directory, then ~/.dbt."""
    candidates = [profiles_dir] if profiles_dir else []
    candidates += [project_dir, Path.home() / ".dbt"]
    for folder in candidates:
        if folder is not None and (folder / "profiles.yml").exists():
            return folder / "profiles.yml"
    searched = ", ".join(str(folder) for folder in candidates if folder is not None)
    raise WarehouseError(
        f"No profiles.yml found (looked in {searched}). Set DBT_PROFILES_DIR, or give a warehouse URL in "
        "BLUEPRINTDATA_WAREHOUSE_URL."
    )


def _render_yaml(path: Path) -> Any:
    environment = jinja2.Environment(undefined=jinja2.StrictUndefined, autoescape=False)
    try:
        text = environment.from_string(path.read_text()).render(env_var=_env_var)
    except _MissingVariable as exc:
        raise WarehouseError(
            f"{path} uses env_var('{exc.args[0]}'), which is not set and has no default. Set it, or give "
            "BLUEPRINTDATA_WAREHOUSE_URL."
        ) from None
    except jinja2.TemplateError as exc:
        raise WarehouseError(f"Cannot render {path}: {exc}.") from None
    try:
        return yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise WarehouseError(f"{path} is not valid YAML: {exc}.") from None


def profile_target(project_dir: Path, profiles_dir: Path | None, target: str | None) -> dict[str, Any]:
    """The selected output of the project's profile, with env_var() rendered."""
    project_file = project_dir / "dbt_project.yml"
    if not project_file.exists():
        raise WarehouseError(f"{project_dir} has no dbt_project.yml, so its dbt profile is unknown.")
    project = _render_yaml(project_file) or {}
    profile_name = project.get("profile")
    path = find_profiles_file(project_dir, profiles_dir)
    profiles = _render_yaml(path) or {}
    profile = profiles.get(profile_name) if profile_name else None
    if not isinstance(profile, dict):
        raise WarehouseError(f"Profile {profile_name!r} (from dbt_project.yml) is not in {path}.")
    chosen = target or profile.get("target")
    outputs = profile.get("outputs") or {}
    if chosen not in outputs:
        raise WarehouseError(
            f"Target {chosen!r} is not in profile {profile_name!r} ({path}); targets: {', '.join(outputs)}. "
            "Set BLUEPRINTDATA_DBT_TARGET."
        )
    output = dict(outputs[chosen])
    output["_source"] = f"{path} (profile {profile_name}, target {chosen})"
    return output


def url_from_target(output: dict[str, Any], project_dir: Path) -> tuple[sa.URL, str]:
    """A SQLAlchemy URL and our dialect name for a duckdb or postgres target (bigquery has its own client)."""
    kind = output.get("type")
    if kind == "duckdb":
        raw_path = str(output.get("path") or "")
        if not raw_path or raw_path == ":memory:":
            raise WarehouseError(f"The duckdb target in {output['_source']} has no database file to query.")
        path = Path(raw_path).expanduser()
        path = path if path.is_absolute() else project_dir / path
        return sa.URL.create("duckdb", database=str(path)), "duckdb"
    if kind in {"postgres", "redshift"}:
        query = {"options": f"-csearch_path={output['schema']}"} if output.get("schema") else {}
        url = sa.URL.create(
            "postgresql+psycopg",
            username=output.get("user"),
            password=output.get("password") or output.get("pass"),
            host=output.get("host"),
            port=int(output["port"]) if output.get("port") else None,
            database=output.get("dbname") or output.get("database"),
            query=query,
        )
        return url, "postgres"
    raise WarehouseError(
        f"Warehouse type {kind!r} in {output.get('_source')} is not supported; use duckdb, postgres or bigquery, "
        "or set BLUEPRINTDATA_WAREHOUSE_URL."
    )
