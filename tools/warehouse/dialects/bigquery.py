"""BigQuery: its own client (tools/warehouse/bigquery_*.py), block sampling, one-pass top values, backticks."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
from sqlglot import exp

from tools.warehouse.dialects.base import WarehouseDialect
from tools.warehouse.privileges import ModelledTable, PrivilegeReport

if TYPE_CHECKING:
    from tools.warehouse.base import Warehouse
    from tools.warehouse.config import WarehouseConfig


class BigQueryDialect(WarehouseDialect):
    """BigQuery through google-cloud-bigquery: every query dry-run first and capped in bytes."""

    name = "bigquery"
    sqlglot_name = "bigquery"
    url_schemes = ("bigquery",)
    url_example = "bigquery://project/dataset"
    dbt_adapter_types = ("bigquery",)
    prompt_note = """\
On BigQuery: name tables as describe_model gives their relation, in backticks: `project.dataset.table`. Each \
query is dry-run first and refused if it would scan more than the limit; BigQuery bills the columns read, so \
select only the columns you need and filter on the partition column (usually a date) of large tables."""

    def warehouse_from_url(self, url: sa.URL, config: WarehouseConfig) -> Warehouse:
        # Imported here: google-cloud-bigquery takes a third of a second to import, which DuckDB and PostgreSQL
        # users and every CLI command would otherwise pay.
        from tools.warehouse.bigquery_target import target_from_url
        from tools.warehouse.bigquery_warehouse import BigQueryWarehouse

        target = target_from_url(
            url.host, url.database, dict(url.query), api_endpoint=config.bigquery_api_endpoint
        )
        return BigQueryWarehouse(
            target, max_bytes_scanned=config.max_bytes_scanned, result_limits=config.result_limits()
        )

    def warehouse_from_dbt_target(
        self, target: Mapping[str, Any], project_dir: Path, config: WarehouseConfig
    ) -> Warehouse:
        from tools.warehouse.bigquery_target import target_from_dbt
        from tools.warehouse.bigquery_warehouse import BigQueryWarehouse

        bigquery_target = target_from_dbt(target, api_endpoint=config.bigquery_api_endpoint)
        return BigQueryWarehouse(
            bigquery_target, max_bytes_scanned=config.max_bytes_scanned, result_limits=config.result_limits()
        )

    def check_privileges(self, warehouse: Warehouse, tables: Sequence[ModelledTable]) -> PrivilegeReport:
        from tools.warehouse.bigquery_privileges import bigquery_privileges
        from tools.warehouse.bigquery_warehouse import BigQueryWarehouse

        if not isinstance(warehouse, BigQueryWarehouse):
            return PrivilegeReport(warehouse=self.name)
        return bigquery_privileges(warehouse, tables)

    def sample(self, percent: exp.Expr, seed: exp.Expr) -> exp.TableSample:
        # BigQuery samples storage blocks and takes no seed; it bills only the blocks read.
        return exp.TableSample(method=exp.var("SYSTEM"), percent=percent)

    def top_values(self, value: exp.Expr, most_frequent: exp.Select, limit: int) -> exp.Expr:
        # One pass, no sort of the whole column: [{"value": ..., "count": ...}, ...].
        top = exp.Anonymous(this="APPROX_TOP_COUNT", expressions=[value, exp.Literal.number(limit)])
        return exp.Anonymous(this="TO_JSON_STRING", expressions=[top])

    def schema_columns_sql(self, database: str | None, schema: str) -> str:
        dataset = ".".join(
            exp.to_identifier(part, quoted=True).sql(dialect=self.sqlglot_name)
            for part in (database, schema)
            if part
        )
        # Row estimates live in region-wide views on BigQuery; the dry run's byte estimate guards cost instead.
        return (
            "SELECT table_name, column_name, data_type, CAST(NULL AS INT64) AS estimated_rows "
            f"FROM {dataset}.INFORMATION_SCHEMA.COLUMNS ORDER BY table_name, ordinal_position"
        )


BIGQUERY = BigQueryDialect()
