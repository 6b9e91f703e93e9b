"""Evaluating an alert: aggregate its series in the warehouse, run the detector, judge the latest points."""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from agent.alerts.definitions import AlertDefinition
from agent.alerts.series import Series, SeriesQuery, complete_periods, fetch_series, series_query
from agent.settings import Settings
from tools.anomalies import Detection, DetectionInputError, Finding, detect
from tools.anomalies.detector import format_moment, format_number
from tools.dbt.index import DbtIndex
from tools.errors import BlueprintError, ToolInputError
from tools.warehouse.base import Warehouse

if TYPE_CHECKING:
    from tools.semantic_layer.engine import SemanticLayer


class AlertEvaluationError(BlueprintError):
    """The alert could not be evaluated: its query failed, the warehouse is down, or there is too little data."""


@dataclass(frozen=True)
class AlertEvaluation:
    """One check of an alert: the query that ran, the detector's verdict, and the anomalies among the latest."""

    alert: AlertDefinition
    query: SeriesQuery
    series: Series
    detection: Detection
    findings: list[Finding]
    evaluated_at: datetime
    counted: int | None = None  # for a monitor: the periods this check counted in the warehouse

    @property
    def metric(self) -> str:
        return self.alert.display_metric()

    @property
    def finding(self) -> Finding | None:
        """The newest anomalous point among the latest (what the alert reports)."""
        return max(self.findings, key=lambda finding: finding.at) if self.findings else None

    def latest_summary(self) -> str:
        """The newest point against its expected range, in one line, whether anomalous or not."""
        if self.finding is not None:
            return self.finding.explain(self.metric)
        detection = self.detection
        at, value = detection.timestamps[-1], detection.values[-1]
        low, high = detection.low[-1], detection.high[-1]
        expected = (
            f"expected {format_number(low)}–{format_number(high)}"
            if not math.isnan(low)
            else "not enough history to judge"
        )
        return f"{self.metric} on {format_moment(at)}: {format_number(value)}, {expected}"


def evaluate_alert(
    alert: AlertDefinition,
    *,
    index: DbtIndex,
    warehouse: Warehouse,
    settings: Settings,
    now: datetime,
    semantic_layer: SemanticLayer | None = None,
) -> AlertEvaluation:
    """Query, detect, judge; any failure is an AlertEvaluationError whose message names the alert."""
    try:
        query = series_query(
            alert, index, warehouse.dialect.sqlglot_name, semantic_layer, settings.allowed_functions
        )
        series = fetch_series(
            query,
            warehouse,
            timeout_seconds=settings.query_timeout_seconds,
            max_rows=settings.max_result_rows,
            zone=alert.zone,
        )
        series = complete_periods(series, alert.grain, now, alert.zone)
        detection = detect(
            series.timestamps,
            series.values,
            grain=alert.grain,
            sensitivity=alert.sensitivity,
            min_history=alert.min_history,
        )
    except (ToolInputError, DetectionInputError) as exc:
        raise AlertEvaluationError(f"alert {alert.name!r}: {exc}") from None
    except BlueprintError as exc:  # The warehouse is down or misconfigured.
        raise AlertEvaluationError(f"alert {alert.name!r}: {exc.message}") from None
    findings = detection.latest_findings(last_n=alert.check_last)
    return AlertEvaluation(alert, query, series, detection, findings, now)
