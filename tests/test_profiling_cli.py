"""`blueprintdata init` and `blueprintdata sync` through typer's CliRunner, as a user runs them."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner, Result

from bot.cli.app import app
from demo.load import DEMO_PROJECT_DIR


@pytest.fixture
def clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """No BlueprintData settings from the environment, and a working directory without a .env file."""
    for name in list(os.environ):
        if (
            name.startswith(("BLUEPRINTDATA_", "ANTHROPIC_", "DBT_"))
            and name != "BLUEPRINTDATA_TEST_POSTGRES_URL"
        ):
            monkeypatch.delenv(name)
    workdir = tmp_path / "work"
    workdir.mkdir()
    monkeypatch.chdir(workdir)
    return workdir


@pytest.fixture
def demo_env(demo_data_dir: Path, tmp_path: Path) -> dict[str, str]:
    """The demo (its warehouse built once per test run) with a fresh store."""
    return {
        "BLUEPRINTDATA_DATA_DIR": str(demo_data_dir),
        "BLUEPRINTDATA_DATABASE_URL": f"sqlite:///{tmp_path / 'store.db'}",
    }


def invoke(*args: str, env: dict[str, str]) -> Result:
    return CliRunner().invoke(app, list(args), env={"COLUMNS": "200", "NO_COLOR": "1", **env})


def test_init_profiles_the_demo_and_sync_then_redoes_only_what_is_asked(
    clean_env: Path, demo_env: dict[str, str]
) -> None:
    first = invoke("init", "--demo", env=demo_env)
    assert first.exit_code == 0, first.output
    assert "dbt artifacts and warehouse connection OK" in first.output
    assert "Profiled 16 models · skipped 0 (0 unchanged, 0 not in the warehouse) · failed 0" in first.output
    assert "18 queries (16 profile, 1.0 per model; 2 column listings)" in first.output

    again = invoke("sync", "--demo", env=demo_env)
    assert again.exit_code == 0, again.output
    assert "Profiled 0 models · skipped 16 (16 unchanged" in again.output
    assert "2 queries (0 profile" in again.output

    chosen = invoke("sync", "--demo", "--select", "+dim_products", "-s", "fct_orders", "--full", env=demo_env)
    assert chosen.exit_code == 0, chosen.output
    assert "Profiled 4 models" in chosen.output and "4 profile, 1.0 per model" in chosen.output

    described = invoke("chat", "--demo", "-m", "/describe fct_orders", env=demo_env)
    assert described.exit_code == 0, described.output
    assert "Rows: 88,432" in described.output and 'top: "completed" (85,307)' in described.output


def test_a_bad_selection_names_the_selector_and_the_syntax(clean_env: Path, demo_env: dict[str, str]) -> None:
    result = invoke("sync", "--demo", "--select", "fct_orders tag:nope", env=demo_env)
    assert result.exit_code == 2
    assert "--select 'tag:nope' matches no model" in result.output and "tag:NAME" in result.output


def test_init_outside_a_dbt_project_says_so_and_writes_nothing(clean_env: Path, tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    result = invoke("init", env={"BLUEPRINTDATA_DATA_DIR": str(data_dir)})
    assert result.exit_code == 2
    assert f"{clean_env} is not a dbt project (no dbt_project.yml)" in " ".join(result.output.split())
    assert "Traceback" not in result.output
    assert not data_dir.exists()
    assert list(clean_env.iterdir()) == []


def test_init_without_a_manifest_names_the_dbt_command(clean_env: Path, tmp_path: Path) -> None:
    project = tmp_path / "project"
    project.mkdir()
    (project / "dbt_project.yml").write_text("name: shop\nprofile: shop\n")
    data_dir = tmp_path / "data"
    result = invoke("init", "--project-dir", str(project), env={"BLUEPRINTDATA_DATA_DIR": str(data_dir)})
    assert result.exit_code == 2
    assert "Run `dbt parse`" in " ".join(result.output.split())
    assert not data_dir.exists() and not (project / "target").exists()


@pytest.mark.parametrize(
    ("warehouse_url", "expected"),
    [
        (None, "Cannot connect to the warehouse"),  # the profile's DuckDB file does not exist
        ("postgresql+psycopg://reader@127.0.0.1:1/analytics", "Cannot connect to the warehouse"),
    ],
)
def test_init_with_a_warehouse_that_cannot_connect_writes_nothing(
    clean_env: Path, tmp_path: Path, warehouse_url: str | None, expected: str
) -> None:
    project = tmp_path / "project"
    shutil.copytree(DEMO_PROJECT_DIR, project)
    before = sorted(path.relative_to(project) for path in project.rglob("*"))
    data_dir = tmp_path / "data"
    env = {"BLUEPRINTDATA_DATA_DIR": str(data_dir), "BLUEPRINTDATA_DBT_PROJECT_DIR": str(project)}
    if warehouse_url:
        env["BLUEPRINTDATA_WAREHOUSE_URL"] = warehouse_url
    result = invoke("init", env=env)
    assert result.exit_code == 2, result.output
    text = " ".join(result.output.split())
    assert expected in text and "Traceback" not in text
    assert not data_dir.exists()
    assert sorted(path.relative_to(project) for path in project.rglob("*")) == before
