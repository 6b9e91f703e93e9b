"""A read-only warehouse over SQLAlchemy (DuckDB, PostgreSQL); what differs between them is in their dialects."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
from sqlalchemy.exc import SQLAlchemyError

from tools.errors import ToolInputError, WarehouseError
from tools.results import Column, QueryResult
from tools.warehouse.built_text import bound_built_text
from tools.warehouse.cell_cut import cells_cut_sql, is_query
from tools.warehouse.messages import query_out_of_memory, query_timed_out
from tools.warehouse.result_budget import FETCH_BATCH_ROWS, ResultBudget, ResultLimits
from tools.warehouse.row_cap import capped_sql

if TYPE_CHECKING:
    from tools.warehouse.dialects.base import SqlAlchemyDialect

log = logging.getLogger(__name__)

_TIMEOUT_MARKERS = ("canceling statement due to statement timeout", "interrupt", "query was cancelled")


class SqlAlchemyWarehouse:
    """Runs checked SELECTs in a read-only connection or transaction, with a timeout and a row cap."""

    def __init__(
        self,
        url: sa.URL,
        *,
        dialect: SqlAlchemyDialect,
        setting_name: str,
        result_limits: ResultLimits | None = None,
    ) -> None:
        self._url = url
        self._dialect = dialect
        self._result_limits = result_limits or ResultLimits()
        self._setting_name = setting_name  # Named in connection errors, so the user knows what to fix.
        self._engine: sa.Engine | None = None
        self._lock = threading.Lock()

    @property
    def dialect(self) -> SqlAlchemyDialect:
        return self._dialect

    def _get_engine(self) -> sa.Engine:
        with self._lock:
            if self._engine is None:
                self._engine = sa.create_engine(
                    self._url,
                    connect_args=self._dialect.connect_args(self._result_limits),
                    pool_pre_ping=True,
                )
                # Loaders that turn values Python cannot hold (infinity dates, BC dates) into text; on this
                # engine only, never on the conversation store's.
                sa.event.listen(self._engine, "connect", self._dialect.prepare_connection)
            return self._engine

    def estimate_bytes(self, sql: str) -> int | None:
        """DuckDB and PostgreSQL have no byte estimate that means cost; None."""
        return None

    def execute_readonly(
        self, sql: str, *, max_rows: int, timeout_seconds: float, session_id: str | None = None
    ) -> QueryResult:
        # Rows are bounded three ways: the LIMIT that capped_sql puts in the tree; fetchmany in batches, never
        # more than max_rows + 1 (so "truncated" is known without reading the rest); and the byte cap, which
        # stops fetching once the rows held reach BLUEPRINTDATA_MAX_RESULT_BYTES. Long text is cut by the
        # database itself, so a huge cell never crosses the wire.
        started = time.perf_counter()
        budget = ResultBudget(self._result_limits, max_rows)
        with self._connection() as connection:
            driver_error = connection.dialect.loaded_dbapi.Error
            # The driver's own cursor, without parameters: a '%' in the SQL is a modulo or a LIKE pattern, never
            # a placeholder.
            cursor = connection.connection.cursor()
            try:
                with self._time_limit(connection, timeout_seconds):
                    # Cut first, capped outside the cut: a LIMIT under the cut would hold every long value whole.
                    cut, shape = self._cells_cut(connection, cursor, sql)
                    cursor.execute(capped_sql(cut, self._dialect.sqlglot_name, max_rows + 1))
                    # The types before the cut: a cut jsonb column is still jsonb to whoever reads the result.
                    columns = shape or self._columns(connection, cursor.description)
                    while not budget.full:
                        batch = cursor.fetchmany(min(FETCH_BATCH_ROWS, max_rows + 1))
                        if not batch:
                            break
                        for row in batch:
                            budget.add(row)
                            if budget.full:
                                break
            except driver_error as exc:
                raise self._query_error(exc, timeout_seconds, sql) from None
            finally:
                cursor.close()
        return QueryResult(
            columns=columns,
            rows=budget.kept_rows(),
            truncated=budget.truncated,
            truncation_note=budget.note(),
            elapsed_ms=round((time.perf_counter() - started) * 1000, 2),
        )

    def _cells_cut(
        self, connection: sa.Connection, cursor: Any, statement: str
    ) -> tuple[str, list[Column] | None]:
        """The statement with its long text columns cut by the database, and its columns found without rows.

        Text its columns build (repeat, lpad, rpad) is first bounded to what the cut keeps, so the database does
        not build a 200 MB value only to send its first characters; the columns' names are the original's.
        """
        if not is_query(statement, self._dialect.sqlglot_name):
            return statement, None  # Nothing to cut, and the read-only connection refuses it if it writes.
        raw = connection.connection.dbapi_connection
        max_chars = self._result_limits.max_cell_chars
        # Output columns first: a value they build is cut to what is shown, not refused for its full size.
        shown = bound_built_text(statement, self._dialect.sqlglot_name, max_chars)
        bounded = self._dialect.bounded_for_engine(shown)
        # The original's names where finding them runs nothing (DuckDB's DESCRIBE); elsewhere the bounded
        # statement's, since PostgreSQL folds constants even under LIMIT 0 and would build the value after all.
        # DuckDB's DESCRIBE does compute a constant a function reads (length(repeat(...)) took 448 MB), so a
        # statement whose builds needed checks is described with its checks.
        keeps_names = self._dialect.describes_without_running and bounded == shown
        described = statement if keeps_names else bounded
        columns = self._dialect.result_columns(cursor, raw, described)
        return cells_cut_sql(bounded, columns, self._dialect, max_chars), columns

    @contextmanager
    def _connection(self) -> Iterator[sa.Connection]:
        try:
            connection = self._get_engine().connect()
        except (SQLAlchemyError, ImportError) as exc:
            detail = str(getattr(exc, "orig", exc)).strip().splitlines()[0][:300]
            raise WarehouseError(
                f"Cannot connect to the warehouse ({self._url.render_as_string(hide_password=True)}): {detail}. "
                f"Check {self._setting_name} and that the warehouse is reachable."
            ) from None
        try:
            with connection.begin():
                read_only = self._dialect.read_only_statement()
                if read_only is not None:
                    connection.exec_driver_sql(read_only)
                yield connection
                # Nothing to keep: a read-only transaction ends by rolling back.
                connection.rollback()
        finally:
            connection.close()

    @contextmanager
    def _time_limit(self, connection: sa.Connection, timeout_seconds: float) -> Iterator[None]:
        statement = self._dialect.timeout_statement(timeout_seconds)
        if statement is not None:
            connection.exec_driver_sql(statement)
            yield
            return
        raw = connection.connection.dbapi_connection
        interrupt = getattr(raw, "interrupt", None)
        timer = threading.Timer(timeout_seconds, interrupt) if callable(interrupt) else None
        if timer is not None:
            timer.daemon = True
            timer.start()
        try:
            yield
        finally:
            if timer is not None:
                timer.cancel()

    def _columns(self, connection: sa.Connection, description: Any) -> list[Column]:
        raw = connection.connection.dbapi_connection
        return [
            Column(name=str(item[0]), type=self._dialect.column_type_name(raw, item[1]))
            for item in description or []
        ]

    def _query_error(self, exc: Exception, timeout_seconds: float, sql: str) -> ToolInputError:
        message = " ".join(str(exc).split())[:600]
        if any(marker in message.lower() for marker in _TIMEOUT_MARKERS):
            return ToolInputError(query_timed_out(timeout_seconds), sql=sql)
        if message.startswith("Out of Memory Error"):  # DuckDB's, at the memory limit we gave it.
            return ToolInputError(query_out_of_memory(self._result_limits.max_engine_memory), sql=sql)
        return ToolInputError(f"The warehouse rejected the query: {message}", sql=sql)

    def close(self) -> None:
        with self._lock:
            if self._engine is not None:
                self._engine.dispose()
                self._engine = None
