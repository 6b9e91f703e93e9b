"""Shared fixtures: real databases, never mocks."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator

import pytest
import sqlalchemy as sa

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
