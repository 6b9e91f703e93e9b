"""Reading the dbt profile the way dbt does; each dialect turns the chosen target into its connector."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

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
    # Only a warehouse configured by a dbt profile needs these: not loaded with every start.
    import jinja2
    import yaml

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
