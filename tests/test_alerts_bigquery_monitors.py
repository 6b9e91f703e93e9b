"""Monitors on BigQuery stay within the byte cap: on a model partitioned by dbt's `partition_by`, volume and freshness
read only the partitions of the days not yet counted; a check that would still scan over the cap is refused by its
dry run and no job is sent. Through the real google-cloud-bigquery client against the fake BigQuery."""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from agent.alerts.evaluate import AlertEvaluationError
from agent.runtime import Runtime
from bot.alerts.configured import load_configured_alerts
from demo.load import DEMO_PROJECT_DIR
from tests.fakes.bigquery_api import ENDPOINT, MB, PROJECT, FakeBigQuery
from tests.test_alerts import alerts_file

GB = 10**9
MONITORS = "monitors:\n  - select: 'fct_orders fct_order_items'\n    warn_after: 1d\n"
# 08:00 in Berlin the morning after the data's last day (2024-03-14).
MORNING = datetime(2024, 3, 15, 7, 0, tzinfo=UTC)
PARTITION = "loaded_at >= CAST("  # How the guard writes the filter back in BigQuery SQL.


def from_day(day: str) -> str:
    """The partition filter from `day` on."""
    return f"{PARTITION}'{day}' AS TIMESTAMP)"


def scanned(sql: str) -> int:
    """What BigQuery would bill: a few MB when the partition filter prunes, a whole table's 50 GB otherwise."""
    return 40 * MB if PARTITION in sql else 50 * GB


@pytest.fixture
def bigquery() -> Iterator[FakeBigQuery]:
    """main.fct_orders partitioned by its load time; main.fct_order_items not partitioned (and too big to scan)."""
    fake = FakeBigQuery(bytes_processed=scanned)
    fake.execute(
        "CREATE TABLE main.fct_orders AS SELECT range AS order_id, DATE '2024-01-01' + CAST(range // 20 AS INTEGER)"
        " AS order_date FROM range(20 * 74);"
        "ALTER TABLE main.fct_orders ADD COLUMN loaded_at TIMESTAMP;"
        "UPDATE main.fct_orders SET loaded_at = CAST(order_date AS TIMESTAMP) + INTERVAL 6 HOUR;"
        "CREATE TABLE main.fct_order_items AS SELECT order_id, order_date FROM main.fct_orders"
    )
    fake.partition("main.fct_orders", "loaded_at")
    with fake.serving():
        yield fake


def bigquery_project(tmp_path: Path) -> Path:
    """The demo project as dbt-bigquery would write it: BigQuery relations, fct_orders partitioned by loaded_at."""
    project = tmp_path / "project"
    shutil.copytree(DEMO_PROJECT_DIR, project)
    path = project / "target" / "manifest.json"
    manifest = json.loads(path.read_text())
    for name in ("fct_orders", "fct_order_items"):
        node = manifest["nodes"][f"model.shop.{name}"]
        node["relation_name"] = f"`{PROJECT}`.`main`.`{name}`"
    orders = manifest["nodes"]["model.shop.fct_orders"]
    orders["config"]["partition_by"] = {"field": "loaded_at", "data_type": "timestamp", "granularity": "day"}
    orders["columns"]["loaded_at"] = {
        "name": "loaded_at",
        "data_type": "timestamp",
        "description": "Load time.",
    }
    path.write_text(json.dumps(manifest))
    return project


def test_monitors_on_bigquery_read_only_new_partitions_and_an_over_cap_scan_sends_no_job(
    make_runtime: Callable[..., Runtime], bigquery: FakeBigQuery, tmp_path: Path
) -> None:
    path = alerts_file(tmp_path)
    path.write_text(path.read_text().replace("alerts:\n", MONITORS))
    runtime = make_runtime(
        alerts_file=path,
        dbt_project_dir=bigquery_project(tmp_path),
        warehouse_url=f"bigquery://{PROJECT}/main",
        bigquery_api_endpoint=ENDPOINT,
        max_bytes_scanned=GB,
    )
    configured = load_configured_alerts(runtime)
    assert configured.loaded.problems == []
    runner = configured.runner

    def check(name: str, now: datetime) -> list[str]:
        """Run one monitor as the scheduler does; the statements it sent to BigQuery."""
        sent = len(bigquery.statements)
        runner.evaluate(configured.loaded.find(name), now, record=True)  # type: ignore[arg-type]
        return bigquery.statements[sent:]

    [first] = check("volume.fct_orders", MORNING)
    [second] = check("volume.fct_orders", MORNING + timedelta(days=1))
    # The first count reads the last 120 days' partitions; the next only the partition of the new day.
    assert from_day("2023-11-16") in first and from_day("2024-03-15") in second
    assert runner.monitor_points.points("volume.fct_orders")[datetime(2024, 3, 14)] == 20
    [fresh] = check("freshness.fct_orders", MORNING)
    assert "MAX(loaded_at)" in fresh and from_day("2024-03-08") in fresh  # A week back.
    assert all(run.sql in bigquery.statements for run in bigquery.dry_runs if PARTITION in run.sql)
    assert all(scanned(sql) <= GB for sql in bigquery.statements)

    # fct_order_items has no partition: its dry run says 50 GB, over the 1 GB cap, and no job is sent.
    sent, dry_runs = len(bigquery.statements), len(bigquery.dry_runs)
    with pytest.raises(AlertEvaluationError, match=r"volume\.fct_order_items.*Not run: this would scan 50"):
        runner.evaluate(configured.loaded.find("volume.fct_order_items"), MORNING, record=True)  # type: ignore[arg-type]
    assert len(bigquery.statements) == sent and len(bigquery.dry_runs) == dry_runs + 1
    assert "fct_order_items" in bigquery.dry_runs[-1].sql
    assert runner.monitor_points.points("volume.fct_order_items") == {}
