"""The series of monitors, kept in the store so that nothing already counted is scanned again.

Volume: rows per complete day. The first run counts the last `history` days; every later run counts only the
days after the last one stored, up to yesterday (in the alert's time zone). Days with no rows count as zero.
Freshness: the newest row's age in hours, one value per day it was checked; stale past `warn_after`.
On BigQuery both read only the partitions they need (agent/alerts/partition_filter.py).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlalchemy import Engine
from sqlalchemy.orm import sessionmaker

from agent.alerts.definitions import AlertDefinition
from agent.alerts.evaluate import AlertEvaluation, AlertEvaluationError
from agent.alerts.partition_filter import partition_conditions
from agent.alerts.series import Series, SeriesQuery, fetch_series, series_from_result
from agent.settings import Settings
from agent.store.models import MonitorPointRow
from tools.anomalies import Detection, DetectionInputError, Finding, detect
from tools.anomalies.metric_query import UnparsableSeriesSql, model_relation, series_sql
from tools.dbt.index import DbtIndex
from tools.errors import BlueprintError, ToolInputError
from tools.sql_guard import check_read_only
from tools.warehouse.base import Warehouse

_DAY = timedelta(days=1)
# A freshness check on a partitioned BigQuery model reads at least this far back (or twice warn_after).
_FRESHNESS_LOOKBACK = timedelta(days=7)
Partitions = Callable[[datetime], list[str]]


class MonitorPoints:
    """The periods each monitor already counted; a period is written once and never counted again."""

    def __init__(self, engine: Engine) -> None:
        self._sessions = sessionmaker(engine, expire_on_commit=False)

    def points(self, monitor: str) -> dict[datetime, float]:
        with self._sessions() as db:
            rows = db.scalars(sa.select(MonitorPointRow).where(MonitorPointRow.monitor == monitor)).all()
            return {datetime.fromisoformat(row.period): row.value for row in rows}

    def add(self, monitor: str, points: Mapping[datetime, float]) -> None:
        """Store the periods not stored yet (another process may have counted some in the meantime)."""
        known = self.points(monitor)
        with self._sessions.begin() as db:
            for period, value in points.items():
                if period not in known:
                    db.add(MonitorPointRow(monitor=monitor, period=period.isoformat(), value=value))


class UnsavedMonitorPoints:
    """Counts kept in memory, for a dry run or a replay: nothing is written to the store."""

    def __init__(self, saved: MonitorPoints) -> None:
        self._saved = saved
        self._added: dict[str, dict[datetime, float]] = {}

    def points(self, monitor: str) -> dict[datetime, float]:
        return {**self._saved.points(monitor), **self._added.get(monitor, {})}

    def add(self, monitor: str, points: Mapping[datetime, float]) -> None:
        self._added.setdefault(monitor, {}).update(points)


PointStore = MonitorPoints | UnsavedMonitorPoints


def evaluate_monitor(
    alert: AlertDefinition,
    *,
    index: DbtIndex,
    warehouse: Warehouse,
    settings: Settings,
    now: datetime,
    points: PointStore,
) -> AlertEvaluation:
    """Count what is new, then judge the stored series; failures are AlertEvaluationError naming the monitor."""
    relation = model_relation(alert.model, index)
    if relation is None or alert.time_column is None:
        raise AlertEvaluationError(f"monitor {alert.name!r}: the dbt project has no model {alert.model!r}")
    today = datetime.combine(now.astimezone(alert.zone).date(), datetime.min.time())
    dialect = warehouse.dialect.sqlglot_name

    def partitions(since: datetime) -> list[str]:
        return partition_conditions(alert.model, index, dialect, since)

    try:
        if alert.monitor == "freshness":
            return _freshness(alert, relation, warehouse, settings, now, today, points, partitions)
        return _volume(alert, relation, warehouse, settings, now, today, points, partitions)
    except (ToolInputError, DetectionInputError, UnparsableSeriesSql) as exc:
        raise AlertEvaluationError(f"monitor {alert.name!r}: {exc}") from None
    except BlueprintError as exc:
        raise AlertEvaluationError(f"monitor {alert.name!r}: {exc.message}") from None


def _volume(
    alert: AlertDefinition,
    relation: str,
    warehouse: Warehouse,
    settings: Settings,
    now: datetime,
    today: datetime,
    points: PointStore,
    partitions: Partitions,
) -> AlertEvaluation:
    stored = points.points(alert.name)
    column = str(alert.time_column)
    conditions = [*alert.filters, f"{column} < DATE '{today:%Y-%m-%d}'"]
    last = max(stored) if stored else None
    if last is not None:
        conditions.append(f"{column} >= DATE '{last + _DAY:%Y-%m-%d}'")
    # On BigQuery, only the partitions of the days not yet counted (the first run: the last `history` days).
    conditions += partitions(last + _DAY if last is not None else today - alert.history * _DAY)
    dialect = warehouse.dialect.sqlglot_name
    checked = series_sql(
        relation,
        column,
        "count(*)",
        conditions,
        grain="day",
        periods=alert.history,
        dialect=dialect,
        allowed_functions=settings.allowed_functions,
    )
    query = SeriesQuery(checked.sql, dialect)
    fetched = fetch_series(
        query, warehouse, timeout_seconds=settings.query_timeout_seconds, max_rows=settings.max_result_rows
    )
    counted = dict(zip(fetched.timestamps, fetched.values, strict=True))
    # A day without rows is a day with zero rows, from the first day known up to yesterday.
    start = last + _DAY if last is not None else min(counted, default=today)
    day = start
    while day < today:
        counted.setdefault(day, 0.0)
        day += _DAY
    points.add(alert.name, counted)
    every = {**stored, **counted}
    timestamps = sorted(every)[-alert.history :]
    series = Series(timestamps, [every[moment] for moment in timestamps], truncated=False)
    detection = detect(
        series.timestamps,
        series.values,
        grain="day",
        sensitivity=alert.sensitivity,
        min_history=alert.min_history,
    )
    findings = detection.latest_findings(last_n=alert.check_last)
    return AlertEvaluation(alert, query, series, detection, findings, now, counted=len(counted))


def _freshness(
    alert: AlertDefinition,
    relation: str,
    warehouse: Warehouse,
    settings: Settings,
    now: datetime,
    today: datetime,
    points: PointStore,
    partitions: Partitions,
) -> AlertEvaluation:
    dialect = warehouse.dialect.sqlglot_name
    assert alert.warn_after is not None  # The definition requires it for a freshness monitor.
    # On BigQuery, only the recent partitions: a newest row older than them is stale whatever its age.
    since = today - max(_FRESHNESS_LOOKBACK, 2 * alert.warn_after)
    where = " AND ".join(partitions(since))
    # MAX skips NULLs on every backend (ORDER BY ... DESC puts them first on PostgreSQL).
    sql = check_read_only(
        f"SELECT MAX({alert.time_column}), 1 FROM {relation}" + (f" WHERE {where}" if where else ""),
        dialect,
        settings.allowed_functions,
    ).sql
    query = SeriesQuery(sql, dialect)
    result = warehouse.execute_readonly(sql, max_rows=1, timeout_seconds=settings.query_timeout_seconds)
    newest = series_from_result(result, alert.zone).timestamps
    local_now = now.astimezone(alert.zone).replace(tzinfo=None)
    if newest:
        age = (local_now - newest[0]).total_seconds() / 3600
    else:  # No row at all, or none in the partitions read: at least as old as what was read.
        age = (local_now - since).total_seconds() / 3600 if where else float("inf")
    checked = points.points(alert.name)
    if today not in checked:
        points.add(alert.name, {today: max(age, 0.0)})
        checked[today] = max(age, 0.0)
    limit = alert.warn_after.total_seconds() / 3600
    timestamps = sorted(checked)[-alert.history :]
    values = [checked[moment] for moment in timestamps]
    findings = [
        Finding(moment, value, limit, 0.0, limit, "above", (value - limit) / limit, value / limit)
        for moment, value in zip(timestamps, values, strict=True)
        if value > limit
    ]
    detection = Detection(
        timestamps=timestamps,
        values=values,
        expected=[limit] * len(values),
        low=[0.0] * len(values),
        high=[limit] * len(values),
        findings=findings,
        grain="day",
        period_name="day",
        scores=[value / limit for value in values],
    )
    series = Series(timestamps, values, truncated=False)
    latest = [finding for finding in findings if finding.at == timestamps[-1]]
    return AlertEvaluation(alert, query, series, detection, latest, now, counted=1)
