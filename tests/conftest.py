"""Shared fixtures: real databases, never mocks."""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from agent.runtime import Runtime, build_runtime
from agent.settings import Settings
from demo.load import ensure_demo_warehouse
from tests.slack_support import start_bot  # noqa: F401  (a fixture, registered here for every module)

POSTGRES_URL_VARIABLE = "BLUEPRINTDATA_TEST_POSTGRES_URL"


@pytest.fixture(scope="session")
def postgres_server_url() -> str:
    """URL of the PostgreSQL server for tests; skips when the variable is unset."""
    url = os.environ.get(POSTGRES_URL_VARIABLE)
    if not url:
        pytest.skip(
            f"{POSTGRES_URL_VARIABLE} is not set; set it to e.g. "
            "postgresql+psycopg://postgres@127.0.0.1:5432/test to run PostgreSQL tests"
        )
    return url


@pytest.fixture
def postgres_url(postgres_server_url: str) -> Iterator[str]:
    """A fresh, empty PostgreSQL database for one test, dropped afterwards."""
    name = f"bp_test_{uuid.uuid4().hex[:12]}"
    admin = sa.create_engine(postgres_server_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(sa.text(f'CREATE DATABASE "{name}"'))
    try:
        yield sa.make_url(postgres_server_url).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as connection:
            connection.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture(params=["sqlite", "postgres"])
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A conversation store's URL: a new SQLite file (in a folder still to be made), or a fresh PostgreSQL
    database; a test taking it runs on both."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'nested' / 'store.db'}"
    return str(request.getfixturevalue("postgres_url"))


@pytest.fixture(scope="session")
def demo_data_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A data directory whose demo warehouse is built once for the whole test run."""
    data_dir = tmp_path_factory.mktemp("demo-data")
    ensure_demo_warehouse(data_dir)
    return data_dir


@pytest.fixture
def make_settings(demo_data_dir: Path, tmp_path: Path) -> Callable[..., Settings]:
    """Settings on the demo project, a fresh SQLite store, and any overrides."""

    def make(**overrides: Any) -> Settings:
        values: dict[str, Any] = {
            "data_dir": demo_data_dir,
            "database_url": f"sqlite:///{tmp_path / 'store.db'}",
            "anthropic_api_key": None,
            "llm_max_retries": 3,
        }
        values.update(overrides)
        return Settings.model_validate(values, by_name=True)

    return make


@pytest.fixture
def make_runtime(make_settings: Callable[..., Settings]) -> Iterator[Callable[..., Runtime]]:
    """Build runtimes (each like a process start); all are closed after the test."""
    built: list[Runtime] = []

    def make(**overrides: Any) -> Runtime:
        runtime = build_runtime(make_settings(**overrides))
        built.append(runtime)
        return runtime

    yield make
    for runtime in built:
        runtime.close()


@pytest.fixture
def demo_cli_env(demo_data_dir: Path, tmp_path: Path) -> dict[str, str]:
    """Environment for the `blueprintdata` process on the demo, with a fresh store and no outside settings."""
    env = {
        k: v for k, v in os.environ.items() if not k.startswith(("BLUEPRINTDATA_", "ANTHROPIC_", "SLACK_"))
    }
    env.update(
        BLUEPRINTDATA_DATA_DIR=str(demo_data_dir),
        BLUEPRINTDATA_DATABASE_URL=f"sqlite:///{tmp_path / 'store.db'}",
        COLUMNS="120",
        NO_COLOR="1",
    )
    return env


from tests.fakes.anthropic_api import fake_anthropic  # noqa: E402, F401  (shared fixture)
from tests.fakes.slack_api import fake_slack  # noqa: E402, F401  (shared fixture)
