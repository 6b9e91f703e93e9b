"""PostgreSQL (and Redshift targets): read-only transactions with a statement timeout, exact distinct counts."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
from sqlglot import exp

from tools.warehouse.dialects.base import SqlAlchemyDialect, json_pairs_of, schema_condition
from tools.warehouse.postgres_privileges import postgres_privileges
from tools.warehouse.privileges import ModelledTable, PrivilegeReport
from tools.warehouse.result_budget import ResultLimits

if TYPE_CHECKING:
    from tools.warehouse.base import Warehouse

# Result column types that can be long: cut by the server, so a huge value never crosses the wire.
_TEXT_TYPES = frozenset({"text", "varchar", "bpchar", "name", "json", "jsonb", "xml"})


class PostgresDialect(SqlAlchemyDialect):
    """PostgreSQL through psycopg 3."""

    name = "postgres"
    sqlglot_name = "postgres"
    url_schemes = ("postgresql", "postgres")
    url_example = "postgresql+psycopg://user@host:5432/db"
    dbt_adapter_types = ("postgres", "redshift")

    def driver_url(self, url: sa.URL) -> sa.URL:
        if url.drivername in {"postgres", "postgresql"}:
            return url.set(drivername="postgresql+psycopg")
        return url

    def url_from_dbt_target(self, target: Mapping[str, Any], project_dir: Path) -> sa.URL:
        query = {"options": f"-csearch_path={target['schema']}"} if target.get("schema") else {}
        return sa.URL.create(
            "postgresql+psycopg",
            username=target.get("user"),
            password=target.get("password") or target.get("pass"),
            host=target.get("host"),
            port=int(target["port"]) if target.get("port") else None,
            database=target.get("dbname") or target.get("database"),
            query=query,
        )

    def connect_args(self, limits: ResultLimits) -> dict[str, Any]:
        return {"connect_timeout": 10}

    def read_only_statement(self) -> str | None:
        return "SET TRANSACTION READ ONLY"

    def timeout_statement(self, timeout_seconds: float) -> str | None:
        return f"SET LOCAL statement_timeout = {int(timeout_seconds * 1000)}"

    def column_type_name(self, dbapi_connection: Any, type_code: Any) -> str:
        if not isinstance(type_code, int):
            return str(type_code)
        # psycopg describes columns by type oid; its adapters map the oid to the type's name.
        adapters = getattr(dbapi_connection, "adapters", None)
        info = adapters.types.get(type_code) if adapters is not None else None
        if info is None:
            return str(type_code)
        # The registry finds an array type under its element's info: say it is an array.
        return f"{info.name}[]" if type_code == info.array_oid and type_code != info.oid else str(info.name)

    def cut_text(self, column: exp.Expr, type_name: str, max_chars: int) -> exp.Expr | None:
        if type_name == "bytea":  # Shown as hex: two characters a byte.
            return exp.Substring(
                this=column, start=exp.Literal.number(1), length=exp.Literal.number(max_chars // 2 + 1)
            )
        if type_name in _TEXT_TYPES or type_name.endswith("[]"):  # Arrays as PostgreSQL writes them: {a,b}
            text = exp.Cast(this=column, to=exp.DataType.build("text"))
            return exp.Substring(this=text, start=exp.Literal.number(1), length=exp.Literal.number(max_chars))
        return None

    def prepare_connection(self, dbapi_connection: Any, connection_record: Any) -> None:
        # psycopg is loaded here, with the first connection: every start lists this dialect, few use it.
        from tools.warehouse.postgres_values import register_text_fallbacks

        register_text_fallbacks(dbapi_connection)

    def check_privileges(self, warehouse: Warehouse, tables: Sequence[ModelledTable]) -> PrivilegeReport:
        return postgres_privileges(warehouse, tables)

    def sample(self, percent: exp.Expr, seed: exp.Expr) -> exp.TableSample:
        return exp.TableSample(method=exp.var("SYSTEM"), percent=percent, seed=seed)

    def distinct_count(self, value: exp.Expr) -> exp.Expr:
        # PostgreSQL has no approximate distinct count; the exact one is what it offers.
        return exp.Count(this=exp.Distinct(expressions=[value]))

    def top_values(self, value: exp.Expr, most_frequent: exp.Select, limit: int) -> exp.Expr:
        return json_pairs_of(most_frequent, "json_agg", "json_build_array")

    def schema_columns_sql(self, database: str | None, schema: str) -> str:
        # reltuples is what ANALYZE last counted (-1 or 0 when never analysed); views have none.
        return (
            "SELECT c.table_name, c.column_name, c.data_type, "
            "CAST(NULLIF(GREATEST(k.reltuples, 0), 0) AS BIGINT) AS estimated_rows "
            "FROM information_schema.columns AS c "
            "LEFT JOIN pg_catalog.pg_namespace AS n ON n.nspname = c.table_schema "
            "LEFT JOIN pg_catalog.pg_class AS k ON k.relnamespace = n.oid AND k.relname = c.table_name "
            f"WHERE {schema_condition(schema, database, self.sqlglot_name)} "
            "ORDER BY c.table_name, c.ordinal_position"
        )


POSTGRES = PostgresDialect()
