"""One MetricFlow engine over one semantic manifest and one dialect: compiles requests, lists what exists."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Sequence
from typing import TypeVar

from metricflow.engine.metricflow_engine import (
    MetricFlowEngine,
    MetricFlowQueryRequest,
    OutputColumnOrderMode,
)
from metricflow.engine.models import Dimension, Entity, Metric, SavedQuery
from metricflow_semantics.errors.error_classes import MetricFlowException
from metricflow_semantics.model.dbt_manifest_parser import parse_manifest_from_dbt_generated_manifest
from metricflow_semantics.model.semantic_manifest_lookup import SemanticManifestLookup

from tools.errors import DbtArtifactError, ToolInputError
from tools.semantic_layer.compile_client import CompileOnlySqlClient
from tools.semantic_layer.dialects import metricflow_dialect
from tools.semantic_layer.requests import CompiledMetricQuery, MetricRequest

# MetricFlow numbers the aliases of a query from a process-wide counter that each compile resets, so two
# compiles at once (Slack answers on a thread pool) would interleave their numbering.
_COMPILE_LOCK = threading.RLock()
# A MetricFlow message can run to a page of context; the model and people need its first lines.
_MESSAGE_LINES = 40
_T = TypeVar("_T")


class SemanticLayer:
    """The project's metrics, dimensions, entities and saved queries, and a compiler of metric queries."""

    def __init__(self, manifest_json: str, dialect: str) -> None:
        self.dialect = dialect
        client = CompileOnlySqlClient(metricflow_dialect(dialect))
        try:
            manifest = parse_manifest_from_dbt_generated_manifest(manifest_json)
            self._engine = MetricFlowEngine(SemanticManifestLookup(manifest), client)
        except (MetricFlowException, ValueError) as exc:
            raise DbtArtifactError(
                f"MetricFlow cannot read target/semantic_manifest.json: {_first_lines(exc)}. "
                "Run `dbt parse` to rebuild it."
            ) from None
        self._metrics: list[Metric] | None = None

    def compile(self, request: MetricRequest) -> CompiledMetricQuery:
        """The request as SQL in this layer's dialect; ToolInputError carries MetricFlow's reason if it cannot."""
        if not request.metrics and not request.saved_query:
            raise ToolInputError("Name at least one metric (see list_metrics) or a saved query.")
        started = time.perf_counter()
        mf_request = MetricFlowQueryRequest.create(
            saved_query_name=request.saved_query,
            metric_names=list(request.metrics) or None,
            group_by_names=list(request.group_by) or None,
            where_constraints=list(request.where) or None,
            order_by_names=list(request.order_by) or None,
            limit=request.limit,
            # Columns in the order asked for, as a person reads the request.
            output_column_order_mode=OutputColumnOrderMode.INPUT_ORDER,
        )
        try:
            with _COMPILE_LOCK:
                explained = self._engine.explain(mf_request)
                sql = explained.sql_statement.sql
        except (MetricFlowException, ValueError, KeyError, NotImplementedError) as exc:
            raise ToolInputError(f"MetricFlow cannot compile this query: {_first_lines(exc)}") from None
        metrics = tuple(spec.element_name for spec in explained.query_spec.metric_specs)
        elapsed = (time.perf_counter() - started) * 1000
        return CompiledMetricQuery(request, sql, self.dialect, metrics, elapsed)

    def metrics(self) -> list[Metric]:
        """Every metric, with the dimensions it can be grouped by; computed once."""
        if self._metrics is None:
            with _COMPILE_LOCK:
                self._metrics = self._engine.list_metrics()
        return list(self._metrics)

    def find_metric(self, name: str) -> Metric | None:
        lowered = name.strip().lower()
        return next((metric for metric in self.metrics() if metric.name == lowered), None)

    def dimensions(self, metric_names: Sequence[str]) -> list[Dimension]:
        """The dimensions every one of the metrics can be grouped by, their joins included."""
        with _COMPILE_LOCK:
            return self._call(lambda: self._engine.list_dimensions(self._known(metric_names)))

    def entities(self, metric_names: Sequence[str]) -> list[Entity]:
        """The entities (join keys) every one of the metrics can be grouped by."""
        with _COMPILE_LOCK:
            return self._call(lambda: self._engine.entities_for_metrics(self._known(metric_names)))

    def saved_queries(self) -> list[SavedQuery]:
        return self._engine.list_saved_queries()

    def time_dimension_names(self, metric_names: Sequence[str]) -> list[str]:
        """Dunder names of the time dimensions (without grain), for reading shorthand filters."""
        names = [d.dunder_name for d in self.dimensions(metric_names) if d.type.value == "time"]
        return [name.removesuffix("__day") if name.startswith("metric_time") else name for name in names]

    def _known(self, metric_names: Sequence[str]) -> list[str]:
        names = [name.strip().lower() for name in metric_names]
        known = {metric.name for metric in self.metrics()}
        unknown = [name for name in names if name not in known]
        if unknown:
            raise ToolInputError(
                f"No metric named {', '.join(unknown)}. The project's metrics: {', '.join(sorted(known))}."
            )
        return names

    @staticmethod
    def _call(produce: Callable[[], _T]) -> _T:
        try:
            return produce()
        except (MetricFlowException, ValueError, KeyError) as exc:
            raise ToolInputError(f"MetricFlow: {_first_lines(exc)}") from None


def _first_lines(exc: Exception) -> str:
    lines = [line.rstrip() for line in str(exc).strip().splitlines() if line.strip()]
    return "\n".join(lines[:_MESSAGE_LINES]) or type(exc).__name__
