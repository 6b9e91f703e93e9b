"""A function the user allowed (BLUEPRINTDATA_ALLOWED_FUNCTIONS) works in alerts as it does in run_query: when the
file is loaded, when the series is queried, in a monitor and in the drill-down; without the setting it is refused
and named."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import duckdb

from agent.alerts.drilldown import drill_down
from agent.runtime import Runtime
from bot.alerts.configured import load_configured_alerts
from demo.load import DEMO_FILE_NAME
from tests.test_alerts import alerts_file

BIG_ORDERS = (
    "  - name: big_orders\n    model: fct_orders\n    time_column: order_date\n    measure: count(*)\n"
    '    filters: ["is_big(item_count)", "order_date <= date \'2024-09-03\'"]\n'
)
MONITOR = "monitors:\n  - select: fct_orders\n    filters: ['is_big(item_count)']\n"
AFTER = datetime(2024, 9, 4, 7, 0, tzinfo=UTC)


def data_dir_with_macro(demo_data_dir: Path, tmp_path: Path) -> Path:
    """A copy of the demo warehouse with a user-defined function, `is_big(n)`, that the guard does not know."""
    data_dir = tmp_path / "data"
    shutil.copytree(demo_data_dir / "demo", data_dir / "demo")
    with duckdb.connect(str(data_dir / "demo" / DEMO_FILE_NAME)) as connection:
        connection.execute("CREATE MACRO is_big(n) AS n >= 3")
    return data_dir


def test_a_function_the_user_allowed_runs_in_alerts_monitors_and_the_drill_down(
    make_runtime: Callable[..., Runtime], demo_data_dir: Path, tmp_path: Path
) -> None:
    data_dir = data_dir_with_macro(demo_data_dir, tmp_path)
    path = alerts_file(tmp_path, BIG_ORDERS)
    path.write_text(path.read_text().replace("alerts:\n", MONITOR + "alerts:\n"))

    refused = load_configured_alerts(make_runtime(data_dir=data_dir, alerts_file=path)).loaded
    assert refused.alerts == []
    messages = [problem.message for problem in refused.problems]
    assert any("is_big()" in message and "ALLOWED_FUNCTIONS" in message for message in messages), messages

    runtime = make_runtime(data_dir=data_dir, alerts_file=path, allowed_functions=frozenset({"is_big"}))
    configured = load_configured_alerts(runtime)
    assert configured.loaded.problems == []
    alert = configured.loaded.find("big_orders")
    monitor = configured.loaded.find("volume.fct_orders")
    assert alert is not None and monitor is not None

    evaluation = configured.runner.evaluate(alert, AFTER)
    assert "is_big(item_count)" in evaluation.query.sql.lower()
    assert evaluation.detection.timestamps[-1] == datetime(2024, 9, 3) and evaluation.series.values[-1] > 0
    volume = configured.runner.evaluate(monitor, AFTER)
    assert "is_big(item_count)" in volume.query.sql.lower() and volume.counted == monitor.history
    settings = runtime.settings
    drill = drill_down(
        alert,
        datetime(2024, 9, 3),
        index=runtime.index(),
        warehouse=runtime.warehouse(),
        timeout_seconds=settings.query_timeout_seconds,
        max_rows=settings.max_result_rows,
        allowed_functions=settings.allowed_functions,
    )
    assert drill.splits and not drill.skipped
    assert all("is_big(item_count)" in split.sql.lower() for split in drill.splits)
