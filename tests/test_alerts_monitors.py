"""Monitors without config: `monitors: [{select: "tag:mart"}]` on the demo finds the planted volume drop and the
stale marts, each once, and a second run counts only the new day (nothing already counted is scanned again)."""

from __future__ import annotations

import math
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from agent.alerts.incidents import IncidentStore
from agent.alerts.lifecycle import IncidentState
from agent.runtime import Runtime
from tests.fakes.slack_api import FakeSlack
from tests.test_alerts import alerts_file, channel_posts, slack_alerts
from tools.anomalies import Finding

MONITORS = "monitors:\n  - select: 'tag:mart'\n    warn_after: 1d\n"
# 08:00 in Berlin the morning after the planted checkout outage (orders -45% on 2024-03-14).
AFTER_OUTAGE = datetime(2024, 3, 15, 7, 0, tzinfo=UTC)
DAY = timedelta(days=1)


def monitors_file(tmp_path: Path) -> Path:
    path = alerts_file(tmp_path)
    path.write_text(path.read_text().replace("alerts:\n", MONITORS))
    return path


def test_monitors_expand_to_volume_and_freshness_for_every_selected_model(
    make_runtime: Callable[..., Runtime], fake_slack: FakeSlack, tmp_path: Path
) -> None:
    loaded = slack_alerts(make_runtime(alerts_file=monitors_file(tmp_path)), fake_slack).loaded

    assert loaded.problems == []
    names = {alert.name for alert in loaded.alerts}
    assert {"volume.fct_orders", "freshness.fct_orders", "volume.daily_revenue"} <= names
    assert not any("stg_" in name for name in names)  # Only tag:mart.
    volume = loaded.find("volume.fct_orders")
    assert volume is not None and (volume.time_column, volume.measure) == ("order_date", "count(*)")
    freshness = loaded.find("freshness.fct_orders")
    assert freshness is not None and freshness.warn_after == DAY


def test_the_volume_monitor_finds_the_planted_drop_once_and_counts_only_new_days(
    make_runtime: Callable[..., Runtime], fake_slack: FakeSlack, tmp_path: Path
) -> None:
    configured = slack_alerts(make_runtime(alerts_file=monitors_file(tmp_path)), fake_slack)
    scheduler = configured.scheduler()
    dry = configured.runner.preview(configured.loaded.find("volume.fct_orders"), AFTER_OUTAGE)  # type: ignore[arg-type]
    assert dry.evaluation.counted == 74 and configured.runner.monitor_points.points("volume.fct_orders") == {}

    first = {o.alert: o for o in scheduler.tick(AFTER_OUTAGE + timedelta(seconds=1))}
    second = {o.alert: o for o in scheduler.tick(AFTER_OUTAGE + DAY + timedelta(seconds=1))}

    fired = sorted(name for name, outcome in first.items() if outcome.posted)
    # The outage shows in the orders and in their items; nothing else moved, nothing is stale yet.
    assert fired == ["volume.fct_order_items", "volume.fct_orders"]
    orders = configured.runner.incidents.latest("volume.fct_orders")
    assert orders is not None and orders.state.start == datetime(2024, 3, 14)
    assert orders.state.worst.direction == "below"
    assert first["volume.fct_orders"].posted == ["anomaly"] and second["volume.fct_orders"].posted == []
    # Freshness: the demo's data runs on to 2025, so on 2024-03-15 nothing is stale.
    assert all(o.status == "ok" for name, o in first.items() if name.startswith("freshness."))
    posts = channel_posts(fake_slack)
    assert sum("*Alert volume.fct_orders*" in post for post in posts) == 1
    # The first run counted the days up to the 14th; the second only the 15th.
    counted = first["volume.fct_orders"].evaluation
    again = second["volume.fct_orders"].evaluation
    assert counted is not None and again is not None
    assert counted.counted == 74 and again.counted == 1  # 2024-01-01..03-14, then 03-15.
    assert "2024-03-15" in again.query.sql and len(again.series.values) == 75


def test_freshness_monitors_flag_stale_marts_once(
    make_runtime: Callable[..., Runtime], fake_slack: FakeSlack, tmp_path: Path
) -> None:
    configured = slack_alerts(make_runtime(alerts_file=monitors_file(tmp_path)), fake_slack)
    scheduler = configured.scheduler()
    # Three days after the demo's last order (2025-01-31).
    monday = datetime(2025, 2, 3, 7, 0, tzinfo=UTC)

    first = {o.alert: o for o in scheduler.tick(monday + timedelta(seconds=1))}
    later = {o.alert: o for o in scheduler.tick(monday + timedelta(hours=1, seconds=1))}

    stale = sorted(
        name for name, o in first.items() if name.startswith("freshness.") and o.status == "anomaly"
    )
    assert "freshness.fct_orders" in stale and "freshness.daily_revenue" in stale
    incident = configured.runner.incidents.latest("freshness.fct_orders")
    assert incident is not None and incident.state.worst.value > 24
    posts = channel_posts(fake_slack)
    assert sum("*Alert freshness.fct_orders*" in post for post in posts) == 1
    assert later == {}  # Daily schedule: nothing more is due the same morning.


@pytest.mark.postgres
def test_two_processes_on_postgresql_open_one_incident_and_claim_points_once(
    make_runtime: Callable[..., Runtime], postgres_url: str, tmp_path: Path
) -> None:
    stores = [
        IncidentStore(make_runtime(alerts_file=monitors_file(tmp_path), database_url=postgres_url).engine)
        for _ in range(2)
    ]
    # A count that was zero: its change is infinite, which PostgreSQL's JSON cannot hold as a number.
    finding = Finding(datetime(2024, 3, 14), 5.0, 0.0, 0.0, 0.0, "above", math.inf, 9.0)
    state = IncidentState.opened_by(finding)

    opened = [store.open_incident("volume.x", state) for store in stores]
    claimed = [store.claim_points("volume.x", None, datetime(2024, 3, 14)) for store in stores]

    assert opened[0] is not None and opened[1] is None
    assert claimed == [True, False]
    stored = stores[1].latest("volume.x")
    assert stored is not None and stored.state == state and math.isinf(stored.state.worst.change)
    assert stores[1].claim_points("volume.x", datetime(2024, 3, 14), datetime(2024, 3, 15))
