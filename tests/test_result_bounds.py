"""Everything bounded: results by bytes as well as rows, long cells cut, messages and tool results capped, inputs
echoed once and short. Through real DuckDB and PostgreSQL, the fake BigQuery and the agent on the demo."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import duckdb
import pytest
import sqlalchemy as sa

from agent.events import EventList, ToolFinished, TurnFailed, TurnFinished, TurnStarted
from agent.runtime import Runtime
from agent.settings import Settings
from agent.tool_config import warehouse_config
from tests.fakes.anthropic_api import FakeAnthropic, text_reply, tool_use_reply
from tests.fakes.bigquery_api import ENDPOINT, PROJECT, FakeBigQuery
from tools.errors import ToolInputError
from tools.sql_guard.function_names import DUCKDB as DUCKDB_FUNCTIONS
from tools.warehouse.base import Warehouse
from tools.warehouse.bigquery_target import BigQueryTarget
from tools.warehouse.bigquery_warehouse import BigQueryWarehouse
from tools.warehouse.built_size import MAX_BUILT_CHARS
from tools.warehouse.factory import build_warehouse
from tools.warehouse.result_budget import ResultLimits

# About 5 KB a row; not a constant, so that no engine folds it into one value.
_WIDE_ROWS = "SELECT g AS id, repeat('y', 5000 + g % 2) AS pad FROM {series} AS t(g) ORDER BY g"
_SERIES = {"duckdb": "range(100000)", "postgres": "generate_series(0, 99999)"}


@pytest.fixture
def bigquery_fake() -> Iterator[FakeBigQuery]:
    """The fake BigQuery API, answering the real client for one test."""
    fake = FakeBigQuery()
    with fake.serving():
        yield fake


@pytest.fixture
def duckdb_file(tmp_path: Path) -> Path:
    path = tmp_path / "wh.duckdb"
    with duckdb.connect(str(path)) as connection:
        connection.execute(
            "CREATE TABLE orders AS SELECT range AS id, 'order ' || range AS label FROM range(5000)"
        )
    return path


@pytest.fixture(params=["duckdb", pytest.param("postgres", marks=pytest.mark.postgres)])
def warehouse_url(request: pytest.FixtureRequest, duckdb_file: Path) -> str:
    if request.param == "duckdb":
        return f"duckdb:///{duckdb_file}"
    url = str(request.getfixturevalue("postgres_url"))
    engine = sa.create_engine(url)
    with engine.begin() as connection:
        connection.exec_driver_sql(
            "CREATE TABLE orders AS SELECT g AS id, 'order ' || g AS label FROM generate_series(0, 4999) AS g"
        )
    engine.dispose()
    return url


def warehouse_for(url: str, **settings: object) -> Warehouse:
    return build_warehouse(
        warehouse_config(Settings.model_validate({"warehouse_url": url, **settings}, by_name=True)), None
    )


def test_results_stop_at_the_byte_cap_and_say_so(warehouse_url: str) -> None:
    warehouse = warehouse_for(warehouse_url, max_result_bytes="1MB")
    series = _SERIES[warehouse.dialect.name]
    result = warehouse.execute_readonly(_WIDE_ROWS.format(series=series), max_rows=10_000, timeout_seconds=30)
    # 1 MB of 5 KB rows: about 200 of the 10,000 the row cap allows, the first ones in order.
    assert result.truncated and 150 < len(result.rows) <= 200
    assert [row[0] for row in result.rows[:3]] == [0, 1, 2]
    assert result.truncation_note is not None and "BLUEPRINTDATA_MAX_RESULT_BYTES" in result.truncation_note
    warehouse.close()


def test_long_cells_are_cut_by_the_database_and_marked(warehouse_url: str) -> None:
    warehouse = warehouse_for(warehouse_url, max_cell_chars=100)
    result = warehouse.execute_readonly(
        "SELECT id, repeat(label, 1000) AS long_label, 'short' AS label FROM orders ORDER BY id DESC",
        max_rows=10,
        timeout_seconds=30,
    )
    # The row cap and the order survive the cut; only the long column is cut.
    assert [row[0] for row in result.rows] == list(range(4999, 4989, -1)) and result.truncated
    assert result.rows[0][1] == ("order 4999" * 10) + "… [cut at 100 characters]"
    assert result.rows[0][2] == "short"
    assert (
        result.truncation_note is not None
        and "10 long values cut to 100 characters" in result.truncation_note
    )
    # Two columns of one name stay apart.
    same_name = warehouse.execute_readonly("SELECT 'a' AS x, 'b' AS x", max_rows=5, timeout_seconds=10)
    assert same_name.rows == [["a", "b"]] and [c.name for c in same_name.columns] == ["x", "x"]
    warehouse.close()


def test_text_a_column_builds_is_built_only_as_long_as_the_cut_keeps(warehouse_url: str) -> None:
    warehouse = warehouse_for(warehouse_url, max_cell_chars=100)
    # 1.2 billion characters: PostgreSQL refuses to build a value over 1 GB ("requested length too large"),
    # so an answer at all proves the database built only what the cut keeps.
    size = 600_000_000
    result = warehouse.execute_readonly(
        f"SELECT repeat('ab', {size}) AS twice, lpad('z', {2 * size}, '*-') AS padded_left, "
        f"'k' || rpad(label, {2 * size}, '.') AS padded_right, CASE WHEN id >= 0 THEN space({2 * size}) END "
        f"AS blank, lpad(label, 12, '0') AS short, repeat(label, {size}) AS labels FROM orders WHERE id = 7",
        max_rows=10,
        timeout_seconds=60,
    )
    mark = "… [cut at 100 characters]"
    assert result.rows == [
        [
            "ab" * 50 + mark,
            "*-" * 50 + mark,
            "korder 7" + "." * 92 + mark,
            " " * 100 + mark,
            "00000order 7",
            ("order 7" * 15)[:100] + mark,
        ]
    ]
    assert [column.name for column in result.columns] == [
        "twice", "padded_left", "padded_right", "blank", "short", "labels"
    ]  # fmt: skip
    assert "5 long values cut to 100 characters" in (result.truncation_note or "")
    warehouse.close()


def test_built_text_the_query_reads_is_built_whole(warehouse_url: str) -> None:
    warehouse = warehouse_for(warehouse_url, max_cell_chars=100)
    # Its length, a NULL size and a short pad are the query's answer: nothing is bounded there.
    result = warehouse.execute_readonly(
        "SELECT length(repeat('x', 20000)) AS n, repeat('x', CAST(id AS INTEGER)) AS by_id, "
        "lpad('7', CAST(NULL AS INTEGER), '0') AS no_size, rpad(label, CAST(NULL AS INTEGER)) AS no_size_either "
        "FROM orders WHERE id = 3",
        max_rows=10,
        timeout_seconds=30,
    )
    assert result.rows == [[20000, "xxx", None, None]] and not result.truncated
    # Grouped by the built value: two groups that differ only past the cut stay two groups.
    grouped = warehouse.execute_readonly(
        "SELECT repeat('y', 20000 + CAST(id % 2 AS INTEGER)) AS s, count(*) AS c FROM orders GROUP BY s",
        max_rows=10,
        timeout_seconds=30,
    )
    assert sorted(row[1] for row in grouped.rows) == [2500, 2500]
    if (
        warehouse.dialect.name == "duckdb"
    ):  # DuckDB lets the next column and WHERE read a column by its alias.
        by_alias = warehouse.execute_readonly(
            "SELECT repeat('x', 20000) AS s, length(s) AS n FROM orders WHERE length(s) = 20000 LIMIT 1",
            max_rows=10,
            timeout_seconds=30,
        )
        assert by_alias.rows[0][1] == 20000
    warehouse.close()


def test_bigquery_results_are_bounded_alike(bigquery_fake: FakeBigQuery) -> None:
    bigquery_fake.execute(
        "CREATE SCHEMA shop; CREATE TABLE shop.notes AS SELECT range AS id, repeat('n', 3000) AS body FROM range(500)"
    )
    target = BigQueryTarget(project=PROJECT, source="the test profile", dataset="shop", api_endpoint=ENDPOINT)
    warehouse = BigQueryWarehouse(
        target, max_bytes_scanned=10**10, result_limits=ResultLimits(max_bytes=100_000, max_cell_chars=1000)
    )
    result = warehouse.execute_readonly(
        "SELECT id, body FROM notes ORDER BY id", max_rows=400, timeout_seconds=20
    )
    # Each body is cut to 1,000 characters (plus its mark); 100 KB holds about 95 such rows.
    assert result.truncated and 80 < len(result.rows) < 100
    assert result.rows[0][1].endswith("… [cut at 1,000 characters]")
    assert "BLUEPRINTDATA_MAX_RESULT_BYTES" in (result.truncation_note or "")
    warehouse.close()


def _turn(runtime: Runtime, text: str) -> EventList:
    events = EventList()
    session = runtime.store.open_session(source="cli").id
    runtime.agent().handle(session, text, events)
    return events


def test_the_answer_says_a_huge_value_was_truncated(make_runtime: Callable[..., Runtime]) -> None:
    events = _turn(make_runtime(), "/sql SELECT repeat('x', 2000000) AS big")
    finished = events.of_type(ToolFinished)[0]
    assert "truncated: 1 long value cut to 10,000 characters" in finished.summary  # type: ignore[union-attr]
    table = finished.table  # type: ignore[union-attr]
    assert table is not None and len(table.rows[0][0]) < 10_100
    answer = events.of_type(TurnFinished)[0].text  # type: ignore[union-attr]
    assert "truncated" in answer


def test_a_message_over_the_limit_is_refused_in_one_line_and_not_echoed(
    make_runtime: Callable[..., Runtime],
) -> None:
    runtime = make_runtime(max_message_chars=1000)
    text = "/sql SELECT " + "1 + " * 5000 + "1"
    events = _turn(runtime, text)
    failed = events.of_type(TurnFailed)
    assert len(failed) == 1 and "\n" not in failed[0].message  # type: ignore[union-attr]
    assert "20,013 characters long; the limit is 1,000 (BLUEPRINTDATA_MAX_MESSAGE_CHARS)" in failed[0].message  # type: ignore[union-attr]
    assert len(events.of_type(TurnStarted)[0].text) <= 80  # type: ignore[union-attr]
    assert not events.of_type(ToolFinished)  # Nothing ran.


def test_tool_results_sent_to_the_model_fit_the_budget_with_a_note(
    make_runtime: Callable[..., Runtime], fake_anthropic: FakeAnthropic
) -> None:
    runtime = make_runtime(
        max_tool_result_chars=1000, anthropic_api_key="test-key", anthropic_base_url=fake_anthropic.base_url
    )
    fake_anthropic.enqueue(
        tool_use_reply("describe_model", {"name": "fct_orders"}), text_reply("fct_orders has many columns.")
    )
    _turn(runtime, "What is in fct_orders?")
    content = fake_anthropic.requests[1].tool_results()[0]["content"]
    text = content if isinstance(content, str) else "".join(part["text"] for part in content)
    assert len(text) < 1300
    assert "more characters of this result were left out (a size limit)" in text
    assert text.startswith("fct_orders (model")


def test_inputs_are_echoed_once_and_short(make_runtime: Callable[..., Runtime]) -> None:
    runtime = make_runtime()
    words = "revenue " * 4000  # 32 KB
    search = _turn(runtime, f"/search {words}")
    answer = search.of_type(TurnFinished)[0].text  # type: ignore[union-attr]
    assert answer.count("revenue revenue") < 20 and len(answer) < 5000
    name = "x" * 39_000
    describe = _turn(runtime, f"/describe {name}")
    refusal = describe.of_type(TurnFinished)[0].text  # type: ignore[union-attr]
    assert "at most 300 characters" in refusal and len(refusal) < 500


@pytest.fixture
def duckdb_warehouse(duckdb_file: Path) -> Iterator[Warehouse]:
    warehouse = warehouse_for(f"duckdb:///{duckdb_file}", duckdb_memory_limit="64MiB")
    yield warehouse
    warehouse.close()


@pytest.mark.parametrize(
    "sql",
    [
        "SELECT length(repeat('x', 200000000)) AS n",  # Refused before it runs: the SQL fixes the size.
        "SELECT length(lpad('x', 200000000, 'y')) AS n",
        "SELECT length(printf('%0200000000d', 1)) AS n",
        "SELECT length(format('{:>200000000}', 'x')) AS n",
        "SELECT length(to_base(1, 2, 200000000)) AS n",
        "SELECT length(space(200000000)) AS n",
        "SELECT len(repeat([1], 50000000)) AS n",  # Checked as it runs: the sizes are the database's.
        "SELECT max(length(repeat('x', 100000 + CAST(id AS INTEGER)))) AS n FROM orders",
        "SELECT max(length(lpad(label, 100000 + CAST(id AS INTEGER), '*'))) AS n FROM orders",
        "SELECT length(replace(repeat('x', 20000), 'x', repeat('y', 10000))) AS n",
        "SELECT max(length(replace(label, 'o', repeat('y', 20000)))) AS n FROM orders",
        "SELECT length(printf(label || '%0200000000d', 1)) AS n FROM orders",
        "SELECT length(repeat(label, 100000)) = 0 AS empty FROM orders",
    ],
)
def test_values_a_duckdb_query_builds_and_reads_are_bounded_with_one_line(
    duckdb_warehouse: Warehouse, sql: str
) -> None:
    # DuckDB runs in our process and its memory limit does not count what expressions build: each of these
    # took 450 MB to 12 GB before. Now each is stopped in one line naming the function.
    with pytest.raises(ToolInputError) as stopped:
        duckdb_warehouse.execute_readonly(sql, max_rows=10, timeout_seconds=30)
    message = stopped.value.message
    assert f"would build over {MAX_BUILT_CHARS:,} characters" in message and "\n" not in message, message


def test_values_built_within_the_bound_are_exact(duckdb_warehouse: Warehouse) -> None:
    result = duckdb_warehouse.execute_readonly(
        "SELECT length(repeat('x', 20000)) AS a, lpad('7', 3, '0') AS b, printf('%05d', 3) AS c, "
        "format('{:>4}', 'z') AS d, replace('abc', 'b', 'xx') AS e, to_base(5, 2, 8) AS f, "
        "length(replace(repeat('abc', 10000), 'abc', 'x')) AS g, len(repeat([1, 2], 3)) AS h, "
        "max(length(repeat(label, 2))) AS i, repeat('x', 20000) = repeat('x', 20000) AS j FROM orders",
        max_rows=10,
        timeout_seconds=30,
    )
    assert result.rows == [[20000, "007", "00003", "   z", "axxc", "00000101", 10000, 6, 20, True]]
    # A shown column is cut, not refused, however large it is asked to be.
    shown = duckdb_warehouse.execute_readonly(
        "SELECT repeat('x', 200000000) AS s", max_rows=1, timeout_seconds=30
    )
    assert "1 long value cut to 10,000 characters" in (shown.truncation_note or "")


@pytest.mark.parametrize(
    "sql",
    [
        "SELECT len(list(x)) AS n FROM range(100000000) AS t(x)",
        "SELECT length(string_agg('abcdefgh', ',')) AS n FROM range(60000000) AS t(x)",
        "WITH RECURSIVE r(n, s) AS (SELECT 1, 'x' UNION ALL SELECT n + 1, s || s FROM r WHERE n < 28) "
        "SELECT max(length(s)) AS m FROM r",
    ],
)
def test_duckdb_buffers_stop_at_the_memory_limit_naming_it(duckdb_warehouse: Warehouse, sql: str) -> None:
    with pytest.raises(ToolInputError) as stopped:
        duckdb_warehouse.execute_readonly(sql, max_rows=10, timeout_seconds=60)
    assert stopped.value.message.startswith("The query needed more than the 64 MiB of memory")
    assert "BLUEPRINTDATA_DUCKDB_MEMORY_LIMIT" in stopped.value.message


def test_duckdb_never_spills_to_disk(duckdb_warehouse: Warehouse) -> None:
    settings = duckdb_warehouse.execute_readonly(
        "SELECT current_setting('temp_directory') AS t, current_setting('memory_limit') AS m",
        max_rows=1,
        timeout_seconds=10,
    )
    assert settings.rows == [["", "64.0 MiB"]]


def test_every_duckdb_function_sized_by_a_number_is_bounded_or_reviewed() -> None:
    # Deny by default: an allowed DuckDB function that takes a number and returns text or a list either builds
    # from that number (bounded in built_size.py) or was reviewed as returning no more than its inputs.
    bounded = {"repeat", "lpad", "rpad", "to_base", "printf", "format", "space", "replace"}
    reviewed = {
        "array_extract", "array_slice", "list_element", "list_extract", "list_slice", "substr", "substring",
        "left", "right", "overlay", "chr", "bin", "hex", "bit_count", "concat", "concat_ws", "date_part",
        "datepart", "epoch_ms", "make_time", "make_timestamp", "make_timestamptz", "time_bucket", "greatest",
        "least", "json_extract_path_text", "json_extract_string", "json_value", "regexp_extract",
        "regexp_extract_all", "round", "trunc", "sign", "struct_extract", "struct_insert", "typeof",
        "range", "generate_series",  # Only as a table (tools/sql_guard/functions.py TABLE_ONLY).
    }  # fmt: skip
    numbers = ["BIGINT", "INTEGER", "UBIGINT", "HUGEINT", "ANY", "INTERVAL"]
    found = (
        duckdb.connect()
        .execute(
            "SELECT DISTINCT function_name FROM duckdb_functions() WHERE function_type = 'scalar' "
            "AND (return_type IN ('VARCHAR', 'BLOB', 'BIT', 'ANY') OR return_type LIKE '%[]' "
            "OR return_type LIKE 'T%' OR return_type LIKE 'MAP%' OR return_type LIKE 'STRUCT%' "
            "OR return_type IS NULL) AND list_has_any(parameter_types, ?)",
            [numbers],
        )
        .fetchall()
    )
    allowed = {name for (name,) in found if name in DUCKDB_FUNCTIONS}
    assert allowed - bounded - reviewed == set()


def test_builders_nested_too_deep_are_refused_before_the_checks_grow(duckdb_warehouse: Warehouse) -> None:
    # Each check repeats its builder's arguments, so checks of builders inside builders grow geometrically.
    four = "SELECT max(length(" + "repeat(" * 4 + "label" + ", 2)" * 4 + ")) AS n FROM orders"
    assert duckdb_warehouse.execute_readonly(four, max_rows=1, timeout_seconds=30).rows == [[16 * 10]]
    five = "SELECT max(length(" + "repeat(" * 5 + "label" + ", 2)" * 5 + ")) AS n FROM orders"
    with pytest.raises(
        ToolInputError, match="nests repeat, lpad, rpad, replace or format calls more than 4 deep"
    ):
        duckdb_warehouse.execute_readonly(five, max_rows=1, timeout_seconds=30)
