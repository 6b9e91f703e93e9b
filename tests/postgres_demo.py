"""The demo's dbt project on PostgreSQL: its tables copied from the demo DuckDB file, its relations renamed.

dbt-duckdb names the demo's relations "shop"."main"."fct_orders" (the file's catalog, then the schema); a
dbt-postgres build of the same project names them "<database>"."<schema>"."fct_orders", and that is what the
copied project's semantic manifest says, so MetricFlow's SQL reads the copied tables.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Sequence
from pathlib import Path

import duckdb
import psycopg
import sqlalchemy as sa

from demo.load import DEMO_PROJECT_DIR

# DuckDB's names for the column types PostgreSQL spells otherwise; the rest (INTEGER, DATE, DECIMAL(12,2),
# BOOLEAN, TIMESTAMP, BIGINT) read the same in both.
_POSTGRES_TYPES = {"VARCHAR": "text", "DOUBLE": "double precision", "HUGEINT": "numeric"}
DEMO_RELATION_PREFIX = '"shop"."main".'


def copy_demo_tables(demo_file: Path, postgres_url: str, schema: str, tables: Sequence[str]) -> None:
    """Create `schema` in postgres_url's database and copy the demo's `main` tables into it, rows included."""
    plain_url = sa.make_url(postgres_url).set(drivername="postgresql").render_as_string(hide_password=False)
    with (
        duckdb.connect(str(demo_file), read_only=True) as source,
        psycopg.connect(plain_url, autocommit=True) as target,
    ):
        target.execute(f'CREATE SCHEMA "{schema}"')
        for table in tables:
            columns = source.execute(f"DESCRIBE main.{table}").fetchall()
            definition = ", ".join(
                f'"{name}" {_POSTGRES_TYPES.get(kind, kind)}' for name, kind, *_ in columns
            )
            target.execute(f'CREATE TABLE "{schema}"."{table}" ({definition})')
            with target.cursor().copy(f'COPY "{schema}"."{table}" FROM STDIN') as copy:
                for row in source.execute(f"SELECT * FROM main.{table}").fetchall():
                    copy.write_row(row)


def demo_project_on_postgres(folder: Path, database: str, schema: str) -> Path:
    """A copy of the demo dbt project whose semantic manifest names the relations in `database`.`schema`."""
    project = folder / "demo_project"
    shutil.copytree(DEMO_PROJECT_DIR, project)
    semantic = project / "target" / "semantic_manifest.json"
    manifest = json.loads(semantic.read_text())
    relations = [model["node_relation"] for model in manifest["semantic_models"]]
    for spine in manifest["project_configuration"]["time_spine_table_configurations"]:
        assert spine["location"].startswith(DEMO_RELATION_PREFIX), spine
        spine["location"] = spine["location"].replace(DEMO_RELATION_PREFIX, f'"{database}"."{schema}".', 1)
    for relation in relations:
        assert relation["relation_name"].startswith(DEMO_RELATION_PREFIX), relation
        relation.update(
            database=database,
            schema_name=schema,
            relation_name=f'"{database}"."{schema}"."{relation["alias"]}"',
        )
    semantic.write_text(json.dumps(manifest))
    return project
