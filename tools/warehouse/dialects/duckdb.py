"""DuckDB: a local file opened read-only and sandboxed, stopped by interrupt(), sampled row by row."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import sqlalchemy as sa
import sqlglot
from sqlglot import exp

from tools.errors import WarehouseError
from tools.results import Column
from tools.warehouse.built_size import cap_built_values
from tools.warehouse.dialects.base import SqlAlchemyDialect, json_pairs_of, schema_condition
from tools.warehouse.result_budget import ResultLimits


class DuckDbDialect(SqlAlchemyDialect):
    """DuckDB through duckdb-engine."""

    name = "duckdb"
    sqlglot_name = "duckdb"
    url_schemes = ("duckdb",)
    url_example = "duckdb:////path/to/file.duckdb"
    dbt_adapter_types = ("duckdb",)

    def url_from_dbt_target(self, target: Mapping[str, Any], project_dir: Path) -> sa.URL:
        raw_path = str(target.get("path") or "")
        if not raw_path or raw_path == ":memory:":
            raise WarehouseError(f"The duckdb target in {target['_source']} has no database file to query.")
        path = Path(raw_path).expanduser()
        path = path if path.is_absolute() else project_dir / path
        return sa.URL.create("duckdb", database=str(path))

    def connect_args(self, limits: ResultLimits) -> dict[str, Any]:
        # Read-only at the engine: even SQL that slipped past the guard cannot write; and no file, HTTP or
        # extension access, so it cannot read outside the warehouse either. DuckDB runs in our process: its
        # buffers (sorts, hash tables, aggregate states, recursive CTEs) stop at the memory limit, and with no
        # temporary directory nothing spills to disk, so a query that needs more fails rather than writing.
        config = {
            "enable_external_access": False,
            "memory_limit": f"{max(limits.max_engine_memory // 2**20, 1)}MiB",
            "temp_directory": "",
        }
        return {"read_only": True, "config": config}

    def bounded_for_engine(self, statement: str) -> str:
        # What expressions build is outside the memory limit: bounded in the SQL instead (built_size.py).
        return cap_built_values(statement, self.sqlglot_name)

    describes_without_running = True

    def result_columns(self, cursor: Any, dbapi_connection: Any, statement: str) -> list[Column]:
        # DESCRIBE binds without running: DuckDB folds constants even under LIMIT 0, so a `repeat('x', 2e8)`
        # would be computed (and its memory taken) once more just to learn its type.
        query = sqlglot.parse_one(statement, read=self.sqlglot_name)
        cursor.execute(exp.Describe(this=query).sql(dialect=self.sqlglot_name))
        return [Column(name=str(row[0]), type=str(row[1])) for row in cursor.fetchall()]

    def cut_text(self, column: exp.Expr, type_name: str, max_chars: int) -> exp.Expr | None:
        if type_name in {"VARCHAR", "JSON"}:
            text = exp.Cast(this=column, to=exp.DataType.build("text"))
            return exp.Substring(this=text, start=exp.Literal.number(1), length=exp.Literal.number(max_chars))
        return None

    def sample(self, percent: exp.Expr, seed: exp.Expr) -> exp.TableSample:
        # DuckDB's SYSTEM samples whole vectors of 2048 rows; row-level sampling is what a local file needs.
        return exp.TableSample(method=exp.var("BERNOULLI"), percent=percent, seed=seed)

    def top_values(self, value: exp.Expr, most_frequent: exp.Select, limit: int) -> exp.Expr:
        return json_pairs_of(most_frequent, "json_group_array", "json_array")

    def schema_columns_sql(self, database: str | None, schema: str) -> str:
        return (
            "SELECT c.table_name, c.column_name, c.data_type, t.estimated_size AS estimated_rows "
            "FROM information_schema.columns AS c "
            "LEFT JOIN duckdb_tables() AS t ON t.database_name = c.table_catalog "
            "AND t.schema_name = c.table_schema AND t.table_name = c.table_name "
            f"WHERE {schema_condition(schema, database, self.sqlglot_name)} "
            "ORDER BY c.table_name, c.ordinal_position"
        )


DUCKDB = DuckDbDialect()
