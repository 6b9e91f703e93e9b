"""Connecting to the conversation store and migrating it with the Alembic scripts shipped in this package."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
from sqlalchemy import Engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, DBAPIError, OperationalError, SQLAlchemyError

from agent.errors import StoreError
from agent.redaction import redact
from agent.store.migration_head import at_revision, script_head
from agent.store.writing import SQLITE_WRITE_OPTION

if TYPE_CHECKING:
    from alembic.config import Config

MIGRATIONS_DIR = Path(__file__).parent / "migrations"
# Any fixed number: two processes starting together must not both run the migrations.
_MIGRATION_LOCK_ID = 74_211_009


def normalised_url(url: str) -> sa.URL:
    """Parse a store URL; plain postgres:// URLs use psycopg 3."""
    try:
        parsed = make_url(url)
    except ArgumentError:
        raise StoreError(
            "BLUEPRINTDATA_DATABASE_URL is not a valid SQLAlchemy URL; expected e.g. "
            "sqlite:////path/blueprintdata.db or postgresql+psycopg://user@host/db"
        ) from None
    if parsed.drivername in {"postgres", "postgresql"}:
        parsed = parsed.set(drivername="postgresql+psycopg")
    return parsed


def create_store_engine(url: str) -> Engine:
    """An engine for the store; SQLite gets WAL and foreign keys, and its directory is created."""
    parsed = normalised_url(url)
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            Path(parsed.database).expanduser().parent.mkdir(parents=True, exist_ok=True)
        engine = sa.create_engine(parsed, connect_args={"check_same_thread": False, "timeout": 30})
        event.listen(engine, "connect", _sqlite_pragmas)
        event.listen(engine, "begin", _sqlite_begin)
        return engine
    try:
        return sa.create_engine(parsed, pool_pre_ping=True, pool_size=10, max_overflow=20)
    except (ArgumentError, ImportError, SQLAlchemyError) as exc:
        raise StoreError(f"Cannot use BLUEPRINTDATA_DATABASE_URL ({_safe(parsed)}): {exc}") from None


def _sqlite_pragmas(connection: Any, _record: Any) -> None:
    cursor = connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    # With WAL, NORMAL syncs at checkpoints rather than on every commit: safe against a crashed process, and
    # several times faster per stored message (a turn writes four or more).
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.close()
    # pysqlite begins a transaction only before the first INSERT, UPDATE or DELETE, so a write's own checks (the
    # fence's, fencing.py) read outside it, and another process could change what they read before the write
    # began. Transactions are begun by _sqlite_begin instead (SQLAlchemy's documented recipe for pysqlite).
    connection.isolation_level = None


def _sqlite_begin(connection: sa.Connection) -> None:
    # A write transaction (writing.py) takes SQLite's write lock at BEGIN: what it reads before writing is then
    # what it writes against, whatever other processes sharing the file do. Reads begin a snapshot.
    immediate = connection.get_execution_options().get(SQLITE_WRITE_OPTION)
    connection.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")


def _safe(url: sa.URL) -> str:
    """The URL as it may be shown: no password, in its user part or in its query (e.g. ?sslpassword=)."""
    return redact(url.render_as_string(hide_password=True))


def alembic_config(engine: Engine) -> Config:
    from alembic.config import Config  # Alembic loads only when a migration is due (see upgrade_database).

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.attributes["engine"] = engine
    return config


def upgrade_database(engine: Engine) -> None:
    """Bring the store to the latest schema; a no-op when it is current."""
    head = script_head(MIGRATIONS_DIR / "versions")
    try:
        if head is not None:
            with engine.connect() as connection:
                if at_revision(connection, head):
                    return  # Current: every start but the first after an upgrade; Alembic is not loaded.
        from alembic import command

        with engine.begin() as connection:
            if engine.dialect.name == "postgresql":
                connection.execute(sa.text("SELECT pg_advisory_xact_lock(:id)"), {"id": _MIGRATION_LOCK_ID})
            config = alembic_config(engine)
            config.attributes["connection"] = connection
            command.upgrade(config, "head")
    except OperationalError as exc:
        raise StoreError(
            f"Cannot reach the conversation database at {_safe(engine.url)}: {_detail(exc)}. "
            "Check BLUEPRINTDATA_DATABASE_URL and that the server is running."
        ) from None
    except DBAPIError as exc:
        # E.g. a connect option the driver refuses (?connect_timeout=abc): a setting to fix, not a bug.
        raise StoreError(
            f"Cannot use the conversation database at {_safe(engine.url)}: {_detail(exc)}. "
            "Check BLUEPRINTDATA_DATABASE_URL."
        ) from None


def _detail(exc: DBAPIError) -> str:
    return redact(" ".join(str(exc.orig).split())[:300])


def current_revision(engine: Engine) -> str | None:
    """The migration revision the store is at, or None for an empty database."""
    from alembic.runtime.migration import MigrationContext

    with engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()
