"""Reading the alerts file: each alert validated on its own, so one bad alert never stops the others.

Every problem names the alert and the field to fix; checks against the dbt project (does the model exist, does
it have that column, is the metric simple enough to chart) come after the file's own rules.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import sqlglot
from pydantic import ValidationError
from sqlglot import exp
from sqlglot.errors import SqlglotError

from agent.alerts.definitions import CHECK_SCHEDULE, AlertDefinition, ScheduleCheck
from agent.alerts.monitors import monitor_entries
from agent.alerts.routing import routed
from agent.alerts.series import series_query
from agent.settings import Settings
from tools.anomalies.metric_query import unwatchable_reason
from tools.dbt.index import DbtIndex
from tools.errors import BlueprintError, ToolInputError
from tools.semantic_layer.loading import compiles_metrics
from tools.sql_guard import check_read_only
from tools.yaml_text import YamlTextError, load_yaml

DEFAULT_FILE_NAME = "blueprintdata_alerts.yml"
FILE_LEVEL = "(file)"

# What to tell people about a missing field, beyond "required".
_FIELD_HINTS = {
    "name": "give the alert a name, e.g. name: daily_orders",
    "schedule": "when to run, as cron, e.g. schedule: '0 8 * * *' (every day at 08:00)",
    "channel": "the Slack channel to post in, e.g. channel: '#data-alerts' or a channel id C0123ABCD",
}


@dataclass(frozen=True)
class AlertProblem:
    """Why one alert (or the whole file) could not be loaded, naming the field to fix."""

    alert: str
    field: str | None
    message: str

    def __str__(self) -> str:
        where = "alerts file" if self.alert == FILE_LEVEL else f"alert {self.alert!r}"
        return f"{where}: {self.field}: {self.message}" if self.field else f"{where}: {self.message}"


@dataclass(frozen=True)
class LoadedAlerts:
    """The alerts that loaded, and the problems of those that did not."""

    path: Path | None
    alerts: list[AlertDefinition] = field(default_factory=list)
    problems: list[AlertProblem] = field(default_factory=list)

    def find(self, name: str) -> AlertDefinition | None:
        lowered = name.strip().lower()
        return next((alert for alert in self.alerts if alert.name.lower() == lowered), None)


def alerts_file(settings: Settings, project_dir: Path) -> Path | None:
    """BLUEPRINTDATA_ALERTS_FILE, else blueprintdata_alerts.yml in the dbt project when it exists."""
    if settings.alerts_file is not None:
        return settings.alerts_file.expanduser()
    candidate = project_dir / DEFAULT_FILE_NAME
    return candidate if candidate.is_file() else None


def load_alerts(
    path: Path | None,
    *,
    check_schedule: ScheduleCheck | None = None,
    index: DbtIndex | None = None,
    project_dir: Path | None = None,
    allowed_functions: frozenset[str] = frozenset(),
) -> LoadedAlerts:
    """Every alert in `path` that is valid (and fits the project, when `index` is given), and the problems.

    With the project, each alert's channel and owners come from dbt too (agent.alerts.routing). Its SQL is
    guarded as at run time, with the functions the user allowed (BLUEPRINTDATA_ALLOWED_FUNCTIONS)."""
    if path is None:
        return LoadedAlerts(None)

    try:
        document = load_yaml(path.read_text(encoding="utf-8"))
    except OSError as exc:
        return LoadedAlerts(path, problems=[_file_problem(path, f"cannot be read ({exc.strerror})")])
    except UnicodeDecodeError as exc:
        return LoadedAlerts(path, problems=[_file_problem(path, f"is not UTF-8 text (byte {exc.start})")])
    except YamlTextError as exc:
        return LoadedAlerts(path, problems=[_file_problem(path, f"is {exc}")])
    entries, defaults, problem = _entries(document)
    if problem:
        return LoadedAlerts(path, problems=[_file_problem(path, problem)])
    loaded = LoadedAlerts(path)
    monitors = (document.get("monitors") if isinstance(document, dict) else None) or []
    if monitors or index is not None:  # Models can opt in through their meta, without a monitors section.
        made, monitor_problems = _monitors(monitors, defaults, index)
        entries = entries + made
        loaded.problems.extend(AlertProblem(FILE_LEVEL, "monitors", text) for text in monitor_problems)
    seen: set[str] = set()
    for position, raw in enumerate(entries, start=1):
        label = _label(raw, position)
        if not isinstance(raw, dict):
            loaded.problems.append(AlertProblem(label, None, "must be a mapping of fields (name: ..., ...)"))
            continue
        problems, alert = _validate(
            routed(raw, defaults, index, project_dir),
            label,
            check_schedule,
            index,
            project_dir,
            allowed_functions,
        )
        if alert is not None and alert.name.lower() in seen:
            problems = [AlertProblem(label, "name", "another alert already has this name")]
        if problems or alert is None:
            loaded.problems.extend(problems)
            continue
        seen.add(alert.name.lower())
        loaded.alerts.append(alert)
    return loaded


def _entries(document: Any) -> tuple[list[Any], dict[str, Any], str | None]:
    """The alert entries and the shared defaults; or why the file's shape is wrong."""
    if document is None:
        return [], {}, None
    if isinstance(document, list):
        return document, {}, None
    if not isinstance(document, dict) or not isinstance(document.get("alerts") or [], list):
        return [], {}, "must hold `alerts:`, a list of alerts (and optionally `defaults:`)"
    defaults = document.get("defaults") or {}
    if not isinstance(defaults, dict):
        return [], {}, "`defaults:` must be a mapping of fields shared by every alert"
    unknown = sorted(set(document) - {"alerts", "defaults", "monitors"})
    if unknown:
        return (
            [],
            {},
            f"unknown top-level key(s) {', '.join(unknown)}; expected alerts, monitors and defaults",
        )
    if not isinstance(document.get("monitors") or [], list):
        return [], {}, "`monitors:` must be a list, e.g. monitors: [{select: 'tag:mart'}]"
    return list(document.get("alerts") or []), defaults, None


def _monitors(
    monitors: list[Any], defaults: dict[str, Any], index: DbtIndex | None
) -> tuple[list[Any], list[str]]:
    if index is None:
        return [], ["monitors need the dbt project to select models from"]
    return monitor_entries(monitors, defaults, index)


def _validate(
    raw: dict[str, Any],
    label: str,
    check_schedule: ScheduleCheck | None,
    index: DbtIndex | None,
    project_dir: Path | None,
    allowed_functions: frozenset[str],
) -> tuple[list[AlertProblem], AlertDefinition | None]:
    try:
        alert = AlertDefinition.model_validate(raw, context={CHECK_SCHEDULE: check_schedule})
    except ValidationError as exc:
        return [_pydantic_problem(label, error) for error in exc.errors()], None
    except (TypeError, ValueError, ArithmeticError) as exc:  # A check that met a shape it did not expect.
        return [AlertProblem(label, None, f"cannot be read: {exc}")], None
    problems = project_problems(alert, index, project_dir, allowed_functions) if index is not None else []
    return problems, alert


def _pydantic_problem(label: str, error: Any) -> AlertProblem:
    location = [str(part) for part in error.get("loc", ())]
    field_name = ".".join(location) or None
    message = str(error.get("msg", "is not valid"))
    message = message.removeprefix("Value error, ")
    if error.get("type") == "missing":
        message = "missing: " + _FIELD_HINTS.get(field_name or "", "this field is required")
    elif error.get("type") == "extra_forbidden":
        message = "unknown field (check the spelling; README lists the fields)"
    return AlertProblem(label, field_name, message)


def project_problems(
    alert: AlertDefinition,
    index: DbtIndex,
    project_dir: Path | None = None,
    allowed_functions: frozenset[str] = frozenset(),
) -> list[AlertProblem]:
    """What in the alert does not match the dbt project (unknown model, column or metric), or cannot run: its
    SQL, or the SQL its pieces make, parsed and guarded now rather than at its scheduled time.

    An alert on a dbt metric that MetricFlow compiles (the runner's path, tools/anomalies/metric_query.py) is
    judged by what MetricFlow takes; its SQL is compiled when it runs, so loading never imports MetricFlow.
    """
    compiled = bool(alert.metric) and not alert.filters and compiles_metrics(project_dir, _dialect(index))
    problems = _project_mismatches(alert, index, compiled)
    return problems or ([] if compiled else _query_problems(alert, index, allowed_functions))


def _dialect(index: DbtIndex) -> str:
    return index.adapter_type or "duckdb"


def _query_problems(
    alert: AlertDefinition, index: DbtIndex, allowed_functions: frozenset[str]
) -> list[AlertProblem]:
    dialect = _dialect(index)
    try:
        if alert.sql:
            check_read_only(alert.sql, dialect, allowed_functions)
        series_query(alert, index, dialect, allowed_functions=allowed_functions)
    except (ToolInputError, BlueprintError) as exc:
        return [AlertProblem(alert.name, _faulty_piece(alert, dialect), exc.message)]
    return []


def _faulty_piece(alert: AlertDefinition, dialect: str) -> str | None:
    """The field whose SQL does not parse on its own: the measure must be one expression, a filter a condition."""
    if alert.sql:
        return "sql"
    if alert.measure:
        try:
            measure = sqlglot.parse_one(alert.measure, read=dialect)
        except SqlglotError:
            return "measure"
        if isinstance(measure, exp.Block):  # "count(*); DROP TABLE t": two statements, not one expression
            return "measure"
    for position, condition in enumerate(alert.filters):
        try:
            sqlglot.condition(condition, dialect=dialect)
        except SqlglotError:
            return f"filters.{position}"
    return "metric" if alert.metric else None


def _project_mismatches(alert: AlertDefinition, index: DbtIndex, compiled: bool) -> list[AlertProblem]:
    if alert.model:
        node = index.find(alert.model)
        if node is None:
            return [AlertProblem(alert.name, "model", _unknown("model", alert.model, index))]
        if node.columns and alert.time_column and node.column(alert.time_column) is None:
            columns = ", ".join(column.name for column in node.columns[:12])
            return [
                AlertProblem(
                    alert.name,
                    "time_column",
                    f"{node.name} has no column {alert.time_column!r}; it has {columns}",
                )
            ]
    if alert.metric:
        metric = index.find_metric(alert.metric)
        if metric is None:
            names = ", ".join(m.name for m in index.metrics()) or "none"
            return [AlertProblem(alert.name, "metric", f"no dbt metric {alert.metric!r} (metrics: {names})")]
        # What detect_anomalies can check, an alert can watch (the same builder, MetricFlow where it compiles).
        if reason := unwatchable_reason(metric, index, compiled=compiled):
            return [AlertProblem(alert.name, "metric", reason)]
    return []


def _unknown(kind: str, name: str, index: DbtIndex) -> str:
    try:
        index.resolve(name)
    except (
        ToolInputError
    ) as exc:  # resolve() names the close matches; its hint for the model does not fit here.
        return exc.message.replace("Use search_models to find models.", "Check the name in your dbt project.")
    return f"no {kind} named {name!r}"


def _label(raw: Any, position: int) -> str:
    if isinstance(raw, dict) and isinstance(raw.get("name"), str) and raw["name"].strip():
        return str(raw["name"]).strip()
    return f"#{position}"


def _file_problem(path: Path, message: str) -> AlertProblem:
    return AlertProblem(FILE_LEVEL, None, f"{path} {message}")
