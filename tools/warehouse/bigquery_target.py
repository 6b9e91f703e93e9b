"""Where and as whom BigQuery jobs run: read from a dbt bigquery target or a bigquery:// URL, as dbt reads it."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import google.auth
from google.api_core.client_info import ClientInfo
from google.auth.credentials import AnonymousCredentials, Credentials
from google.auth.exceptions import DefaultCredentialsError
from google.cloud import bigquery
from google.oauth2 import service_account

from tools.errors import WarehouseError

# The scopes dbt asks for: BigQuery, plus Drive for tables backed by Google Sheets.
SCOPES = (
    "https://www.googleapis.com/auth/bigquery",
    "https://www.googleapis.com/auth/cloud-platform",
    "https://www.googleapis.com/auth/drive",
)
METHODS = ("oauth", "service-account", "service-account-json")
EMULATOR_VARIABLE = "BIGQUERY_EMULATOR_HOST"  # The client library's own variable for a local emulator.


@dataclass(frozen=True)
class BigQueryTarget:
    """A BigQuery project, default dataset and location, and how to authenticate (dbt's profile fields)."""

    project: str
    source: str  # Named in error messages, so the user knows what to fix.
    dataset: str | None = None
    location: str | None = None
    method: str = "oauth"
    keyfile: Path | None = None
    keyfile_json: Mapping[str, Any] | None = field(default=None, repr=False)  # A private key: never shown.
    execution_project: str | None = None  # dbt's name for the project jobs run (and are billed) in.
    maximum_bytes_billed: int | None = None
    api_endpoint: str | None = None

    @property
    def job_project(self) -> str:
        return self.execution_project or self.project

    @property
    def default_dataset(self) -> str | None:
        return f"{self.project}.{self.dataset}" if self.dataset else None


def target_from_dbt(output: Mapping[str, Any], *, api_endpoint: str | None) -> BigQueryTarget:
    """A target from a dbt profile output of type bigquery (project or database, dataset or schema)."""
    source = f"the dbt profile {output.get('_source', '')}".strip()
    project = output.get("project") or output.get("database")
    if not project:
        raise WarehouseError(
            f"The bigquery target in {source} has no project; add `project: your-gcp-project`."
        )
    method = str(output.get("method") or "oauth")
    if method not in METHODS:
        raise WarehouseError(
            f"BigQuery auth method {method!r} in {source} is not supported; use one of {', '.join(METHODS)}."
        )
    keyfile_json = output.get("keyfile_json")
    if method == "service-account-json" and not isinstance(keyfile_json, Mapping):
        raise WarehouseError(f"method service-account-json in {source} needs keyfile_json: the key's fields.")
    if method == "service-account" and not output.get("keyfile"):
        raise WarehouseError(
            f"method service-account in {source} needs keyfile: the path of the JSON key file."
        )
    billed = output.get("maximum_bytes_billed")
    return BigQueryTarget(
        project=str(project),
        source=source,
        dataset=_text(output.get("dataset") or output.get("schema")),
        location=_text(output.get("location")),
        method=method,
        keyfile=Path(str(output["keyfile"])).expanduser() if output.get("keyfile") else None,
        keyfile_json=keyfile_json if isinstance(keyfile_json, Mapping) else None,
        execution_project=_text(output.get("execution_project")),
        maximum_bytes_billed=int(billed) if billed else None,
        api_endpoint=api_endpoint,
    )


def target_from_url(
    project: str | None, dataset: str | None, query: Mapping[str, Any], *, api_endpoint: str | None
) -> BigQueryTarget:
    """A target from `bigquery://project/dataset?location=EU&keyfile=/path/key.json` (else default credentials)."""
    source = "BLUEPRINTDATA_WAREHOUSE_URL"
    if not project:
        raise WarehouseError(f"{source} needs a project: bigquery://your-gcp-project/your_dataset.")
    keyfile = _text(query.get("keyfile") or query.get("credentials_path"))
    return BigQueryTarget(
        project=project,
        source=source,
        dataset=dataset or None,
        location=_text(query.get("location")),
        method="service-account" if keyfile else "oauth",
        keyfile=Path(keyfile).expanduser() if keyfile else None,
        api_endpoint=api_endpoint,
    )


def bigquery_client(target: BigQueryTarget) -> bigquery.Client:
    """A client for the target; credentials are loaded here, so their errors name the profile to fix."""
    options = {"api_endpoint": target.api_endpoint} if target.api_endpoint else None
    return bigquery.Client(
        project=target.job_project,
        credentials=_credentials(target),
        location=target.location,
        client_options=options,
        client_info=ClientInfo(user_agent="blueprintdata"),  # type: ignore[no-untyped-call]
    )


def _credentials(target: BigQueryTarget) -> Credentials:
    endpoint = target.api_endpoint or os.environ.get(EMULATOR_VARIABLE)
    if endpoint and not endpoint.startswith("https://"):
        # An emulator (BIGQUERY_EMULATOR_HOST, or a plain-http endpoint) takes no credentials; Google's real
        # endpoints are https and do.
        return AnonymousCredentials()  # type: ignore[no-untyped-call]
    if target.method == "service-account":
        assert target.keyfile is not None  # Checked when the target was read.
        try:
            return service_account.Credentials.from_service_account_file(  # type: ignore[no-any-return, no-untyped-call]
                str(target.keyfile), scopes=SCOPES
            )
        except FileNotFoundError:
            raise WarehouseError(
                f"The keyfile {target.keyfile} named in {target.source} does not exist."
            ) from None
        except (ValueError, KeyError) as exc:
            raise WarehouseError(
                f"{target.keyfile} (keyfile in {target.source}) is not a service-account key: {_first_line(exc)}."
            ) from None
    if target.method == "service-account-json":
        try:
            return service_account.Credentials.from_service_account_info(  # type: ignore[no-any-return, no-untyped-call]
                dict(target.keyfile_json or {}), scopes=SCOPES
            )
        except (ValueError, KeyError) as exc:
            # The message names a missing field at most, never the key's contents.
            raise WarehouseError(
                f"keyfile_json in {target.source} is not a service-account key: {_first_line(exc)}."
            ) from None
    try:
        credentials, _ = google.auth.default(scopes=SCOPES)
    except DefaultCredentialsError:
        raise WarehouseError(
            "No Google application default credentials found for BigQuery. Run `gcloud auth application-default "
            f"login`, or set method: service-account and keyfile: /path/key.json in {target.source}."
        ) from None
    return credentials


def _text(value: Any) -> str | None:
    return str(value) if value not in (None, "") else None


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[0][:200] if text else type(exc).__name__
