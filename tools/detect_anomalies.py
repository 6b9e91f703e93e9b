"""detect_anomalies: which points of a metric's series fall outside their seasonal expected range, with a chart."""

from __future__ import annotations

import math
import re
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any, Literal

from pydantic import BaseModel, Field, model_validator

from tools.anomalies import DEFAULT_SENSITIVITY, Detection, DetectionInputError, detect
from tools.anomalies.formatting import format_moment, format_number
from tools.anomalies.metric_query import metric_series_sql
from tools.anomalies.result_series import MetricSeries, series_from_table
from tools.direct_command import DirectCommand, options
from tools.errors import ToolInputError
from tools.registry import Tool, ToolContext, ToolOutput
from tools.semantic_layer.loading import optional_semantic_layer
from tools.user_messages import NO_SERIES_TO_CHECK

# Two years of days, eight weeks of hours: enough cycles to learn from, few enough rows to send back.
DEFAULT_PERIODS = {"day": 730, "hour": 8 * 7 * 24}
_LINES_SHOWN = 15


class DetectAnomaliesInput(BaseModel):
    """Check a metric's time series for anomalies."""

    result_id: str | None = Field(
        None,
        description="A run_query result with one time column and one numeric column (one row per period).",
    )
    metric: str | None = Field(
        None,
        description="A dbt metric name (see search_models); it is aggregated by `grain` in the warehouse.",
    )
    time_column: str | None = Field(
        None, description="For result_id: the time column (default: the first one)."
    )
    value_column: str | None = Field(
        None, description="For result_id: the numeric column to check (default: the first numeric one)."
    )
    grain: Literal["day", "hour"] | None = Field(
        None,
        description="Period of the series; for a metric the default is day, for a result it is inferred.",
    )
    periods: int | None = Field(
        None,
        ge=15,
        le=20_000,
        description="For a metric: how many latest periods to check (default 730 days).",
    )
    sensitivity: float = Field(
        DEFAULT_SENSITIVITY,
        ge=1.0,
        le=10.0,
        description="Robust standard deviations from the expected value that make an anomaly: lower finds "
        "smaller changes but raises more false alarms (3 flags about 1 normal day in 280, 4 about 1 in 8,800).",
    )

    @model_validator(mode="after")
    def _one_source(self) -> DetectAnomaliesInput:
        if (self.result_id is None) == (self.metric is None):
            raise ValueError(
                "give exactly one of result_id (a run_query result) or metric (a dbt metric name)"
            )
        return self


def detect_anomalies(context: ToolContext, arguments: DetectAnomaliesInput) -> ToolOutput:
    series, sql, result_id = _series(context, arguments)
    try:
        detection = detect(
            series.timestamps, series.values, grain=arguments.grain, sensitivity=arguments.sensitivity
        )
    except DetectionInputError as exc:
        raise ToolInputError(f"Cannot check {series.label}: {exc}", sql=sql) from None
    grain = detection.period_name
    title = f"{series.label} by {grain}: expected range and anomalies"
    # matplotlib (about 35 MB) loads with the first chart, not with every process that might draw one.
    from tools.charts.anomaly_chart import render_anomaly_chart

    png = render_anomaly_chart(detection, title=title, metric=series.label)
    slug = re.sub(r"[^a-z0-9]+", "-", series.label.lower()).strip("-")[:50] or "metric"
    artifact = context.artifacts.save(
        session_id=context.session_id,
        kind="chart",
        title=title,
        filename=f"anomalies-{slug}.png",
        mime_type="image/png",
        data=png,
    )
    report = _report(detection, series.label, grain, arguments.sensitivity)
    if series.truncated:
        report += (
            f"\nThe series stopped at the row cap ({context.limits.max_result_rows:,} rows), so the newest "
            "periods may be missing: aggregate to fewer rows."
        )
    shared = context.limits.send_result_rows_to_model
    source = f" The series is kept as result {result_id}." if result_id else ""
    content = (
        (report if shared else _count_only(detection, series.label))
        + f"\nChart {artifact.artifact_id} shows the series, its expected range shaded and anomalies in red; the "
        "user sees it, so refer to it rather than describing it." + source
    )
    return ToolOutput(content=content, summary=report, artifact=artifact, sql=sql, rows=len(series.values))


def _series(
    context: ToolContext, arguments: DetectAnomaliesInput
) -> tuple[MetricSeries, str | None, str | None]:
    """The series to check, the SQL that produced it (for a metric) and the result id it is kept under."""
    if arguments.result_id is not None:
        table = context.result(arguments.result_id)
        if table is None:
            raise ToolInputError(
                f"No result {arguments.result_id!r}: run run_query first and pass the result_id it returns."
            )
        return (
            series_from_table(table, arguments.time_column, arguments.value_column),
            table.sql,
            table.result_id,
        )
    assert arguments.metric is not None  # The input model guarantees one source.
    index = context.dbt
    metric = index.find_metric(arguments.metric)
    if metric is None:
        known = ", ".join(sorted(m.name for m in index.metrics())) or "none"
        raise ToolInputError(f"No dbt metric {arguments.metric!r}. The project's metrics: {known}.")
    grain = arguments.grain or "day"
    warehouse = context.warehouse
    checked = metric_series_sql(
        metric,
        index,
        grain=grain,
        periods=arguments.periods or DEFAULT_PERIODS[grain],
        dialect=warehouse.dialect.sqlglot_name,
        semantic_layer=optional_semantic_layer(context.project_dir, warehouse.dialect.name),
        allowed_functions=context.limits.allowed_functions,
    )
    try:
        result = warehouse.execute_readonly(
            checked.sql,
            max_rows=context.limits.max_result_rows,
            timeout_seconds=context.limits.query_timeout_seconds,
            session_id=context.session_id,
        )
    except ToolInputError as exc:
        raise ToolInputError(exc.message, sql=checked.sql) from None
    table = context.results.put(result, sql=checked.sql, session_id=context.session_id)
    series = series_from_table(table, "period", "value")
    series = _without_current_period(replace(series, label=metric.name), grain)
    return series, checked.sql, table.result_id


def _without_current_period(series: MetricSeries, grain: str) -> MetricSeries:
    """Drop today (or this hour) if the warehouse already has it: a period still filling up looks like a drop."""
    now = datetime.now(UTC).replace(tzinfo=None)
    current = now.replace(hour=0 if grain == "day" else now.hour, minute=0, second=0, microsecond=0)
    keep = [number for number, moment in enumerate(series.timestamps) if moment < current]
    return replace(
        series, timestamps=[series.timestamps[n] for n in keep], values=[series.values[n] for n in keep]
    )


def _report(detection: Detection, label: str, grain: str, sensitivity: float) -> str:
    """The verdict for people: what was checked, then one line per anomaly (or change in behaviour), newest last."""
    findings = sorted([*detection.findings, *detection.changes_in_behaviour], key=lambda finding: finding.at)
    judged = detection.judged_points
    span = f"{format_moment(detection.timestamps[0])} to {format_moment(detection.timestamps[-1])}"
    head = f"Checked {judged} of {len(detection.timestamps)} {grain}s of {label} ({span}, sensitivity {sensitivity:g})"
    if judged == 0:
        return f"{head}: not enough history to judge any point yet; widen the time range."
    if not findings:
        return f"{head}: no anomalies, every point is within its expected range.\n{_latest(detection, label)}"
    lines = [f"{head}: {len(findings)} anomal{'y' if len(findings) == 1 else 'ies'}."]
    shown = findings[-_LINES_SHOWN:]
    if len(findings) > len(shown):
        lines.append(f"(the {len(findings) - len(shown)} older ones are on the chart)")
    lines += [f"- {finding.explain(label)}" for finding in shown]
    lines.append(_latest(detection, label))
    return "\n".join(lines)


def _latest(detection: Detection, label: str) -> str:
    """How the newest point compares with its range: what "is today unusual?" asks."""
    at, value = detection.timestamps[-1], detection.values[-1]
    low, high = detection.low[-1], detection.high[-1]
    if math.isnan(low):
        return f"Latest: {label} on {format_moment(at)}: {format_number(value)}, too little history to judge."
    verdict = "an anomaly" if detection.latest_findings() else "within range"
    return (
        f"Latest: {label} on {format_moment(at)}: {format_number(value)}, expected "
        f"{format_number(low)}–{format_number(high)} ({verdict})."
    )


def _count_only(detection: Detection, label: str) -> str:
    """Without sharing warehouse values with the model: how many anomalies, and where they are shown."""
    return (
        f"Checked {detection.judged_points} points of {label}: {len(detection.findings)} anomalies. The values are "
        "not shared with you (a setting); the user sees the list and the chart."
    )


_COMMAND_ALIASES = {"time": "time_column", "value": "value_column"}


def _command_input(context: ToolContext, argument: str) -> dict[str, Any]:
    """`metric=revenue [grain=day] [sensitivity=4]`, a bare metric name, or the session's latest result."""
    bare, named = options(argument)
    checked: dict[str, Any] = {_COMMAND_ALIASES.get(key, key): value for key, value in named.items()}
    if bare:
        checked.setdefault("metric", bare[0])
    if "metric" not in checked:
        latest = context.results.latest(context.session_id)
        if latest is None:
            raise ToolInputError(NO_SERIES_TO_CHECK)
        checked["result_id"] = latest.result_id
    return checked


TOOL = Tool(
    name="detect_anomalies",
    description=(
        "Find anomalies in a metric over time: points outside the range expected from the same weekday or hour "
        "in past weeks and the trend. Give a run_query result_id (one time column, one numeric column, one row "
        "per day or hour) or a dbt metric name. Returns one line per anomaly and shows a chart."
    ),
    input_model=DetectAnomaliesInput,
    run=detect_anomalies,
    status=lambda arguments: f"is checking {arguments.metric or 'the series'} for anomalies…",
    command=DirectCommand(
        "anomalies",
        "/anomalies [metric] [grain=day|hour] [sensitivity=4]",
        "anomalies in a dbt metric, or in the latest result (time, value)",
        _command_input,
    ),
)
