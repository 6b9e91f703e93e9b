"""Whether BigQuery credentials can change the modelled datasets: asked of BigQuery itself, table by table."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from google.api_core import exceptions as api_exceptions
from google.auth import exceptions as auth_exceptions

from tools.warehouse.privileges import ModelledTable, PrivilegeReport

if TYPE_CHECKING:
    from tools.warehouse.bigquery_warehouse import BigQueryWarehouse

# What writing needs; a reader holds bigquery.tables.get and getData only.
WRITE_PERMISSIONS = (
    "bigquery.tables.updateData",
    "bigquery.tables.update",
    "bigquery.tables.delete",
)
READ_ONLY_ROLES = (
    "roles/bigquery.dataViewer on the modelled datasets and roles/bigquery.jobUser on the project"
)


def bigquery_privileges(warehouse: BigQueryWarehouse, tables: Sequence[ModelledTable]) -> PrivilegeReport:
    """One table of each modelled dataset asked (tables.testIamPermissions) which write permissions we hold."""
    problems = []
    for dataset, table in _one_table_per_dataset(tables, warehouse.project).items():
        try:
            held = warehouse.held_permissions(table, WRITE_PERMISSIONS)
        except (api_exceptions.GoogleAPIError, auth_exceptions.GoogleAuthError, OSError):
            # A table we cannot ask about (or credentials that fail, which the first query reports): the
            # warning is advice, never a reason not to start.
            continue
        if held:
            problems.append(f"can write to dataset {dataset} ({', '.join(sorted(held))})")
    return PrivilegeReport(
        warehouse="bigquery",
        problems=tuple(problems),
        remedy=(
            f"grant the service account only {READ_ONLY_ROLES}, e.g. `bq add-iam-policy-binding "
            "--member=serviceAccount:NAME@PROJECT.iam.gserviceaccount.com --role=roles/bigquery.dataViewer "
            "PROJECT:DATASET` and `gcloud projects add-iam-policy-binding PROJECT "
            "--member=serviceAccount:NAME@PROJECT.iam.gserviceaccount.com --role=roles/bigquery.jobUser`"
        ),
        refuses=False,
    )


def _one_table_per_dataset(tables: Sequence[ModelledTable], project: str) -> dict[str, str]:
    chosen: dict[str, str] = {}
    for table in tables:
        dataset = f"{table.database or project}.{table.schema}"
        chosen.setdefault(dataset, f"{dataset}.{table.name}")
    return chosen
