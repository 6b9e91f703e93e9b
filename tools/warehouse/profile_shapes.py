"""dbt_project.yml and profiles.yml checked by shape as they are read, as tools/dbt/shapes.py checks artifacts.

A profile of the wrong shape cannot be half-used (a dropped port would connect elsewhere), so the first file at
fault stops the warehouse with one error naming the file and the path inside it
("profiles.yml: analytics.outputs.dev.port: expected a port number"). Only the parts we read are checked, and
only in the chosen target: dbt's other fields and other targets may be anything.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tools.dbt.shapes import INTEGER, OBJECT, OPTIONAL_TEXT, SCALAR, Kind, ShapeCheck, Spec
from tools.errors import WarehouseError


def _is_port(value: Any) -> bool:
    if isinstance(value, str) and value.strip().isdigit():
        value = int(value)
    return isinstance(value, int) and not isinstance(value, bool) and 0 < value < 65536


def _is_whole_number(value: Any) -> bool:
    return INTEGER.accepts(value) or (isinstance(value, str) and value.strip().isdigit())


PORT = Kind("a port number (1 to 65535)", lambda value: value is None or _is_port(value))
WHOLE_NUMBER = Kind("a whole number", lambda value: value is None or _is_whole_number(value))

# The fields of a target that the dialects read (tools/warehouse/dialects, bigquery_target.py).
_TARGET: Spec = {
    "type": OPTIONAL_TEXT,
    "host": OPTIONAL_TEXT,
    "port": PORT,
    "user": OPTIONAL_TEXT,
    "password": SCALAR,
    "pass": SCALAR,
    "dbname": OPTIONAL_TEXT,
    "database": OPTIONAL_TEXT,
    "schema": OPTIONAL_TEXT,
    "path": OPTIONAL_TEXT,
    "project": OPTIONAL_TEXT,
    "dataset": OPTIONAL_TEXT,
    "method": OPTIONAL_TEXT,
    "keyfile": OPTIONAL_TEXT,
    "keyfile_json": OBJECT,
    "location": OPTIONAL_TEXT,
    "execution_project": OPTIONAL_TEXT,
    "maximum_bytes_billed": WHOLE_NUMBER,
}


def project_profile_name(project: Any, path: Path) -> str:
    """The `profile:` dbt_project.yml names; raises WarehouseError when the file has no such text."""
    if not isinstance(project, dict):
        raise _shape_error(path, "(the whole file)", "an object of settings")
    name = project.get("profile")
    if not isinstance(name, str) or not name:
        raise _shape_error(path, "profile", "the name of a profile in profiles.yml")
    return name


def profile_outputs(profiles: Any, path: Path, profile_name: str) -> tuple[dict[str, Any], str | None]:
    """The profile's outputs and its default target; raises WarehouseError naming a part of the wrong shape."""
    if not isinstance(profiles, dict):
        raise _shape_error(path, "(the whole file)", "an object of profiles by name")
    profile = profiles.get(profile_name)
    if profile is None:
        raise WarehouseError(f"Profile {profile_name!r} (from dbt_project.yml) is not in {path}.")
    if not isinstance(profile, dict):
        raise _shape_error(path, profile_name, "an object with target and outputs")
    target = profile.get("target")
    if target is not None and not isinstance(target, str):
        raise _shape_error(path, f"{profile_name}.target", "the name of one of its outputs")
    outputs = profile.get("outputs")
    if not isinstance(outputs, dict) or not outputs:
        raise _shape_error(path, f"{profile_name}.outputs", "an object of targets by name")
    return outputs, target


def check_target(output: Any, path: Path, where: str) -> dict[str, Any]:
    """A copy of one output, its fields checked; raises WarehouseError naming every field of the wrong shape."""
    if not isinstance(output, dict):
        raise _shape_error(path, where, "an object of connection settings")
    checked = dict(output)
    check = ShapeCheck(str(path))
    check.fields(checked, where, _TARGET)
    if output.get("type") is None:
        check.wrong(f"{where}.type", "text naming the warehouse type (e.g. postgres)")
    if check.problems:
        raise WarehouseError(
            "; ".join(dict.fromkeys(check.problems)) + ". Fix the profile, or give "
            "BLUEPRINTDATA_WAREHOUSE_URL."
        )
    return checked


def _shape_error(path: Path, where: str, expected: str) -> WarehouseError:
    return WarehouseError(f"{path}: {where}: expected {expected}.")
