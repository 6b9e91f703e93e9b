"""Builds the demo warehouse (a DuckDB file) on first run, from generated data and the shipped dbt manifest."""

from __future__ import annotations

import csv
import json
import os
import subprocess
import sys
import tempfile
from graphlib import TopologicalSorter
from pathlib import Path
from typing import TYPE_CHECKING, Any

from demo.generate import SEED, generate

if TYPE_CHECKING:
    import duckdb

DEMO_PROJECT_DIR = Path(__file__).parent / "project"
# Bump when the generated data or the models change: existing demo files are rebuilt.
DEMO_VERSION = "2024.3"
DEMO_FILE_NAME = "shop.duckdb"  # dbt names the database after the file: relations read "shop"."main"...

_RAW_TYPES: dict[str, dict[str, str]] = {
    "raw_customers": {
        "customer_id": "INTEGER",
        "first_name": "VARCHAR",
        "last_name": "VARCHAR",
        "email": "VARCHAR",
        "signup_date": "DATE",
        "country": "VARCHAR",
    },
    "raw_products": {
        "product_id": "INTEGER",
        "name": "VARCHAR",
        "category": "VARCHAR",
        "price": "DECIMAL(10,2)",
    },
    "raw_orders": {
        "order_id": "INTEGER",
        "customer_id": "INTEGER",
        "order_date": "DATE",
        "status": "VARCHAR",
        "channel": "VARCHAR",
    },
    "raw_order_items": {
        "order_item_id": "INTEGER",
        "order_id": "INTEGER",
        "product_id": "INTEGER",
        "quantity": "INTEGER",
        "unit_price": "DECIMAL(10,2)",
    },
    "raw_payments": {
        "payment_id": "INTEGER",
        "order_id": "INTEGER",
        "method": "VARCHAR",
        "amount": "DECIMAL(12,2)",
        "status": "VARCHAR",
        "paid_at": "TIMESTAMP",
    },
}


def ensure_demo_warehouse(data_dir: Path) -> Path:
    """The demo DuckDB file under `data_dir`, built if missing or from another DEMO_VERSION.

    The build runs in a child process, and the version is read from a small file beside the database: the
    generated data and a DuckDB instance take some 50 MB that a long-running bot would otherwise keep from its
    start, for a warehouse it opens only when a question needs it.
    """
    target = data_dir / "demo" / DEMO_FILE_NAME
    if target.exists() and _built_version(target) == DEMO_VERSION:
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    build = subprocess.run(
        [sys.executable, "-m", "demo.load", str(target), DEMO_VERSION],
        capture_output=True,
        text=True,
        check=False,
    )
    if build.returncode != 0:
        last_line = (build.stderr.strip().splitlines() or ["no output"])[-1]
        raise RuntimeError(f"Building the demo warehouse in {target.parent} failed: {last_line}")
    return target


def build_demo_warehouse(target: Path, version: str) -> None:
    """Generate the data, load it and run the models into `target`; then record `version` beside it."""
    import duckdb

    manifest = json.loads((DEMO_PROJECT_DIR / "target" / "manifest.json").read_text())
    # Build beside the target and rename: a crash or a second process never sees a half-built file. The
    # temporary file keeps the final name inside its own directory so DuckDB's catalog name stays "shop".
    with tempfile.TemporaryDirectory(dir=target.parent, prefix=".building-") as building:
        staging = Path(building) / DEMO_FILE_NAME
        with duckdb.connect(str(staging)) as connection:
            load_raw_tables(connection)
            materialise_models(connection, manifest)
            connection.execute("CREATE TABLE main._blueprintdata_demo AS SELECT ? AS version", [version])
        os.replace(staging, target)
    # Written last: a crash before it leaves the old version (or none) recorded, so the next start rebuilds.
    _version_file(target).write_text(version)


def _version_file(path: Path) -> Path:
    return path.with_name(path.name + ".version")


def _built_version(path: Path) -> str | None:
    try:
        return _version_file(path).read_text().strip()
    except OSError:
        pass
    # Built by a release that kept the version only inside the database.
    import duckdb

    try:
        with duckdb.connect(str(path), read_only=True) as connection:
            row = connection.execute("SELECT version FROM main._blueprintdata_demo").fetchone()
    except duckdb.Error:
        return None
    return str(row[0]) if row else None


def load_raw_tables(connection: duckdb.DuckDBPyConnection, seed: int = SEED) -> None:
    """Generated rows (the demo's, or another `seed`'s) into the `raw` schema, through CSV files DuckDB reads in
    bulk."""
    connection.execute("CREATE SCHEMA IF NOT EXISTS raw")
    raw = generate(seed)
    with tempfile.TemporaryDirectory(prefix="blueprintdata-demo-") as folder:
        for table, (columns, rows) in raw.tables.items():
            path = Path(folder) / f"{table}.csv"
            with path.open("w", newline="") as handle:
                writer = csv.writer(handle)
                writer.writerow(columns)
                writer.writerows(rows)
            column_types = "{" + ", ".join(f"'{n}': '{t}'" for n, t in _RAW_TYPES[table].items()) + "}"
            connection.execute(
                f"CREATE OR REPLACE TABLE raw.{table} AS "
                f"SELECT * FROM read_csv('{path.as_posix()}', header=true, columns={column_types})"
            )


def materialise_models(connection: duckdb.DuckDBPyConnection, manifest: dict[str, Any]) -> None:
    """Run each model's compiled SQL from the manifest in dependency order, as dbt would have."""
    nodes = {
        unique_id: node
        for unique_id, node in manifest["nodes"].items()
        if node["resource_type"] in {"model", "seed", "snapshot"} and node.get("compiled_code")
    }
    order = TopologicalSorter(
        {
            unique_id: [d for d in node["depends_on"]["nodes"] if d in nodes]
            for unique_id, node in nodes.items()
        }
    ).static_order()
    for unique_id in order:
        node = nodes[unique_id]
        relation = f'"{node["schema"]}"."{node.get("alias") or node["name"]}"'
        kind = "VIEW" if node["config"].get("materialized") == "view" else "TABLE"
        connection.execute(f'CREATE SCHEMA IF NOT EXISTS "{node["schema"]}"')
        connection.execute(f"CREATE OR REPLACE {kind} {relation} AS {node['compiled_code']}")


if __name__ == "__main__":
    # ensure_demo_warehouse runs this in a child process: python -m demo.load TARGET VERSION
    build_demo_warehouse(Path(sys.argv[1]), sys.argv[2])
