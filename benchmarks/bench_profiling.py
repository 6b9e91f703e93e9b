"""Profiling the demo project (`blueprintdata sync`): queries per model, time, and bytes on a fake BigQuery.

Three warehouses hold the same demo data (11 models and 5 sources):
  - DuckDB: the demo file itself;
  - PostgreSQL: the demo tables copied into a fresh database (needs BLUEPRINTDATA_TEST_POSTGRES_URL, else skipped);
  - BigQuery: the fake REST API of tests/fakes/bigquery_api.py (SQL runs in DuckDB), spoken to by the real
    google-cloud-bigquery client through our BigQuery connector. Its dry runs answer with a byte model:
    rows x columns x 8 bytes of every table a query reads, times the sampled share; BigQuery bills at least
    10 MB per query, which is why one query per model matters there.
For each: a first (full) sync, then an incremental one (nothing changed: only the column listings run).
Queries are counted by tests/fakes/recording_warehouse.py around the Warehouse, the only way SQL reaches one.
"""

from __future__ import annotations

import json
import logging
import os
import re
import shutil
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import duckdb
import sqlalchemy as sa

from agent.store.database import create_store_engine, upgrade_database
from agent.store.profiles import ProfileStore
from demo.load import DEMO_PROJECT_DIR, ensure_demo_warehouse
from tests.fakes.bigquery_api import ENDPOINT, PROJECT, FakeBigQuery
from tests.fakes.bigquery_demo import DEMO_SCHEMAS, load_demo_into_fake_bigquery
from tests.fakes.recording_warehouse import RecordingWarehouse
from tools.byte_sizes import human_bytes
from tools.dbt.index import DbtIndex, load_index
from tools.profiling.runner import ProfileOptions, SyncSummary, sync_profiles
from tools.warehouse.base import Warehouse
from tools.warehouse.bigquery_target import BigQueryTarget
from tools.warehouse.bigquery_warehouse import BigQueryWarehouse
from tools.warehouse.dialects.duckdb import DUCKDB
from tools.warehouse.dialects.postgres import POSTGRES
from tools.warehouse.sqlalchemy_warehouse import SqlAlchemyWarehouse

BYTE_CAP = 10 * 10**9
_PG_TYPES = {"VARCHAR": "text", "DOUBLE": "double precision", "TIMESTAMP": "timestamp"}


def measure(label: str, index: DbtIndex, warehouse: Warehouse, workdir: Path) -> None:
    engine = create_store_engine(f"sqlite:///{workdir / f'{label}-store.db'}")
    upgrade_database(engine)
    store = ProfileStore(engine)
    options = ProfileOptions(sample_rows=1_000_000, timeout_seconds=60, max_bytes_scanned=BYTE_CAP)
    for run in ("first sync", "incremental"):
        recording = RecordingWarehouse(warehouse)
        started = time.perf_counter()
        summary = sync_profiles(index, recording, store, options)
        seconds = time.perf_counter() - started
        report(label, run, summary, recording, seconds)
    engine.dispose()


def report(label: str, run: str, summary: SyncSummary, recording: RecordingWarehouse, seconds: float) -> None:
    attempted = len(summary.profiled) + len(summary.failed)
    per_model = summary.profile_queries / attempted if attempted else 0.0
    scanned = human_bytes(summary.bytes_scanned) if summary.bytes_reported else "n/a"
    print(
        f"{label:<11}{run:<13}{len(summary.profiled):>9}{len(summary.skipped):>8}{len(summary.failed):>7}"
        f"{len(recording.statements):>9}{per_model:>11.2f}{recording.dry_runs:>9}{scanned:>12}"
        f"{seconds * 1000:>10.0f}"
    )


def main() -> None:
    with tempfile.TemporaryDirectory() as temporary:
        workdir = Path(temporary)
        demo_file = ensure_demo_warehouse(workdir / "data")
        index = load_index(DEMO_PROJECT_DIR)
        print(
            f"profiling the demo project ({len(index.nodes())} models and sources); target: 1 query per model, "
            f"plus one column listing per schema ({len(DEMO_SCHEMAS)})"
        )
        print(
            f"{'warehouse':<11}{'run':<13}{'profiled':>9}{'skipped':>8}{'failed':>7}{'queries':>9}"
            f"{'per model':>11}{'dry runs':>9}{'scanned':>12}{'ms':>10}"
        )
        duckdb_warehouse = SqlAlchemyWarehouse(
            sa.make_url(f"duckdb:///{demo_file}"), dialect=DUCKDB, setting_name="-"
        )
        measure("duckdb", index, duckdb_warehouse, workdir)
        duckdb_warehouse.close()

        server = os.environ.get("BLUEPRINTDATA_TEST_POSTGRES_URL")
        if server:
            with postgres_copy(server, demo_file) as url:
                pg_index = load_index(postgres_project(workdir, str(url.database)))
                pg_warehouse = SqlAlchemyWarehouse(url, dialect=POSTGRES, setting_name="-")
                measure("postgres", pg_index, pg_warehouse, workdir)
                pg_warehouse.close()
        else:
            print("postgres   skipped: set BLUEPRINTDATA_TEST_POSTGRES_URL to include it")

        logging.getLogger("sqlglot").setLevel(
            logging.ERROR
        )  # The fake's transpiling warns on each top-values query.
        bytes_of = byte_model(demo_file)
        fake = FakeBigQuery(bytes_processed=bytes_of)
        load_demo_into_fake_bigquery(fake, demo_file)
        with fake.serving():
            target = BigQueryTarget(
                project=PROJECT, source="the benchmark", dataset="main", api_endpoint=ENDPOINT
            )
            bigquery = BigQueryWarehouse(target, max_bytes_scanned=BYTE_CAP)
            measure("bigquery", index, bigquery, workdir)
            bigquery.close()
        billed = sum(max(bytes_of(sql), 10 * 1024 * 1024) for sql in fake.statements)
        print(
            f"bigquery (fake): {len(fake.statements)} jobs ran, {human_bytes(fake.bytes_processed_total)} processed "
            f"by them; the dry runs estimated {human_bytes(sum(d.bytes_processed for d in fake.dry_runs))} over "
            f"{len(fake.dry_runs)} dry runs (each profile query is dry-run by profiling to fit the byte cap and "
            f"again by the connector before it runs); at BigQuery's 10 MB minimum per query, about "
            f"{human_bytes(billed)} billed"
        )


def byte_model(demo_file: Path) -> Callable[[str], int]:
    """rows x columns x 8 bytes of each demo table a query names, times its TABLESAMPLE share."""
    sizes: dict[str, int] = {}
    with duckdb.connect(str(demo_file), read_only=True) as connection:
        for schema, table, columns in connection.execute(
            "SELECT table_schema, table_name, COUNT(*) FROM information_schema.columns GROUP BY ALL"
        ).fetchall():
            rows = connection.execute(f'SELECT COUNT(*) FROM {schema}."{table}"').fetchone()
            sizes[str(table).lower()] = int(rows[0] if rows else 0) * int(columns) * 8

    def bytes_of(sql: str) -> int:
        if "INFORMATION_SCHEMA" in sql:
            return 0  # metadata is not billed by the byte (the 10 MB minimum still applies)
        names = {name.lower() for name in re.findall(r"`([A-Za-z0-9_]+)`", sql)}
        total = sum(size for name, size in sizes.items() if name in names)
        sample = re.search(r"TABLESAMPLE SYSTEM \(([0-9.]+) PERCENT\)", sql)
        return int(total * float(sample.group(1)) / 100) if sample else total

    return bytes_of


@contextmanager
def postgres_copy(server_url: str, demo_file: Path) -> Iterator[sa.URL]:
    """A fresh PostgreSQL database holding the demo's tables (same schemas and names), dropped afterwards."""
    name = f"bp_bench_{uuid.uuid4().hex[:10]}"
    admin = sa.create_engine(server_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(sa.text(f'CREATE DATABASE "{name}"'))
    url = sa.make_url(server_url).set(database=name)
    engine = sa.create_engine(url)
    try:
        with duckdb.connect(str(demo_file), read_only=True) as source, engine.begin() as target:
            raw = target.connection.dbapi_connection
            assert raw is not None
            cursor = raw.cursor()
            for schema in DEMO_SCHEMAS:
                cursor.execute(f"CREATE SCHEMA IF NOT EXISTS {schema}")
                for (table,) in source.execute(
                    "SELECT table_name FROM information_schema.tables WHERE table_schema = ?", [schema]
                ).fetchall():
                    columns = source.execute(
                        "SELECT column_name, data_type FROM information_schema.columns "
                        "WHERE table_schema = ? AND table_name = ? ORDER BY ordinal_position",
                        [schema, table],
                    ).fetchall()
                    definition = ", ".join(f'"{c}" {_PG_TYPES.get(t, t)}' for c, t in columns)
                    cursor.execute(f'CREATE TABLE {schema}."{table}" ({definition})')
                    with cursor.copy(f'COPY {schema}."{table}" FROM STDIN') as copy:
                        for row in source.execute(f'SELECT * FROM {schema}."{table}"').fetchall():
                            copy.write_row(row)
                    cursor.execute(f'ANALYZE {schema}."{table}"')
        yield url
    finally:
        engine.dispose()
        with admin.connect() as connection:
            connection.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def postgres_project(workdir: Path, database: str) -> Path:
    """The demo dbt project with its relations moved to the PostgreSQL database."""
    project = workdir / "pg_project"
    shutil.copytree(DEMO_PROJECT_DIR, project)
    manifest_file = project / "target" / "manifest.json"
    manifest = json.loads(manifest_file.read_text())
    for section in ("nodes", "sources"):
        for node in manifest.get(section, {}).values():
            if node.get("database"):
                node["database"] = database
                node["relation_name"] = (
                    f'"{database}"."{node["schema"]}"."{node.get("alias") or node.get("identifier") or node["name"]}"'
                )
    manifest["metadata"]["adapter_type"] = "postgres"
    manifest_file.write_text(json.dumps(manifest))
    return project


if __name__ == "__main__":
    main()
