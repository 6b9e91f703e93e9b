"""Red team for the SQL guard: hostile statements refused, benign ones allowed and working, the server unharmed.

The PostgreSQL end-to-end test connects as a superuser made for the test (the careless setup that let admin
functions run) through the same factory and connector the product uses, sends every hostile statement through
run_query, and then checks the server: a canary file it could have deleted, replication slots, statistics reset
times and a table checksum.
"""

from __future__ import annotations

import re
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import duckdb
import pytest
import sqlalchemy as sa
from sqlglot import exp

from agent.settings import Settings
from agent.tool_config import tool_limits, warehouse_config
from tests.redteam.benign_statements import BENIGN, SETUP
from tests.redteam.harmless_statements import HARMLESS_DUCKDB, HARMLESS_POSTGRES
from tests.redteam.other_dialects import HOSTILE_BIGQUERY, HOSTILE_DUCKDB
from tests.redteam.postgres_statements import HOSTILE_POSTGRES
from tools.errors import ToolInputError
from tools.registry import ToolContext
from tools.results import ResultStore
from tools.run_query import RunQueryInput, run_query
from tools.sql_guard import (
    ALLOWED_FUNCTIONS_SETTING,
    MAX_NESTING,
    MAX_SQL_CHARACTERS,
    SqlRefused,
    check_read_only,
)
from tools.sql_guard.functions import IMPURE_TYPED_NAMES
from tools.warehouse.factory import build_warehouse
from tools.warehouse.sqlalchemy_warehouse import SqlAlchemyWarehouse


def _short(value: object) -> str:
    text = str(value)
    return text if len(text) <= 70 else f"{text[:60]}...({len(text)} chars)"


def test_the_corpus_is_large_enough() -> None:
    assert len(HOSTILE_POSTGRES) >= 150
    assert len(HOSTILE_DUCKDB) >= 40 and len(HOSTILE_BIGQUERY) >= 10
    assert len(HARMLESS_POSTGRES) >= 10 and len(HARMLESS_DUCKDB) >= 10
    assert all(len(BENIGN[dialect]) >= 15 for dialect in ("postgres", "duckdb", "bigquery"))


@pytest.mark.parametrize(("sql", "named"), HOSTILE_POSTGRES, ids=_short)
def test_hostile_postgres_statements_are_refused_by_name(sql: str, named: str) -> None:
    _assert_refused(sql, "postgres", named)


@pytest.mark.parametrize(("sql", "named"), HOSTILE_DUCKDB, ids=_short)
def test_hostile_duckdb_statements_are_refused_by_name(sql: str, named: str) -> None:
    _assert_refused(sql, "duckdb", named)


@pytest.mark.parametrize(("sql", "named"), HOSTILE_BIGQUERY, ids=_short)
def test_hostile_bigquery_statements_are_refused_by_name(sql: str, named: str) -> None:
    _assert_refused(sql, "bigquery", named)


def _assert_refused(sql: str, dialect: str, named: str) -> None:
    with pytest.raises(SqlRefused) as refused:
        check_read_only(sql, dialect)
    message = refused.value.message
    assert named.lower() in message.lower(), message
    assert "Only one read-only SELECT statement is allowed" in message
    assert len(message) < 1_000, "a refusal is one clear message, not an echo of the SQL"
    if "() is not a function known" in message:
        assert ALLOWED_FUNCTIONS_SETTING in message


@pytest.mark.parametrize(
    ("dialect", "sql"), [(d, sql) for d, statements in BENIGN.items() for sql in statements], ids=_short
)
def test_benign_analytic_queries_are_allowed(dialect: str, sql: str) -> None:
    checked = check_read_only(sql, dialect)
    assert checked.sql and checked.dialect == dialect


def test_benign_duckdb_queries_run_through_the_product_connector(tmp_path: Path) -> None:
    path = tmp_path / "warehouse.duckdb"
    with duckdb.connect(str(path)) as connection:
        for statement in SETUP["duckdb"]:
            connection.execute(statement)
    warehouse = _warehouse(f"duckdb:///{path}")
    try:
        for sql in BENIGN["duckdb"]:
            result = warehouse.execute_readonly(
                check_read_only(sql, "duckdb").sql, max_rows=50, timeout_seconds=10
            )
            assert result.columns, sql
    finally:
        warehouse.close()


_DUCKDB_CHECKSUM = "SELECT count(*), sum(amount), string_agg(status, ',' ORDER BY id) FROM orders"


def _duckdb_warehouse_set_up(tmp_path: Path) -> SqlAlchemyWarehouse:
    """The product's connector on a DuckDB file holding the SETUP tables."""
    path = tmp_path / "warehouse.duckdb"
    with duckdb.connect(str(path)) as connection:
        for statement in SETUP["duckdb"]:
            connection.execute(statement)
    return _warehouse(f"duckdb:///{path}")


def test_hostile_duckdb_statements_through_run_query_leave_the_file_unchanged(
    tmp_path: Path, make_settings: Callable[..., Settings]
) -> None:
    warehouse = _duckdb_warehouse_set_up(tmp_path)
    before = warehouse.execute_readonly(_DUCKDB_CHECKSUM, max_rows=1, timeout_seconds=10).rows
    context = _context(warehouse, make_settings())
    for sql, _named in HOSTILE_DUCKDB:
        with pytest.raises(ToolInputError):
            run_query(context, RunQueryInput(sql=sql))
    assert warehouse.execute_readonly(_DUCKDB_CHECKSUM, max_rows=1, timeout_seconds=10).rows == before
    warehouse.close()


def _harmless_outcome(context: ToolContext, sql: str) -> str:
    """What a harmless statement did: its summary, or the database's own error (also harmless)."""
    check_read_only(sql, context.warehouse.dialect.sqlglot_name)  # The guard lets it through...
    try:
        output = run_query(context, RunQueryInput(sql=sql))
    except ToolInputError as exc:
        return f"error: {exc.message}"
    return output.summary


def _assert_built_values_were_cut(outcomes: dict[str, str]) -> None:
    built = {sql: outcome for sql, outcome in outcomes.items() if re.search(r"(repeat|lpad)\(.*\d{9}", sql)}
    assert len(built) >= 2
    for sql, outcome in built.items():
        assert "cut to 10,000 characters" in outcome, (sql, outcome)


def test_harmless_duckdb_statements_run_and_leave_the_file_unchanged(
    tmp_path: Path, make_settings: Callable[..., Settings]
) -> None:
    warehouse = _duckdb_warehouse_set_up(tmp_path)
    before = warehouse.execute_readonly(_DUCKDB_CHECKSUM, max_rows=1, timeout_seconds=10).rows
    context = _context(warehouse, make_settings())
    outcomes = {sql: _harmless_outcome(context, sql) for sql in HARMLESS_DUCKDB}
    # ...and it does nothing: the data is unchanged, values of 2 GB were built only as long as the cut keeps.
    assert warehouse.execute_readonly(_DUCKDB_CHECKSUM, max_rows=1, timeout_seconds=10).rows == before
    _assert_built_values_were_cut(outcomes)
    assert "error" not in outcomes["SELECT $$; DROP TABLE orders; $$ AS quoted"]
    assert outcomes["SELECT * FROM range(1000000000000) AS t(x)"].startswith("10,000 rows (truncated")
    warehouse.close()


@pytest.mark.parametrize(
    ("dialect", "sql"),
    [
        ("duckdb", "SELECT count(*) FROM range(1000000000000) AS t(x) WHERE x % 7 = 3"),
        pytest.param(
            "postgres",
            "SELECT count(*) FROM generate_series(1, 10000000000) AS g",
            marks=pytest.mark.postgres,
        ),
    ],
)
def test_a_query_that_would_run_for_hours_is_stopped_at_the_time_limit(
    dialect: str,
    sql: str,
    tmp_path: Path,
    make_settings: Callable[..., Settings],
    request: pytest.FixtureRequest,
) -> None:
    url = (
        f"duckdb:///{tmp_path / 'empty.duckdb'}"
        if dialect == "duckdb"
        else request.getfixturevalue("postgres_url")
    )
    if dialect == "duckdb":
        duckdb.connect(str(tmp_path / "empty.duckdb")).close()
    warehouse = _warehouse(url)
    context = _context(warehouse, make_settings(query_timeout_seconds=1))
    started = time.perf_counter()
    with pytest.raises(ToolInputError, match="longer than 1 s and was stopped"):
        run_query(context, RunQueryInput(sql=sql))
    assert time.perf_counter() - started < 15
    warehouse.close()


def test_a_function_the_user_allows_runs_and_is_named_when_not_allowed(
    tmp_path: Path, make_settings: Callable[..., Settings], monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "warehouse.duckdb"
    with duckdb.connect(str(path)) as connection:
        connection.execute("CREATE MACRO add_one(x) AS x + 1")
    warehouse = _warehouse(f"duckdb:///{path}")
    sql = "SELECT add_one(41) AS answer"
    with pytest.raises(ToolInputError) as refused:
        run_query(_context(warehouse, make_settings()), RunQueryInput(sql=sql))
    assert "add_one()" in refused.value.message and ALLOWED_FUNCTIONS_SETTING in refused.value.message

    monkeypatch.setenv(ALLOWED_FUNCTIONS_SETTING, " Add_One , analytics.fiscal_week")
    settings = Settings()
    assert settings.allowed_functions == frozenset({"add_one", "analytics.fiscal_week"})
    output = run_query(
        _context(warehouse, make_settings(allowed_functions=settings.allowed_functions)),
        RunQueryInput(sql=sql),
    )
    assert output.table is not None and output.table.rows == [[42]]
    warehouse.close()


def test_allowed_names_match_as_written_qualified_or_not() -> None:
    allowed = frozenset({"fiscal_week", "analytics.fiscal_quarter"})
    assert check_read_only("SELECT fiscal_week(d) FROM t", "postgres", allowed)
    assert check_read_only("SELECT analytics.fiscal_quarter(d) FROM t", "postgres", allowed)
    for refused in ("SELECT other.fiscal_week(d) FROM t", "SELECT fiscal_quarter(d) FROM t"):
        with pytest.raises(SqlRefused, match=ALLOWED_FUNCTIONS_SETTING):
            check_read_only(refused, "postgres", allowed)


def test_built_in_functions_pass_only_unqualified_or_in_the_system_schema() -> None:
    assert check_read_only("SELECT pg_catalog.upper('x')", "postgres")
    with pytest.raises(SqlRefused, match=r"public\.upper\(\)"):
        check_read_only("SELECT public.upper('x')", "postgres")


def test_typed_sqlglot_functions_that_touch_the_outside_were_reviewed() -> None:
    # sqlglot adds typed functions over time; any whose name suggests files, services, sequences or SQL text
    # must be classed deliberately: impure (refused) or reviewed as pure (allowed).
    reviewed_pure = {
        "ParseJSON", "ParseUrl", "ParseIp", "ParseTime", "ParseDatetime", "ParseNumeric", "ParseBignumeric",
        "FromJson", "JSONTable", "OpenJSON", "XMLTable", "Generator", "GenerateSeries", "GenerateDateArray",
        "GenerateTimestampArray", "ExplodingGenerateSeries", "GenerateBool", "GenerateDouble", "GenerateInt",
        "CurrentUser", "CurrentUserId", "CurrentSchema", "CurrentSchemas", "CurrentDatabase", "CurrentCatalog",
        "CurrentRole", "CurrentRoleType", "CurrentAvailableRoles", "CurrentSecondaryRoles",
        "Decrypt", "DecryptRaw", "Encrypt", "EncryptRaw", "SessionUser", "Search", "SearchIp", "CheckJson",
        "CheckXml", "XMLElement", "XMLGet", "CurrentDate", "CurrentDatetime", "CurrentTime", "CurrentTimestamp",
        "CurrentTimestampLTZ", "CurrentTimezone", "NextDay", "SplitToTable", "StrtokSplitToTable",
    }  # fmt: skip
    suspicious = re.compile(
        r"Read|File|Secret|Query|Sql|Exec|Next|Seq|^AI|^ML|Predict|Generate|Vector|Current|"
        r"Crypt|Env|Session|Url|Http|Load|Search|Table|Parse|Json|Xml",
        re.IGNORECASE,
    )
    typed: set[str] = set()
    pending = [exp.Func]
    while pending:
        for subclass in pending.pop().__subclasses__():
            typed.add(subclass.__name__)
            pending.append(subclass)
    unreviewed = sorted(
        name
        for name in typed
        if suspicious.search(name)
        and name not in IMPURE_TYPED_NAMES
        and name not in reviewed_pure
        and not name.startswith(("JSON", "JSONB", "Seq"))  # JSON accessors and Snowflake's SEQ1..8 counters.
    )
    assert unreviewed == [], "classify these typed sqlglot functions in tools/sql_guard/functions.py"


def test_size_and_depth_caps_refuse_quickly_with_one_message() -> None:
    blow_ups = [
        "SELECT " + "(" * 1000 + "1" + ")" * 1000,
        "SELECT " + "(SELECT " * 500 + "1" + ")" * 500,
        "SELECT " + "CASE WHEN true THEN " * 3000 + "1" + " END" * 3000,
        "SELECT " + "NOT " * 5000 + "true",
        "SELECT " + "- " * 5000 + "1",
        "SELECT " + "ARRAY[" * 30 + "1" + "]" * 30,
        "SELECT 1 FROM t WHERE " + " OR ".join(["a = 1"] * 50_000),
    ]
    for sql in blow_ups:
        started = time.perf_counter()
        with pytest.raises(SqlRefused) as refused:
            check_read_only(sql, "postgres")
        assert time.perf_counter() - started < 5, _short(sql)
        refusal = refused.value
        assert refusal.__cause__ is None and (refusal.__context__ is None or refusal.__suppress_context__)
        assert re.search(r"nest|too deeply|characters long", refused.value.message), refused.value.message


def test_sql_over_the_length_cap_is_refused_with_the_limit_stated() -> None:
    with pytest.raises(SqlRefused) as refused:
        check_read_only("SELECT 1 -- " + "x" * MAX_SQL_CHARACTERS, "duckdb")
    assert f"the limit is {MAX_SQL_CHARACTERS:,}" in refused.value.message


def test_queries_at_the_nesting_cap_still_parse_deep_in_the_call_stack() -> None:
    at_the_cap = "SELECT " + "(SELECT " * (MAX_NESTING - 1) + "1" + ")" * (MAX_NESTING - 1)

    def check_from_depth(frames_left: int) -> str:
        if frames_left:
            return check_from_depth(frames_left - 1)
        return check_read_only.__wrapped__(at_the_cap, "postgres").sql

    # The agent loop, tool registry and a Slack worker sit below the guard: leave them room.
    assert check_from_depth(min(150, sys.getrecursionlimit() // 5)).startswith("SELECT")
    with pytest.raises(SqlRefused, match="nests more than"):
        check_read_only("SELECT " + "(" * (MAX_NESTING + 1) + "1" + ")" * (MAX_NESTING + 1), "duckdb")


def _warehouse(url: str) -> SqlAlchemyWarehouse:
    settings = Settings.model_validate({"warehouse_url": url}, by_name=True)
    warehouse = build_warehouse(warehouse_config(settings), None)
    assert isinstance(warehouse, SqlAlchemyWarehouse)
    return warehouse


class _NoModels:
    """A dbt index with no models: run_query's name check then knows no table, and checks nothing."""

    def relations(self) -> list[object]:
        return []

    def known_tables(self) -> list[object]:
        return []


def _context(warehouse: SqlAlchemyWarehouse, settings: Settings) -> ToolContext:
    return ToolContext(
        limits=tool_limits(settings),
        warehouse_provider=lambda: warehouse,
        dbt_provider=lambda: _NoModels(),  # type: ignore[arg-type, return-value]
        results=ResultStore(),
        artifacts=None,  # type: ignore[arg-type]
    )


# --- PostgreSQL, as a superuser, through the product's factory and connector --------------------------------

_STATS_RESET_TIMES = """
    SELECT (SELECT stats_reset FROM pg_stat_database WHERE datname = current_database()),
           (SELECT stats_reset FROM pg_stat_bgwriter), (SELECT stats_reset FROM pg_stat_archiver),
           (SELECT stats_reset FROM pg_stat_wal)
"""
_CHECKSUM = "SELECT count(*), md5(string_agg(o::text, ',' ORDER BY id)) FROM orders o"


class PostgresServer:
    """An admin connection to the test database, for setting the scene and checking the server afterwards."""

    def __init__(self, engine: sa.Engine, canary: str) -> None:
        self.engine = engine
        self.canary = canary

    def scalar_row(self, sql: str) -> tuple[object, ...]:
        with self.engine.connect() as connection:
            row = connection.exec_driver_sql(sql).one()
        return tuple(row)

    def canary_exists(self) -> bool:
        return self.scalar_row(f"SELECT (pg_stat_file('{self.canary}', true)).size IS NOT NULL")[0] is True

    def state(self) -> dict[str, object]:
        return {
            "canary": self.canary_exists(),
            "slots": self.scalar_row("SELECT count(*) FROM pg_replication_slots"),
            "stats_reset": self.scalar_row(_STATS_RESET_TIMES),
            "checksum": self.scalar_row(_CHECKSUM),
            "sequence": self.scalar_row("SELECT last_value, is_called FROM orders_id_seq"),
        }


@pytest.fixture
def superuser_warehouse(postgres_url: str) -> Iterator[tuple[SqlAlchemyWarehouse, PostgresServer]]:
    """A warehouse connected as a fresh superuser, with adminpack installed and a server-owned canary file."""
    admin = sa.create_engine(postgres_url, isolation_level="AUTOCOMMIT")
    role = f"bp_redteam_{uuid.uuid4().hex[:10]}"
    server = PostgresServer(admin, f"/tmp/bp_canary_{uuid.uuid4().hex[:10]}.txt")
    warehouse: SqlAlchemyWarehouse | None = None
    try:
        with admin.connect() as connection:
            connection.exec_driver_sql(f"CREATE ROLE {role} LOGIN SUPERUSER")
            connection.exec_driver_sql("CREATE EXTENSION IF NOT EXISTS adminpack")
            for statement in SETUP["postgres"]:
                connection.exec_driver_sql(statement)
            connection.exec_driver_sql("CREATE SEQUENCE orders_id_seq")
            # Written by the server, so the server owns it and pg_file_unlink could delete it.
            connection.exec_driver_sql(f"COPY (SELECT 1) TO '{server.canary}'")
        url = sa.make_url(postgres_url).set(username=role, password=None)
        warehouse = _warehouse(url.render_as_string(hide_password=False))
        yield warehouse, server
    finally:
        if warehouse is not None:
            warehouse.close()
        with admin.connect() as connection:
            if server.canary_exists():
                connection.exec_driver_sql(f"SELECT pg_file_unlink('{server.canary}')")
            connection.exec_driver_sql(f"DROP ROLE IF EXISTS {role}")
        admin.dispose()


@pytest.mark.postgres
def test_every_hostile_statement_is_refused_and_the_server_is_unharmed(
    superuser_warehouse: tuple[SqlAlchemyWarehouse, PostgresServer], make_settings: Callable[..., Settings]
) -> None:
    warehouse, server = superuser_warehouse
    assert warehouse.execute_readonly(
        "SELECT current_setting('is_superuser')", max_rows=1, timeout_seconds=10
    ).rows == [["on"]]
    before = server.state()
    assert before["canary"] is True
    context = _context(warehouse, make_settings())
    ran = []
    for sql, _named in HOSTILE_POSTGRES:
        try:
            run_query(context, RunQueryInput(sql=sql))
        except ToolInputError:
            continue
        ran.append(_short(sql))
    assert ran == []
    assert server.state() == before


@pytest.mark.postgres
def test_benign_postgres_queries_run_on_the_superuser_warehouse(
    superuser_warehouse: tuple[SqlAlchemyWarehouse, PostgresServer], make_settings: Callable[..., Settings]
) -> None:
    warehouse, server = superuser_warehouse
    context = _context(warehouse, make_settings())
    for sql in BENIGN["postgres"]:
        output = run_query(context, RunQueryInput(sql=sql))
        assert output.table is not None and output.table.columns, sql
    assert server.canary_exists()


@pytest.mark.postgres
def test_the_harm_checks_see_harm_when_the_guard_is_bypassed(
    superuser_warehouse: tuple[SqlAlchemyWarehouse, PostgresServer],
) -> None:
    # Straight to the connector, skipping the guard: the read-only transaction alone does not stop admin
    # functions, which is why the guard must refuse them, and the state check above would have noticed.
    warehouse, server = superuser_warehouse
    before = server.state()
    warehouse.execute_readonly(f"SELECT pg_file_unlink('{server.canary}')", max_rows=1, timeout_seconds=10)
    warehouse.execute_readonly("SELECT pg_stat_reset()", max_rows=1, timeout_seconds=10)
    after = server.state()
    assert after["canary"] is False and before["canary"] is True
    assert after["stats_reset"] != before["stats_reset"]


@pytest.mark.postgres
def test_harmless_postgres_statements_run_and_leave_the_server_unharmed(
    superuser_warehouse: tuple[SqlAlchemyWarehouse, PostgresServer], make_settings: Callable[..., Settings]
) -> None:
    warehouse, server = superuser_warehouse
    before = server.state()
    context = _context(warehouse, make_settings())
    outcomes = {sql: _harmless_outcome(context, sql) for sql in HARMLESS_POSTGRES}
    assert server.state() == before
    # Over PostgreSQL's 1 GB value limit: an answer at all shows only what the cut keeps was built.
    _assert_built_values_were_cut(outcomes)
    assert "error" not in outcomes["SELECT $$; DELETE FROM orders; $$ AS quoted"]
    assert outcomes["SELECT pg_stat_reset FROM orders"].startswith("error: The warehouse rejected the query")
