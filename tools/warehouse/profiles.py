"""Reading the dbt profile the way dbt does; each dialect turns the chosen target into its connector."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from tools.errors import WarehouseError
from tools.warehouse.profile_shapes import check_target, profile_outputs, project_profile_name
from tools.yaml_text import YamlTextError, load_yaml


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

    environment = jinja2.Environment(undefined=jinja2.StrictUndefined, autoescape=False)
    try:
        text = environment.from_string(path.read_text(encoding="utf-8")).render(env_var=_env_var)
    except _MissingVariable as exc:
        raise WarehouseError(
            f"{path} uses env_var('{exc.args[0]}'), which is not set and has no default. Set it, or give "
            "BLUEPRINTDATA_WAREHOUSE_URL."
        ) from None
    except UnicodeDecodeError as exc:
        raise WarehouseError(
            f"{path} is not UTF-8 text (byte {exc.start}); it is not a dbt YAML file."
        ) from None
    except jinja2.TemplateError as exc:
        raise WarehouseError(f"Cannot render {path}: {exc}.") from None
    except RecursionError:
        raise WarehouseError(f"Cannot render {path}: it nests too deeply.") from None
    try:
        return load_yaml(text)
    except YamlTextError as exc:
        raise WarehouseError(f"{path} is {exc}.") from None


def profile_target(project_dir: Path, profiles_dir: Path | None, target: str | None) -> dict[str, Any]:
    """The selected output of the project's profile, with env_var() rendered."""
    project_file = project_dir / "dbt_project.yml"
    if not project_file.exists():
        raise WarehouseError(f"{project_dir} has no dbt_project.yml, so its dbt profile is unknown.")
    profile_name = project_profile_name(_render_yaml(project_file), project_file)
    path = find_profiles_file(project_dir, profiles_dir)
    outputs, default_target = profile_outputs(_render_yaml(path), path, profile_name)
    chosen = target or default_target
    if chosen not in outputs:
        raise WarehouseError(
            f"Target {chosen!r} is not in profile {profile_name!r} ({path}); targets: {', '.join(map(str, outputs))}. "
            "Set BLUEPRINTDATA_DBT_TARGET."
        )
    output = check_target(outputs[chosen], path, f"{profile_name}.outputs.{chosen}")
    output["_source"] = f"{path} (profile {profile_name}, target {chosen})"
    return output
