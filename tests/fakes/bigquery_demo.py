"""The demo warehouse (demo/load.py's DuckDB file) copied into a FakeBigQuery, for tests and benchmarks."""

from __future__ import annotations

from pathlib import Path

import duckdb

from tests.fakes.bigquery_api import FakeBigQuery

DEMO_SCHEMAS = ("main", "raw")  # the demo's dbt schemas; each becomes a dataset


def load_demo_into_fake_bigquery(fake: FakeBigQuery, demo_file: Path) -> None:
    """Copy every demo table into the fake; a view per dataset plays `dataset.INFORMATION_SCHEMA.COLUMNS`."""
    with duckdb.connect(str(demo_file), read_only=True) as connection:
        tables = connection.execute(
            "SELECT table_schema, table_name FROM information_schema.tables"
        ).fetchall()
    fake.execute(f"ATTACH '{demo_file}' AS demo (READ_ONLY)")
    for dataset in DEMO_SCHEMAS:
        fake.execute(f"CREATE SCHEMA IF NOT EXISTS {dataset}")
        for schema, table in tables:
            if schema == dataset:
                fake.execute(f'CREATE TABLE {dataset}."{table}" AS SELECT * FROM demo.{dataset}."{table}"')
        fake.execute(
            f'CREATE VIEW {dataset}."INFORMATION_SCHEMA.COLUMNS" AS SELECT table_name, column_name, data_type, '
            f"ordinal_position FROM information_schema.columns WHERE table_catalog = 'memory' "
            f"AND table_schema = '{dataset}'"
        )
    fake.execute("DETACH demo")
