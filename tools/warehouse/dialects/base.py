"""What a warehouse dialect answers: how to connect, how to stay read-only and on time, and its SQL quirks."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

import sqlalchemy as sa
from sqlglot import exp

from tools.results import Column
from tools.warehouse.cell_cut import shape_sql
from tools.warehouse.privileges import ModelledTable, PrivilegeReport
from tools.warehouse.result_budget import ResultLimits
from tools.warehouse.sqlalchemy_warehouse import SqlAlchemyWarehouse

if TYPE_CHECKING:
    from tools.warehouse.base import Warehouse
    from tools.warehouse.config import WarehouseConfig


class WarehouseDialect(ABC):
    """One warehouse backend: the connector it builds and the SQL it needs written its own way."""

    # Our name for it, shown to the model and in messages.
    name: ClassVar[str]
    # The sqlglot dialect its SQL is parsed (by the guard) and written in.
    sqlglot_name: ClassVar[str]
    # SQLAlchemy backend names of BLUEPRINTDATA_WAREHOUSE_URL it serves; the first is the one shown in messages.
    url_schemes: ClassVar[tuple[str, ...]]
    url_example: ClassVar[str]
    # dbt adapter types (a profile target's `type`) it serves.
    dbt_adapter_types: ClassVar[tuple[str, ...]]
    # What the system prompt tells the model about this warehouse beyond its dialect's name.
    prompt_note: ClassVar[str | None] = None

    @abstractmethod
    def warehouse_from_url(self, url: sa.URL, config: WarehouseConfig) -> Warehouse:
        """The connector for BLUEPRINTDATA_WAREHOUSE_URL; connecting waits for the first query."""

    @abstractmethod
    def warehouse_from_dbt_target(
        self, target: Mapping[str, Any], project_dir: Path, config: WarehouseConfig
    ) -> Warehouse:
        """The connector for a dbt profile target of one of `dbt_adapter_types`."""

    @abstractmethod
    def sample(self, percent: exp.Expr, seed: exp.Expr) -> exp.TableSample:
        """A TABLESAMPLE of about `percent` of the rows, repeatable with `seed` where the warehouse allows."""

    def distinct_count(self, value: exp.Expr) -> exp.Expr:
        """How many distinct values a column holds; approximate where the warehouse has a cheap estimate."""
        return exp.ApproxDistinct(this=value)

    @abstractmethod
    def top_values(self, value: exp.Expr, most_frequent: exp.Select, limit: int) -> exp.Expr:
        """The most frequent non-null values with their counts, as a JSON text of [value, count] pairs.

        `most_frequent` selects `value` and `frequency` of the `limit` most frequent values, for warehouses that
        have no one-pass function for it.
        """

    @abstractmethod
    def schema_columns_sql(self, database: str | None, schema: str) -> str:
        """The query listing every column of one schema, with a row estimate where the catalog keeps one."""

    def check_privileges(self, warehouse: Warehouse, tables: Sequence[ModelledTable]) -> PrivilegeReport:
        """What the warehouse's credentials may do beyond reading the modelled `tables`, checked at start.

        Nothing by default: DuckDB files are opened read-only, so their connection can do nothing more.
        """
        return PrivilegeReport(warehouse=self.name)


def json_pairs_of(most_frequent: exp.Select, aggregate: str, pair: str) -> exp.Expr:
    """`CAST(aggregate(pair(value, frequency)) AS TEXT)` over the most frequent values, as a scalar subquery."""
    pairs = exp.Anonymous(this=pair, expressions=[exp.column("value"), exp.column("frequency")])
    text = exp.Cast(this=exp.Anonymous(this=aggregate, expressions=[pairs]), to=exp.DataType.build("text"))
    return exp.select(text).from_(most_frequent.subquery("top_values")).subquery()


def schema_condition(schema: str, database: str | None, dialect: str) -> str:
    """The condition on `information_schema.columns AS c` picking one schema (of one database, when named)."""
    condition = f"c.table_schema = {exp.Literal.string(schema).sql(dialect=dialect)}"
    if database:
        condition += f" AND c.table_catalog = {exp.Literal.string(database).sql(dialect=dialect)}"
    return condition


class SqlAlchemyDialect(WarehouseDialect):
    """A backend reached through SQLAlchemy and its DB-API driver, run by SqlAlchemyWarehouse."""

    def warehouse_from_url(self, url: sa.URL, config: WarehouseConfig) -> Warehouse:
        return SqlAlchemyWarehouse(
            self.driver_url(url),
            dialect=self,
            setting_name="BLUEPRINTDATA_WAREHOUSE_URL",
            result_limits=config.result_limits(),
        )

    def warehouse_from_dbt_target(
        self, target: Mapping[str, Any], project_dir: Path, config: WarehouseConfig
    ) -> Warehouse:
        url = self.url_from_dbt_target(target, project_dir)
        return SqlAlchemyWarehouse(
            url,
            dialect=self,
            setting_name=f"the dbt profile {target['_source']}",
            result_limits=config.result_limits(),
        )

    def driver_url(self, url: sa.URL) -> sa.URL:
        """The URL with the driver we install, where the user named only the database."""
        return url

    @abstractmethod
    def url_from_dbt_target(self, target: Mapping[str, Any], project_dir: Path) -> sa.URL:
        """A SQLAlchemy URL for a dbt profile target; raises WarehouseError naming what is missing."""

    def connect_args(self, limits: ResultLimits) -> dict[str, Any]:
        """Driver arguments of every connection: read-only, sandboxing and memory bounds where the driver offers them."""
        return {}

    def bounded_for_engine(self, statement: str) -> str:
        """`statement` as the engine should run it, with what it builds bounded; unchanged by default.

        An engine in our own process (DuckDB) needs bounds a server needs not: its memory is ours.
        """
        return statement

    def read_only_statement(self) -> str | None:
        """Run first in each transaction to make it read-only; None where the connection already is."""
        return None

    def timeout_statement(self, timeout_seconds: float) -> str | None:
        """Sets the transaction's statement timeout; None where the driver's interrupt() stops a query instead."""
        return None

    def column_type_name(self, dbapi_connection: Any, type_code: Any) -> str:
        """A result column's type name from the cursor description's type code."""
        return str(type_code)

    # Whether result_columns binds the statement without evaluating anything in it (not even constants).
    describes_without_running: ClassVar[bool] = False

    def result_columns(self, cursor: Any, dbapi_connection: Any, statement: str) -> list[Column]:
        """The names and types of the columns `statement` returns, from a run that returns no rows."""
        cursor.execute(shape_sql(statement, self.sqlglot_name))
        cursor.fetchall()
        return [
            Column(name=str(item[0]), type=self.column_type_name(dbapi_connection, item[1]))
            for item in cursor.description or []
        ]

    def cut_text(self, column: exp.Expr, type_name: str, max_chars: int) -> exp.Expr | None:
        """`column` cut to `max_chars` characters by the database, for a column of a long type; else None."""
        return None

    def prepare_connection(self, dbapi_connection: Any, connection_record: Any) -> None:
        """Set up each new warehouse connection, e.g. loaders for values Python cannot hold."""
