"""Every PostgreSQL value is displayable: in queries, profiles, quality checks and charts, through the real driver."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from agent.events import EventList, ToolFinished
from agent.runtime import Runtime
from tests.postgres_roles import read_only_role
from tools.profiling.runner import ProfileOptions, sync_profiles

pytestmark = pytest.mark.postgres

# A slowly changing dimension as it is often built: the current row is valid until 'infinity'.
_TABLES = """
CREATE SCHEMA analytics;
CREATE TABLE analytics.odd_values (
  id int, valid_from date, valid_to date, changed_at timestamptz, score float8, amount numeric,
  waiting interval, tags text[], dates date[], payload jsonb, raw bytea, note text
);
INSERT INTO analytics.odd_values VALUES
  (1, DATE '0044-03-15 BC', DATE 'infinity', TIMESTAMPTZ '-infinity', 'NaN', 'NaN',
   interval '178000000 years', ARRAY['a', 'b'], ARRAY[DATE 'infinity'], '{"k": [1, 2]}', '\\xdeadbeef', 'x'),
  (2, DATE '2024-01-01', DATE '2024-06-30', TIMESTAMPTZ '2024-01-01 10:00+00', 'Infinity', 10::numeric ^ 400,
   interval '1 year 2 months', ARRAY['c'], ARRAY[DATE '2024-01-01'], '[]', '\\x00', repeat('y', 20000)),
  (3, DATE '2024-07-01', DATE 'infinity', TIMESTAMPTZ 'infinity', '-Infinity', 12.5,
   interval '3 days', NULL, NULL, NULL, NULL, NULL);
"""
_COLUMNS = [
    "id",
    "valid_from",
    "valid_to",
    "changed_at",
    "score",
    "amount",
    "waiting",
    "tags",
    "dates",
    "payload",
    "raw",
    "note",
]


def _project(tmp_path: Path, database: str) -> Path:
    project = tmp_path / "odd_project"
    (project / "target").mkdir(parents=True)
    (project / "dbt_project.yml").write_text("name: odd\nprofile: odd\n")
    node = {
        "resource_type": "model",
        "name": "odd_values",
        "database": database,
        "schema": "analytics",
        "alias": "odd_values",
        "relation_name": f'"{database}"."analytics"."odd_values"',
        "columns": {name: {"name": name} for name in _COLUMNS},
        "config": {"materialized": "table"},
        "depends_on": {"nodes": []},
    }
    not_null = {
        "resource_type": "test",
        "name": "nn_valid_to",
        "attached_node": "model.odd.odd_values",
        "column_name": "valid_to",
        "depends_on": {"nodes": ["model.odd.odd_values"]},
        "config": {"where": None},
        "test_metadata": {"name": "not_null", "kwargs": {}},
    }
    manifest = {
        "metadata": {"project_name": "odd", "adapter_type": "postgres"},
        "nodes": {"model.odd.odd_values": node, "test.odd.nn_valid_to": not_null},
        "sources": {},
    }
    (project / "target" / "manifest.json").write_text(json.dumps(manifest))
    return project


@pytest.fixture
def odd_runtime(postgres_url: str, tmp_path: Path, make_runtime: Callable[..., Runtime]) -> Iterator[Runtime]:
    engine = sa.create_engine(postgres_url)
    with engine.begin() as connection:
        connection.exec_driver_sql(_TABLES)
    engine.dispose()
    database = str(sa.make_url(postgres_url).database)
    with read_only_role(postgres_url, ["analytics"]) as reader_url:
        yield make_runtime(dbt_project_dir=_project(tmp_path, database), warehouse_url=reader_url)


def _run(runtime: Runtime, tool: str, arguments: dict[str, Any], session: str | None = None) -> Any:
    return runtime.registry.execute(tool, arguments, runtime.tool_context(session)).output


def test_values_python_cannot_hold_come_back_as_their_text(odd_runtime: Runtime) -> None:
    output = _run(odd_runtime, "run_query", {"sql": "SELECT * FROM analytics.odd_values ORDER BY id"})
    assert not output.is_error, output.content
    rows = {row[0]: dict(zip(_COLUMNS, row, strict=True)) for row in output.table.rows}
    first, second, third = rows[1], rows[2], rows[3]
    assert (first["valid_from"], first["valid_to"], first["changed_at"]) == (
        "0044-03-15 BC",
        "infinity",
        "-infinity",
    )
    assert str(second["valid_from"]) == "2024-01-01" and third["changed_at"] == "infinity"
    assert (first["score"], second["score"], third["score"]) == ("NaN", "Infinity", "-Infinity")
    assert first["amount"] == "NaN" and second["amount"].startswith("1" + "0" * 400)
    assert (first["waiting"], second["waiting"]) == ("178000000 years", "1 year 2 mons")
    assert first["tags"] == "{a,b}" and first["dates"] == "{infinity}"
    assert json.loads(first["payload"]) == {"k": [1, 2]} and first["raw"] == "deadbeef"
    # The long note is cut by the server and marked; the columns keep their own types.
    assert second["note"].startswith("y" * 100) and second["note"].endswith("[cut at 10,000 characters]")
    assert len(second["note"]) < 10_100
    types = {column.name: column.type for column in output.table.columns}
    assert (types["payload"], types["note"], types["valid_to"]) == ("jsonb", "text", "date")
    assert "truncated: 1 long value cut" in output.summary
    # Everything JSON can carry, as the --json events and the store need.
    json.dumps(output.table.rows, default=str, allow_nan=False)


def test_profiling_and_quality_checks_read_such_columns(odd_runtime: Runtime) -> None:
    summary = sync_profiles(
        odd_runtime.index(),
        odd_runtime.warehouse(),
        odd_runtime.profiles,
        ProfileOptions(sample_rows=1_000_000, timeout_seconds=30),
    )
    assert summary.profiled == ["odd_values"] and not summary.failed
    profile = odd_runtime.profiles.latest("model.odd.odd_values")
    assert profile is not None and profile.row_count == 3
    valid_to = profile.column("valid_to")
    assert valid_to is not None and valid_to.max == "infinity"
    json.dumps({name: column.to_json() for name, column in profile.columns.items()}, allow_nan=False)

    checks = _run(odd_runtime, "check_data_quality", {"model": "odd_values"})
    assert not checks.is_error, checks.content
    results = {(row[0], row[1]): row for row in checks.table.rows}
    assert any(check == "not_null" and column == "valid_to" for check, column in results)


@pytest.mark.parametrize(
    ("x", "y"),
    [("valid_to", "score"), ("changed_at", "amount"), ("valid_from", "id"), ("waiting", "score")],
)
def test_a_chart_of_such_columns_never_crashes(odd_runtime: Runtime, x: str, y: str) -> None:
    events = EventList()
    session = odd_runtime.store.open_session(source="cli").id
    odd_runtime.agent().handle(session, "/sql SELECT * FROM analytics.odd_values ORDER BY id", events)
    table = events.of_type(ToolFinished)[0].table  # type: ignore[union-attr]
    assert table is not None
    chart = _run(
        odd_runtime,
        "make_chart",
        {"result_id": table.result_id, "kind": "line", "x": x, "y": [y], "title": f"{y} by {x}"},
        session,
    )
    # Text where a date or number could not be held (infinity, NaN, BC) is a category or a gap, not a crash.
    assert chart.artifact is not None and not chart.is_error, chart.content
