"""Alerts: the file (and its mistakes), the series query, evaluation on the demo warehouse, posting once, failures
reported once, and the `blueprintdata alerts` commands. Posts go through the real slack_sdk to the fake Slack."""

from __future__ import annotations

import re
import shutil
from collections.abc import Callable
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa
from slack_sdk import WebClient

from agent.alerts.definitions import AlertDefinition, MuteWindow
from agent.alerts.evaluate import evaluate_alert
from agent.alerts.loading import load_alerts
from agent.alerts.series import Series, complete_periods, series_query
from agent.runtime import Runtime
from bot.alerts.configured import ConfiguredAlerts, load_configured_alerts
from bot.alerts.posting import SlackAlertNotifier
from bot.alerts.rendering import notice_text
from bot.alerts.schedule import check_schedule
from demo.load import DEMO_FILE_NAME, DEMO_PROJECT_DIR, ensure_demo_warehouse
from tests.fakes.slack_api import FakeSlack
from tests.test_cli import run_cli

CHANNEL = "C0ALERTS"
DAILY = '"shop"."main"."daily_revenue"'
# 8:00 in Berlin on a day long after the demo data ends: every demo day is a complete period.
MORNING = datetime(2026, 11, 25, 7, 0, tzinfo=UTC)


def orders_until(day: str, name: str = "orders_replay", **fields: str) -> str:
    """An alert on daily orders that sees the demo data only up to `day` (a planted anomaly, or a quiet day)."""
    extra = "".join(f"    {key}: {value}\n" for key, value in fields.items())
    return (
        f"  - name: {name}\n"
        "    model: daily_revenue\n"
        "    time_column: order_date\n"
        "    measure: sum(orders)\n"
        "    label: orders\n"
        "    filters:\n"
        f"      - order_date <= date '{day}'\n"
        f"{extra}"
    )


def alerts_file(tmp_path: Path, *alerts: str, defaults: str = "") -> Path:
    """An alerts file whose alerts post to CHANNEL every day at 08:00 Berlin time unless they say otherwise."""
    header = (
        "defaults:\n"
        "  schedule: '0 8 * * *'\n"
        "  timezone: Europe/Berlin\n"
        f"  channel: {CHANNEL}\n"
        f"{defaults}"
        "alerts:\n"
    )
    path = tmp_path / "blueprintdata_alerts.yml"
    path.write_text(header + "".join(alerts))
    return path


def slack_alerts(runtime: Runtime, fake: FakeSlack) -> ConfiguredAlerts:
    """The runtime's alerts, posting through the real WebClient to the fake Slack."""
    client = WebClient(token=fake.bot_token, base_url=fake.base_url)
    return load_configured_alerts(runtime, SlackAlertNotifier(client, runtime.sessions))


def channel_posts(fake: FakeSlack) -> list[str]:
    """The bot's top-level messages in the alerts channel (thread replies left out)."""
    return [m.text for m in fake.messages(CHANNEL) if m.thread_ts in (None, m.ts)]


def test_the_demo_alerts_load_and_evaluate_on_the_demo_warehouse(
    make_runtime: Callable[..., Runtime],
) -> None:
    configured = load_configured_alerts(make_runtime())

    assert configured.loaded.path == DEMO_PROJECT_DIR / "blueprintdata_alerts.yml"
    assert configured.loaded.problems == []
    names = [alert.name for alert in configured.loaded.alerts]
    assert names[:4] == ["daily_orders", "daily_revenue", "failed_payments", "revenue_replay"]
    # Its monitors section: volume and freshness of every mart with a time column, the calendar left out.
    marts = ("daily_revenue", "dim_customers", "fct_order_items", "fct_orders")
    assert sorted(names[4:]) == sorted(f"{kind}.{mart}" for mart in marts for kind in ("volume", "freshness"))
    # Owners from dbt's meta: the marts folder's owner, and fct_orders' own owner and subscribers.
    owners = {alert.name: alert.owners for alert in configured.loaded.alerts}
    assert owners["daily_orders"] == ["@maya"] and owners["volume.dim_customers"] == ["@maya"]
    assert owners["failed_payments"] == owners["volume.fct_orders"] == ["@leo", "@maya"]
    quiet = configured.runner.preview(configured.loaded.alerts[0], MORNING)
    assert quiet.notice is None
    assert quiet.evaluation.detection.timestamps[-1] == datetime(2025, 1, 31)
    assert quiet.chart_png.startswith(b"\x89PNG")
    replay = configured.runner.preview(configured.loaded.find("revenue_replay"), MORNING)  # type: ignore[arg-type]
    assert replay.notice is not None
    assert replay.notice.finding.at == datetime(2024, 11, 5)
    post = notice_text(replay.notice)
    assert "+309%" in post and "What to do" in post


def test_the_series_query_is_built_per_dialect_and_passes_the_sql_guard(
    make_runtime: Callable[..., Runtime],
) -> None:
    index = make_runtime().index()
    alert = AlertDefinition(
        name="hourly_failed",
        model="fct_orders",
        time_column="order_date",
        measure="count(*)",
        filters=["payment_status = 'failed'"],
        grain="hour",
        history=48,
        schedule="5 * * * *",
        channel=CHANNEL,
    )
    sql = {dialect: series_query(alert, index, dialect).sql for dialect in ("duckdb", "postgres", "bigquery")}
    assert "DATE_TRUNC('HOUR', order_date)" in sql["duckdb"]
    assert "DATE_TRUNC('HOUR', order_date)" in sql["postgres"]
    assert "TIMESTAMP_TRUNC(order_date, HOUR)" in sql["bigquery"]
    assert all("LIMIT 48" in text and "payment_status = 'failed'" in text for text in sql.values())
    # A filter cannot smuggle a write: the guard checks the whole statement.
    sneaky = alert.model_copy(update={"filters": ["1 = 1; DROP TABLE fct_orders"]})
    with pytest.raises(Exception, match=r"(?i)parse|refused"):
        series_query(sneaky, index, "duckdb")


def test_an_alert_on_a_dbt_metric_honours_the_metrics_filter_and_its_own(
    make_runtime: Callable[..., Runtime],
) -> None:
    runtime = make_runtime()
    alert = AlertDefinition(
        name="web_revenue",
        metric="web_revenue",  # revenue where {{ Dimension('order__channel') }} = 'web'
        filters=["order_date <= date '2024-06-30'"],
        history=60,
        schedule="0 8 * * *",
        channel=CHANNEL,
    )
    # The same SQL as detect_anomalies builds for the metric, narrowed by the alert's own filter.
    assert "channel = 'web'" in series_query(alert, runtime.index(), "duckdb").sql

    evaluation = evaluate_alert(
        alert, index=runtime.index(), warehouse=runtime.warehouse(), settings=runtime.settings, now=MORNING
    )

    web_only = runtime.warehouse().execute_readonly(
        "select order_date, sum(net_revenue) from fct_orders where channel = 'web' "
        "and order_date between date '2024-05-02' and date '2024-06-30' group by 1 order by 1",
        max_rows=100,
        timeout_seconds=30,
    )
    assert len(evaluation.series.values) == 60
    assert evaluation.series.timestamps[-1] == datetime(2024, 6, 30)
    assert evaluation.series.values == pytest.approx([float(row[1]) for row in web_only.rows])


def test_an_alert_can_watch_a_ratio_metric(make_runtime: Callable[..., Runtime]) -> None:
    runtime = make_runtime()
    alert = AlertDefinition(
        name="aov", metric="average_order_value", history=30, schedule="0 8 * * *", channel=CHANNEL
    )
    evaluation = evaluate_alert(
        alert, index=runtime.index(), warehouse=runtime.warehouse(), settings=runtime.settings, now=MORNING
    )
    assert "NULLIF(COUNT(order_id), 0)" in evaluation.query.sql
    assert len(evaluation.series.values) == 30 and 10 < evaluation.series.values[-1] < 500


def test_bad_alerts_are_named_with_the_field_to_fix_and_the_others_still_run(
    make_runtime: Callable[..., Runtime], fake_slack: FakeSlack, tmp_path: Path
) -> None:
    path = alerts_file(
        tmp_path,
        orders_until("2024-06-12", name="viral_orders"),
        "  - name: typo_model\n    model: daily_revenu\n    time_column: order_date\n    measure: sum(orders)\n",
        orders_until("2024-06-12", name="bad_cron", schedule="'0 8 * *'"),
        orders_until("2024-06-12", name="no_channel", channel="''"),
        "  - name: unknown_column\n    model: daily_revenue\n    time_column: ordered_at\n    measure: count(*)\n",
        "  - name: running_total\n    metric: cumulative_revenue\n",
        "  - name: two_sources\n    metric: revenue\n    sql: select 1, 2\n",
        "  - name: bad_zone\n    metric: revenue\n    timezone: Mars/Olympus\n",
    )
    runtime = make_runtime(alerts_file=path)
    configured = slack_alerts(runtime, fake_slack)

    assert [alert.name for alert in configured.loaded.alerts] == ["viral_orders"]
    problems = [str(problem) for problem in configured.loaded.problems]
    assert (
        problems[0]
        == "alert 'typo_model': model: No model named 'daily_revenu'. Did you mean: daily_revenue?"
    )
    assert problems[1].startswith(
        "alert 'bad_cron': schedule: '0 8 * *' is not a cron schedule: expected 5 fields"
    )
    assert problems[2].startswith("alert 'no_channel': channel: a Slack channel name or id")
    assert problems[3].startswith(
        "alert 'unknown_column': time_column: daily_revenue has no column 'ordered_at'"
    )
    assert problems[4].startswith("alert 'running_total': metric: cumulative_revenue is a cumulative metric")
    assert problems[5].startswith(
        "alert 'two_sources': say what to watch with exactly one of sql, model or metric"
    )
    assert problems[6].startswith("alert 'bad_zone': timezone: 'Mars/Olympus' is not a time zone")

    outcome = configured.runner.run(configured.loaded.alerts[0], MORNING, "schedule")
    assert outcome.status == "anomaly" and outcome.posted == ["anomaly"]
    assert "orders on 2024-06-12: 399" in channel_posts(fake_slack)[0]


def test_a_missing_channel_and_a_broken_file_say_what_to_write(tmp_path: Path) -> None:
    missing = tmp_path / "missing.yml"
    missing.write_text("alerts:\n  - name: orders\n    metric: revenue\n    schedule: '0 8 * * *'\n")
    [problem] = load_alerts(missing, check_schedule=check_schedule).problems
    assert str(problem) == (
        "alert 'orders': channel: missing: the Slack channel to post in, "
        "e.g. channel: '#data-alerts' or a channel id C0123ABCD"
    )
    broken = tmp_path / "broken.yml"
    broken.write_text("alerts:\n  - name: [unclosed\n")
    [problem] = load_alerts(broken).problems
    assert str(problem).startswith(f"alerts file: {broken} is not valid YAML")
    unquoted = tmp_path / "unquoted.yml"
    unquoted.write_text(
        "alerts:\n  - name: quiet\n    metric: revenue\n    schedule: '0 8 * * *'\n    channel: C1\n"
        "    mute: {start: 22:00, end: '06:00'}\n"
    )
    [problem] = load_alerts(unquoted).problems
    assert str(problem) == "alert 'quiet': mute.0.start: write times of day in quotes, e.g. '22:00'"


def test_mute_windows_cover_nights_days_and_periods() -> None:
    night = MuteWindow(start=time(22), end=time(6))
    assert night.covers(datetime(2026, 1, 1, 23, 30)) and night.covers(datetime(2026, 1, 2, 5, 59))
    assert not night.covers(datetime(2026, 1, 2, 6, 0))
    holidays = MuteWindow.model_validate({"start": "2026-12-24", "end": "2026-12-26"})
    assert holidays.covers(datetime(2026, 12, 26, 23, 0)) and not holidays.covers(datetime(2026, 12, 27))
    period = MuteWindow.model_validate({"start": "2026-02-03 06:00", "end": "2026-02-03 12:00"})
    assert period.covers(datetime(2026, 2, 3, 11, 59)) and not period.covers(datetime(2026, 2, 3, 12, 0))
    with pytest.raises(ValueError, match="same kind"):
        MuteWindow.model_validate({"start": "22:00", "end": date(2026, 1, 1)})


def test_an_alert_in_its_mute_window_neither_queries_nor_posts(
    make_runtime: Callable[..., Runtime], fake_slack: FakeSlack, tmp_path: Path
) -> None:
    mute = "\n      - {start: '07:30', end: '09:00', reason: morning deploys}"
    path = alerts_file(tmp_path, orders_until("2024-06-12", mute=mute))
    configured = slack_alerts(make_runtime(alerts_file=path), fake_slack)
    [alert] = configured.loaded.alerts

    outcome = configured.runner.run(alert, MORNING, "schedule")  # 08:00 in Berlin.
    later = configured.runner.run(alert, MORNING + timedelta(hours=2), "schedule")

    assert (outcome.status, outcome.message) == ("muted", "orders_replay: muted (morning deploys)")
    assert later.status == "anomaly" and len(channel_posts(fake_slack)) == 1


def test_a_change_in_behaviour_with_no_point_out_of_range_is_posted_as_one_incident_that_says_so(
    make_runtime: Callable[..., Runtime], fake_slack: FakeSlack, tmp_path: Path
) -> None:
    """Hourly payments that go up by 80% from midnight: four hours later, before any hour leaves its range,
    the change itself opens an incident, and its post says what it is."""
    sql = (
        "SELECT date_trunc('hour', paid_at) AS hour, count(*) * CASE WHEN date_trunc('hour', paid_at) >= "
        "TIMESTAMP '2024-10-12 00:00' THEN 1.8 ELSE 1 END AS payments FROM stg_payments "
        "WHERE paid_at >= TIMESTAMP '2024-09-10' AND paid_at < TIMESTAMP '2024-10-12 05:00' GROUP BY 1 ORDER BY 1"
    )
    alert = f'  - name: payments_change\n    sql: "{sql}"\n    grain: hour\n    history: 900\n    label: payments\n'
    configured = slack_alerts(make_runtime(alerts_file=alerts_file(tmp_path, alert)), fake_slack)
    [definition] = configured.loaded.alerts

    outcome = configured.runner.run(definition, MORNING, "schedule")

    assert outcome.status == "anomaly" and outcome.posted == ["anomaly"], outcome.message
    [post] = channel_posts(fake_slack)
    [line] = [line for line in post.splitlines() if "payments on 2024-10-12 04:00" in line]
    assert "a change in behaviour: the latest points stray from their range more than usual" in line
    numbers = re.search(r"04:00: ([\d.,]+), expected ([\d.,]+)–([\d.,]+)", line)
    assert numbers is not None, line
    value, low, high = (float(number.replace(",", "")) for number in numbers.groups())
    assert low <= value <= high  # not a departure: no hour is out of its range yet


def test_the_same_anomaly_is_posted_once_and_a_run_is_claimed_once(
    make_runtime: Callable[..., Runtime], fake_slack: FakeSlack, tmp_path: Path
) -> None:
    path = alerts_file(tmp_path, orders_until("2024-03-14"))
    configured = slack_alerts(make_runtime(alerts_file=path), fake_slack)
    [alert] = configured.loaded.alerts

    first = configured.runner.run(alert, MORNING, "schedule")
    again = configured.runner.run(alert, MORNING, "schedule")
    next_day = configured.runner.run(alert, MORNING + timedelta(days=1), "schedule")

    assert first.posted == ["anomaly"] and "orders on 2024-03-14: 45" in first.message
    assert again.status == "taken"
    assert next_day.status == "anomaly" and next_day.posted == []
    assert "incident open since 2024-03-14" in next_day.message
    assert len(channel_posts(fake_slack)) == 1
    runs = configured.runner.runs.runs("orders_replay")
    assert [(run.status, run.posted) for run in runs] == [("anomaly", None), ("anomaly", "anomaly")]
    [incident] = configured.runner.incidents.incidents("orders_replay")
    assert (
        incident.state.start == datetime(2024, 3, 14)
        and incident.message_ts == fake_slack.messages(CHANNEL)[0].ts
    )


def test_a_warehouse_outage_is_posted_once_and_the_recovery_is_noted(
    make_runtime: Callable[..., Runtime], fake_slack: FakeSlack, demo_data_dir: Path, tmp_path: Path
) -> None:
    warehouse = tmp_path / "warehouse" / DEMO_FILE_NAME
    path = alerts_file(tmp_path, orders_until("2025-01-31", name="orders"))
    runtime = make_runtime(
        alerts_file=path, dbt_project_dir=DEMO_PROJECT_DIR, warehouse_url=f"duckdb:///{warehouse}"
    )
    configured = slack_alerts(runtime, fake_slack)
    [alert] = configured.loaded.alerts
    days = [MORNING + timedelta(days=n) for n in range(4)]

    down = [configured.runner.run(alert, day, "schedule") for day in days[:2]]
    manual = configured.runner.run(alert, days[1] + timedelta(hours=1), "manual")
    warehouse.parent.mkdir()
    shutil.copy(ensure_demo_warehouse(demo_data_dir), warehouse)
    up = [configured.runner.run(alert, day, "schedule") for day in days[2:]]

    assert [outcome.status for outcome in down] == ["failed", "failed"]
    assert [outcome.posted for outcome in down] == [["failure"], []]
    assert "database does not exist" in down[0].message
    assert manual.status == "failed" and manual.posted == []
    assert [outcome.status for outcome in up] == ["ok", "ok"]
    assert [outcome.posted for outcome in up] == [["recovery"], []]
    posts = channel_posts(fake_slack)
    assert len(posts) == 2
    assert "*Alert orders* could not run" in posts[0] and "database does not exist" in posts[0]
    assert "*Alert orders* runs again (it failed since 2026-11-25 08:00 CET)" in posts[1]


def test_a_later_anomaly_resolves_the_old_incident_and_opens_a_new_message(
    make_runtime: Callable[..., Runtime], fake_slack: FakeSlack, tmp_path: Path
) -> None:
    # `cooldown` is the older name of suppression_interval: two days is far shorter than March to June.
    march = alerts_file(tmp_path, orders_until("2024-03-14", cooldown="2d"))
    configured = slack_alerts(make_runtime(alerts_file=march), fake_slack)
    assert configured.loaded.alerts[0].suppression_interval == timedelta(days=2)
    configured.runner.run(configured.loaded.alerts[0], MORNING, "schedule")
    june = load_alerts(alerts_file(tmp_path, orders_until("2024-06-12", cooldown="2d"))).alerts[0]
    later = configured.runner.run(june, MORNING + timedelta(days=1), "schedule")

    assert later.posted == ["anomaly", "update"]
    days = [re.search(r"orders on (\S+):", post).group(1) for post in channel_posts(fake_slack)]  # type: ignore[union-attr]
    assert days == ["2024-03-14", "2024-06-12"]
    first, second = configured.runner.incidents.incidents("orders_replay")
    assert first.state.resolved_at == datetime(2024, 3, 17) and second.state.is_open
    assert (
        "Resolved: back in range since 2024-03-17" in fake_slack.message(CHANNEL, str(first.message_ts)).text
    )


def test_the_migration_creates_incidents_with_one_open_incident_per_alert(
    make_runtime: Callable[..., Runtime],
) -> None:
    inspector = sa.inspect(make_runtime().engine)
    unique = {tuple(c["column_names"]) for c in inspector.get_unique_constraints("alert_incidents")}
    assert ("alert", "open_key") in unique
    assert {c["name"] for c in inspector.get_columns("alert_states")} >= {"alert", "last_point", "muted_by"}


def test_the_migration_creates_alert_runs_with_its_unique_keys(make_runtime: Callable[..., Runtime]) -> None:
    inspector = sa.inspect(make_runtime().engine)
    unique = {tuple(c["column_names"]) for c in inspector.get_unique_constraints("alert_runs")}
    assert {("alert", "scheduled_for"), ("alert", "posted_point")} <= unique


@pytest.fixture
def cli_env(demo_cli_env: dict[str, str]) -> dict[str, str]:
    """The demo with nothing configured (no Slack token either) and a fresh store; wide, for the alert table."""
    return {**demo_cli_env, "COLUMNS": "200"}


def test_cli_alerts_list_and_dry_run_on_the_demo(cli_env: dict[str, str]) -> None:
    listing = run_cli("alerts", "list", env=cli_env)
    assert listing.returncode == 0, listing.stderr
    for name in ("daily_orders", "daily_revenue", "failed_payments", "revenue_replay"):
        assert name in listing.stdout
    assert "never" in listing.stdout

    every = run_cli("alerts", "run", "--dry-run", env=cli_env)
    assert every.returncode == 0, every.stderr
    assert "daily_orders: no anomaly. orders on 2025-01-31" in every.stdout
    assert "revenue_replay: would post to #shop-metrics:" in every.stdout
    assert "revenue (USD) on 2024-11-05: 117,586, expected 19,252–42,890, +309%" in every.stdout
    charts = [
        Path(line.removeprefix("chart: ")) for line in every.stdout.splitlines() if line.startswith("chart: ")
    ]
    # Four alerts and the monitors' eight (volume and freshness of four marts): the demo's data ended in 2025,
    # so each mart's freshness monitor says it is stale.
    assert len(charts) == 12 and all(chart.read_bytes().startswith(b"\x89PNG") for chart in charts)
    assert "freshness.fct_orders: would post to #shop-metrics" in every.stdout

    unknown = run_cli("alerts", "run", "nope", "--dry-run", env=cli_env)
    assert unknown.returncode == 2 and "No alert named 'nope'" in unknown.stderr
    no_token = run_cli("alerts", "run", "revenue_replay", env=cli_env)
    assert no_token.returncode == 2
    assert "SLACK_BOT_TOKEN is not set" in no_token.stderr and "--dry-run" in no_token.stderr


def test_cli_alerts_test_replays_the_demo_failed_payments(cli_env: dict[str, str]) -> None:
    result = run_cli("alerts", "test", "failed_payments", "--since", "200d", env=cli_env)
    assert result.returncode == 0, result.stderr
    out = " ".join(result.stdout.split())
    assert "failed_payments: 188 points replayed since 2024-07-15: 1 message(s) and 1 thread note(s)" in out
    [row] = [line for line in result.stdout.splitlines() if "failed payments on" in line]
    cells = [cell.strip() for cell in row.strip("│ ").split("│")]
    assert cells[:3] == ["2024-09-03 00:00", "2024-09-03 00:00", "1"]
    assert cells[3].startswith("failed payments on 2024-09-03: 123")
    assert cells[4] == "2024-09-06 00:00"  # Resolved by itself after three quiet points.
    chart = next(
        line.removeprefix("chart: ") for line in result.stdout.splitlines() if line.startswith("chart: ")
    )
    assert Path(chart).read_bytes().startswith(b"\x89PNG")


def test_cli_alerts_list_shows_what_could_not_be_loaded(cli_env: dict[str, str], tmp_path: Path) -> None:
    path = alerts_file(
        tmp_path, orders_until("2024-06-12"), orders_until("2024-06-12", name="x", schedule="nope")
    )
    result = run_cli("alerts", "list", env={**cli_env, "BLUEPRINTDATA_ALERTS_FILE": str(path)})
    assert result.returncode == 1
    assert "orders_replay" in result.stdout
    assert "Skipped alert 'x': schedule: 'nope' is not a cron schedule" in " ".join(result.stderr.split())


def test_the_period_in_progress_is_left_out_in_the_alerts_time_zone() -> None:
    hours = [datetime(2026, 11, 25, hour) for hour in range(6, 10)]
    series = Series(hours, [1.0, 2.0, 3.0, 4.0], truncated=False)
    # 08:30 UTC is 09:30 in Berlin: the 09:00 hour is still running, 08:00 is complete.
    kept = complete_periods(
        series, "hour", datetime(2026, 11, 25, 8, 30, tzinfo=UTC), ZoneInfo("Europe/Berlin")
    )
    assert kept.timestamps == hours[:3]
    days = Series([datetime(2026, 11, 24), datetime(2026, 11, 25)], [1.0, 2.0], truncated=False)
    # 23:30 UTC on the 24th is already the 25th in Berlin.
    late = datetime(2026, 11, 24, 23, 30, tzinfo=UTC)
    assert complete_periods(days, "day", late, ZoneInfo("Europe/Berlin")).timestamps == [
        datetime(2026, 11, 24)
    ]
    assert complete_periods(days, "day", late, ZoneInfo("UTC")).timestamps == []  # The 24th is still running.


def test_alerts_that_cannot_run_are_refused_at_load_naming_the_field(
    make_runtime: Callable[..., Runtime], cli_env: dict[str, str], tmp_path: Path
) -> None:
    path = alerts_file(
        tmp_path,
        orders_until("2024-06-12", name="fine"),
        "  - name: smuggled_statement\n    model: daily_revenue\n    time_column: order_date\n"
        '    measure: "count(*) FROM x; DROP TABLE daily_revenue"\n',
        "  - name: stacked_statement\n    model: daily_revenue\n    time_column: order_date\n"
        '    measure: "count(*); DROP TABLE daily_revenue"\n',
        "  - name: escaping_filter\n    model: daily_revenue\n    time_column: order_date\n"
        "    measure: sum(orders)\n    filters: ['1=1) OR (1=1']\n",
        "  - name: writes\n    sql: DELETE FROM fct_orders\n",
        '  - name: binary_sql\n    sql: "SELECT 1; SELECT 2"\n',
    )
    runtime = make_runtime(alerts_file=path)
    loaded = load_configured_alerts(runtime).loaded
    assert [alert.name for alert in loaded.alerts] == ["fine"]
    fields = {problem.alert: problem.field for problem in loaded.problems}
    assert fields == {
        "smuggled_statement": "measure",
        "stacked_statement": "measure",
        "escaping_filter": "filters.0",
        "writes": "sql",
        "binary_sql": "sql",
    }
    assert all(problem.message for problem in loaded.problems)

    listing = run_cli("alerts", "list", env={**cli_env, "BLUEPRINTDATA_ALERTS_FILE": str(path)})
    assert listing.returncode == 1 and "Traceback" not in listing.stderr
    shown = " ".join(listing.stderr.split())
    assert "Skipped alert 'writes': sql: Refused" in shown
    assert "Skipped alert 'escaping_filter': filters.0:" in shown


def test_an_alerts_file_that_is_not_utf8_is_one_problem(tmp_path: Path) -> None:
    path = tmp_path / "alerts.yml"
    path.write_bytes(b"alerts:\n  - name: caf\xe9\xff\n")
    [problem] = load_alerts(path).problems
    assert str(problem) == f"alerts file: {path} is not UTF-8 text (byte 21)"


def test_a_mute_window_mixing_zoned_and_plain_times_is_one_problem(tmp_path: Path) -> None:
    path = tmp_path / "alerts.yml"
    path.write_text(
        "alerts:\n  - name: quiet\n    metric: revenue\n    schedule: '0 8 * * *'\n    channel: C1\n"
        "    mute: {start: '2024-12-24T00:00+01:00', end: '2024-12-26T00:00'}\n"
    )
    [problem] = load_alerts(path).problems
    assert str(problem).startswith("alert 'quiet': cannot be read:")
