"""profiles.yml and dbt_project.yml of the wrong shape: one error naming the file and the path inside it, no
traceback; `init` exits 2 as for every other configuration fault."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from agent.settings import Settings
from agent.tool_config import warehouse_config
from bot.cli.app import app
from demo.load import DEMO_PROJECT_DIR
from tools.errors import WarehouseError
from tools.warehouse.factory import build_warehouse

_DEV = "shop:\n  target: dev\n  outputs:\n    dev:\n"

# (what profiles.yml holds, what the one error must say: the path inside the file and what was expected)
BROKEN_PROFILES: dict[str, tuple[bytes | str, str]] = {
    "not a mapping": ("- shop\n- dev\n", "(the whole file): expected an object of profiles by name"),
    "plain text": ("just some words\n", "(the whole file): expected an object"),
    "empty file": ("", "(the whole file): expected an object"),
    "profile is a list": ("shop:\n  - dev\n", "shop: expected an object with target and outputs"),
    "outputs missing": ("shop:\n  target: dev\n", "shop.outputs: expected an object of targets"),
    "outputs as a list": (
        "shop:\n  target: dev\n  outputs:\n    - type: duckdb\n      path: x.duckdb\n",
        "shop.outputs: expected an object of targets",
    ),
    "target missing": (
        "shop:\n  outputs:\n    dev:\n      type: duckdb\n      path: x.duckdb\n",
        "Target None is not in profile 'shop'",
    ),
    "target is a list": (
        "shop:\n  target: [dev]\n  outputs:\n    dev:\n      type: duckdb\n",
        "shop.target: expected the name of one of its outputs",
    ),
    "target output is text": (
        _DEV.replace("    dev:\n", "    dev: duckdb\n"),
        "shop.outputs.dev: expected an object",
    ),
    "type missing": (_DEV + "      path: x.duckdb\n", "shop.outputs.dev.type: expected text"),
    "type is a number": (_DEV + "      type: 5\n", "shop.outputs.dev.type: expected text"),
    "port of letters": (
        _DEV
        + "      type: postgres\n      host: localhost\n      port: abc\n      user: u\n      dbname: d\n",
        "shop.outputs.dev.port: expected a port number",
    ),
    "port out of range": (
        _DEV + "      type: postgres\n      host: localhost\n      port: 99999\n",
        "shop.outputs.dev.port: expected a port number",
    ),
    "host as a mapping": (
        _DEV + "      type: postgres\n      host: {a: 1}\n      port: '5432'\n",
        "shop.outputs.dev.host: expected text",
    ),
    "path as a list": (
        _DEV + "      type: duckdb\n      path: [a, b]\n",
        "shop.outputs.dev.path: expected text",
    ),
    "keyfile_json as text": (
        _DEV
        + "      type: bigquery\n      project: p\n      method: service-account-json\n      keyfile_json: x\n",
        "shop.outputs.dev.keyfile_json: expected an object",
    ),
    "bytes billed of letters": (
        _DEV + "      type: bigquery\n      project: p\n      maximum_bytes_billed: lots\n",
        "shop.outputs.dev.maximum_bytes_billed: expected a whole number",
    ),
    "binary bytes": (b"\x89PNG\r\n\x1a\n\x00\xff\xfe binary", "is not UTF-8 text"),
    "a NUL byte": ("shop:\x00\n", "is not valid YAML"),
    "broken YAML": (
        'shop:\n  target: dev\n  outputs: {dev: {password: "hunter2\n',
        "is not valid YAML (line",
    ),
    "deep nesting": ("[" * 5000 + "]" * 5000, "profiles.yml"),
    "bad template": ("shop: {{ env_var( }}\n", "Cannot render"),
}


def _project(tmp_path: Path, profiles: bytes | str) -> Path:
    project = tmp_path / "project"
    shutil.copytree(DEMO_PROJECT_DIR, project)
    target = project / "profiles.yml"
    target.write_bytes(profiles if isinstance(profiles, bytes) else profiles.encode())
    return project


def _build(project: Path) -> None:
    build_warehouse(warehouse_config(Settings.model_validate({}, by_name=True)), project)


@pytest.mark.parametrize("case", BROKEN_PROFILES, ids=list(BROKEN_PROFILES))
def test_a_broken_profiles_file_is_one_error_naming_the_file_and_the_path(
    case: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("DBT_PROFILES_DIR", raising=False)
    profiles, expected = BROKEN_PROFILES[case]
    project = _project(tmp_path, profiles)
    with pytest.raises(WarehouseError) as failure:
        _build(project)
    message = failure.value.message
    assert str(project / "profiles.yml") in message and expected in message, message
    assert "\n" not in message and "hunter2" not in message


def test_a_good_profile_still_loads_and_a_port_may_be_digits(tmp_path: Path) -> None:
    project = _project(
        tmp_path,
        _DEV
        + "      type: postgres\n      host: 127.0.0.1\n      port: '5433'\n      user: u\n      dbname: d\n"
        "      threads: many\n    other: [anything, at, all]\n",
    )
    # Fields we do not read (threads) and targets not chosen (other) may be anything.
    assert build_warehouse(
        warehouse_config(Settings.model_validate({}, by_name=True)), project
    ).dialect.name == ("postgres")


@pytest.mark.parametrize(
    ("project_file", "expected"),
    [
        ("- a\n- b\n", "dbt_project.yml: (the whole file): expected an object"),
        ("name: shop\n", "profile: expected"),
    ],
)
def test_a_broken_dbt_project_file_is_one_error(tmp_path: Path, project_file: str, expected: str) -> None:
    project = _project(tmp_path, _DEV + "      type: duckdb\n      path: x.duckdb\n")
    (project / "dbt_project.yml").write_text(project_file)
    with pytest.raises(WarehouseError, match=expected.replace("(", r"\(").replace(")", r"\)")):
        _build(project)


@pytest.mark.parametrize("case", ["outputs as a list", "port of letters", "binary bytes"])
def test_init_stops_on_a_broken_profile_in_one_line_with_exit_code_2(case: str, tmp_path: Path) -> None:
    project = _project(tmp_path, BROKEN_PROFILES[case][0])
    env = {name: value for name, value in os.environ.items() if name.startswith("BLUEPRINTDATA_")}
    env = dict.fromkeys(env, None) | {  # type: ignore[arg-type]
        "BLUEPRINTDATA_DATA_DIR": str(tmp_path / "data"),
        "BLUEPRINTDATA_DBT_PROJECT_DIR": str(project),
        "DBT_PROFILES_DIR": None,
        "COLUMNS": "300",
        "NO_COLOR": "1",
    }
    result = CliRunner().invoke(app, ["init"], env=env)
    assert result.exit_code == 2, result.output
    errors = [line for line in result.output.splitlines() if line.startswith("Error:")]
    assert len(errors) == 1 and "profiles.yml" in errors[0] and BROKEN_PROFILES[case][1] in result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)
    assert not (tmp_path / "data").exists()
