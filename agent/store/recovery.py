"""A store that recovers: while its database is away every call fails with one clear StoreError, and when it
comes back (even empty, as after a drop and re-create) the next call works, without a restart.

Dead pooled connections are found before use by the engine's pool_pre_ping (see database.py); this module turns
what is left (the server refusing connections, a connection lost mid-statement) into StoreError, and re-applies
the migrations once when a table is missing.
"""

from __future__ import annotations

import functools
import inspect
import logging
from collections.abc import Callable
from typing import Any, TypeVar

from sqlalchemy import Engine
from sqlalchemy.exc import DBAPIError, DisconnectionError, InterfaceError, OperationalError, ProgrammingError

from agent import user_messages
from agent.errors import StoreError

log = logging.getLogger(__name__)

F = TypeVar("F", bound=Callable[..., Any])
C = TypeVar("C", bound=type)

# PostgreSQL's "undefined_table"; SQLite says "no such table".
_UNDEFINED_TABLE = "42P01"


def recovering(engine_of: Callable[..., Engine]) -> Callable[[F], F]:
    """Wrap a store call: a missing table re-applies the migrations and retries once; an unreachable database
    raises StoreError with the "store is unreachable" line. `engine_of` gets the call's arguments."""

    def decorate(function: F) -> F:
        @functools.wraps(function)
        def call(*args: Any, **kwargs: Any) -> Any:
            try:
                return function(*args, **kwargs)
            except (OperationalError, ProgrammingError) as exc:
                if not _is_missing_table(exc):
                    if isinstance(exc, ProgrammingError):
                        raise  # Our bug, not an outage: the "unexpected" path logs it with its traceback.
                    raise _unreachable(exc) from None
                _migrate_again(engine_of(*args, **kwargs))
            except (InterfaceError, DisconnectionError) as exc:
                raise _unreachable(exc) from None
            except DBAPIError as exc:
                if exc.connection_invalidated:
                    raise _unreachable(exc) from None
                raise
            try:
                return function(*args, **kwargs)
            except (OperationalError, ProgrammingError, InterfaceError, DisconnectionError) as exc:
                raise _unreachable(exc) from None

        return call  # type: ignore[return-value]

    return decorate


def recovering_methods(cls: C) -> C:
    """`recovering` on every public method of a store class that keeps its engine in `self._engine`."""
    for name, method in list(vars(cls).items()):
        if name.startswith("_") or not inspect.isfunction(method):
            continue
        setattr(cls, name, recovering(lambda self, *_args, **_kwargs: self._engine)(method))
    return cls


def _is_missing_table(exc: DBAPIError) -> bool:
    original = exc.orig
    return getattr(original, "sqlstate", None) == _UNDEFINED_TABLE or "no such table" in str(original)


def _migrate_again(engine: Engine) -> None:
    # Imported here: database.py imports this module's users, and a cycle would follow.
    from agent.store.database import upgrade_database

    log.warning("the conversation store has lost its tables (re-created?); applying the migrations again")
    upgrade_database(engine)


def _unreachable(exc: Exception) -> StoreError:
    detail = " ".join(str(getattr(exc, "orig", None) or exc).split())[:300]
    log.warning("conversation store unreachable: %s", detail)
    return StoreError(user_messages.STORE_UNREACHABLE)
