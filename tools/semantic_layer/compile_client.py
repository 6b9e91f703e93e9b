"""The SqlClient MetricFlow's engine asks for: it renders SQL but never runs it.

MetricFlow's engine is built around a client that can also execute; we only ask it to explain (compile), and
every compiled statement runs through our own warehouse connection, guard and limits instead.
"""

from __future__ import annotations

from typing import NoReturn

from metricflow.data_table.mf_table import MetricFlowDataTable
from metricflow.protocols.sql_client import SqlEngine
from metricflow.sql.render.sql_plan_renderer import SqlPlanRenderer
from metricflow_semantics.sql.sql_bind_parameters import SqlBindParameterSet

from tools.semantic_layer.dialects import MetricFlowDialect

# An empty parameter set, immutable, shared as the protocol's default.
_NO_PARAMETERS = SqlBindParameterSet()
_NO_EXECUTION = "The semantic layer only compiles SQL; our warehouse connection runs it."


class CompileOnlySqlClient:
    """A MetricFlow SqlClient for one dialect that renders and refuses to execute."""

    def __init__(self, dialect: MetricFlowDialect) -> None:
        self._engine = dialect.engine
        self._renderer = dialect.renderer()

    @property
    def sql_engine_type(self) -> SqlEngine:
        return self._engine

    @property
    def sql_plan_renderer(self) -> SqlPlanRenderer:
        return self._renderer

    def query(
        self, stmt: str, sql_bind_parameter_set: SqlBindParameterSet = _NO_PARAMETERS
    ) -> MetricFlowDataTable:
        raise NotImplementedError(_NO_EXECUTION)

    def execute(self, stmt: str, sql_bind_parameter_set: SqlBindParameterSet = _NO_PARAMETERS) -> None:
        self._refuse()

    def dry_run(self, stmt: str, sql_bind_parameter_set: SqlBindParameterSet = _NO_PARAMETERS) -> None:
        self._refuse()

    def close(self) -> None:
        """Nothing to close: no connection is held."""

    def render_bind_parameter_key(self, bind_parameter_key: str) -> str:
        return f"%({bind_parameter_key})s"

    @staticmethod
    def _refuse() -> NoReturn:
        raise NotImplementedError(_NO_EXECUTION)
