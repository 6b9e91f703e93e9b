"""A read-only PostgreSQL login role for tests that use PostgreSQL as the warehouse.

BlueprintData refuses to serve as a superuser (tools/warehouse/privileges.py), and the test server's `postgres`
is one; the role is made with the very SQL the refusal gives, so that SQL is proven to work.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator, Sequence
from contextlib import contextmanager

import sqlalchemy as sa

from tools.warehouse.postgres_privileges import read_only_role_sql


@contextmanager
def read_only_role(admin_url: str, schemas: Sequence[str]) -> Iterator[str]:
    """The URL of a new login role that may only read `schemas` of admin_url's database; dropped afterwards."""
    role = f"bp_reader_{uuid.uuid4().hex[:10]}"
    url = sa.make_url(admin_url)
    admin = sa.create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.exec_driver_sql(
            read_only_role_sql(str(url.database), schemas, owner=url.username or "postgres", role=role)
        )
    try:
        # Trust authentication on the test server: the placeholder password is never needed.
        yield url.set(username=role, password=None).render_as_string(hide_password=False)
    finally:
        with admin.connect() as connection:
            connection.exec_driver_sql(
                f"SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = '{role}'"
            )
            connection.exec_driver_sql(f'DROP OWNED BY "{role}"')
            connection.exec_driver_sql(f'DROP ROLE "{role}"')
        admin.dispose()
