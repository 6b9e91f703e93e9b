"""Write transactions on the store: on SQLite, this process's writers take turns on a lock of ours."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager

import sqlalchemy as sa
from sqlalchemy import Engine

# SQLite lets one writer in at a time, and a writer finding its lock taken sleeps 1, 2, 5, 10 ... up to 100 ms
# before trying again (its busy handler): with a dozen answers storing at once, turns spent a tenth of their
# time asleep there. This process's writes queue on a lock of ours instead, each going in as the one before
# ends; other processes sharing the file still meet SQLite's own lock.
_SQLITE_WRITES = threading.Lock()
# The execution option that has database.py's BEGIN take SQLite's write lock at once (BEGIN IMMEDIATE).
SQLITE_WRITE_OPTION = "blueprintdata_sqlite_write"


@contextmanager
def writing(engine: Engine) -> Iterator[sa.Connection]:
    """A write transaction; on SQLite, one of this process's at a time. Never nest one in another."""
    if engine.dialect.name != "sqlite":
        with engine.begin() as connection:
            yield connection
        return
    with (
        _SQLITE_WRITES,
        engine.connect() as connection,
        connection.execution_options(**{SQLITE_WRITE_OPTION: True}).begin(),
    ):
        yield connection
