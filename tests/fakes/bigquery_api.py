"""A fake BigQuery REST API for the real google-cloud-bigquery client, served through `responses`.

Queries really run: BigQuery SQL is transpiled with sqlglot to DuckDB and executed in an in-memory DuckDB
whose schemas play the datasets (`project.dataset.table` -> `dataset.table`; the project part is dropped).
Load data with `fake.execute("CREATE SCHEMA shop; CREATE TABLE shop.orders AS ...")` (DuckDB SQL).

Endpoints, with the shapes of the v2 REST API:
  POST /projects/{p}/jobs                 jobs.insert (configuration.dryRun answers with statistics only)
  GET  /projects/{p}/jobs/{id}            jobs.get
  POST /projects/{p}/jobs/{id}/cancel     jobs.cancel
  GET  /projects/{p}/queries/{id}         jobs.getQueryResults (maxResults, pageToken, startIndex)
  POST /projects/{p}/queries              jobs.query (what Client.query_and_wait uses)
  GET  /projects/{p}/datasets/{d}/tables/{t}  tables.get (schema, numRows, timePartitioning)
  POST /projects/{p}/datasets/{d}/tables/{t}:testIamPermissions  which of the asked permissions the caller holds

What it records, for tests that count queries and bytes:
  `dry_runs`      every dry run: DryRun(sql, bytes_processed)
  `statements`    the SQL of every query that ran (jobs.insert without dryRun, and jobs.query)
  `job_requests`  the request body of every query job, e.g. to check maximumBytesBilled and labels
  `cancelled`     ids of cancelled jobs
  `bytes_processed_total`  bytes of the queries that ran (dry runs excluded)

Behaviour switches: `bytes_processed` (an int, or a function of the SQL) sets totalBytesProcessed per
statement; `partition(table, field)` gives a table a timePartitioning field; `hang(text)` makes jobs whose SQL
contains `text` run until cancelled; `fail_jobs(text, reason, message)` makes them fail as a job (e.g. BigQuery's
own jobTimeoutMs stop); `fail_next(...)` answers the next matching call with an API error (auth, quota, bad
request). Billing follows BigQuery: at least 10 MB, rounded up to
whole MB, and a job over its maximumBytesBilled fails with reason bytesBilledLimitExceeded.

Usage: the `fake_bigquery` fixture, or `with fake.serving():` (or `install(mock)` on your own `responses` mock);
`fake.client()` is a google.cloud.bigquery.Client pointed at it with anonymous credentials.
"""

from __future__ import annotations

import json
import re
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import duckdb
import pytest
import responses
import sqlglot
from google.auth.credentials import AnonymousCredentials
from google.cloud import bigquery
from requests import PreparedRequest
from sqlglot import exp

from tests.fakes.bigquery_sql import MB, bigquery_type, billed, encode, statement_type, to_duckdb

ENDPOINT = "http://bigquery.fake"
PROJECT = "fake-project"

_Response = tuple[int, dict[str, str], str]


@dataclass(frozen=True)
class DryRun:
    """One dry run the fake answered: the SQL and the bytes it said the query would scan."""

    sql: str
    bytes_processed: int


@dataclass
class _Failure:
    status: int
    reason: str
    message: str
    on: str  # "dry_run", "query", "results", "table" or "any"


@dataclass
class _Job:
    job_id: str
    project: str
    location: str
    configuration: dict[str, Any]
    sql: str
    created: float
    bytes_processed: int
    schema: list[dict[str, Any]] = field(default_factory=list)
    rows: list[tuple[Any, ...]] = field(default_factory=list)
    state: str = "DONE"
    error: dict[str, str] | None = None

    @property
    def bytes_billed(self) -> int:
        return billed(self.bytes_processed)


class FakeBigQuery:
    """BigQuery's REST API over an in-memory DuckDB; records dry runs, statements and job requests."""

    def __init__(
        self,
        *,
        endpoint: str = ENDPOINT,
        project: str = PROJECT,
        location: str = "US",
        bytes_processed: int | Callable[[str], int] = 50 * MB,
    ) -> None:
        self.endpoint = endpoint.rstrip("/")
        self.project = project
        self.location = location
        self.bytes_processed = bytes_processed
        self.dry_runs: list[DryRun] = []
        self.statements: list[str] = []
        self.job_requests: list[dict[str, Any]] = []
        self.cancelled: list[str] = []
        self.bytes_processed_total = 0
        self._partitions: dict[str, str] = {}
        self._hanging: list[str] = []
        self._job_failures: list[tuple[str, dict[str, str]]] = []
        self._failures: list[_Failure] = []
        self._jobs: dict[str, _Job] = {}
        self._lock = threading.Lock()
        self._duckdb = duckdb.connect(":memory:")
        self.permissions = {"bigquery.tables.get", "bigquery.tables.getData"}

    # Setting up ---------------------------------------------------------------------------------------

    def execute(self, duckdb_sql: str) -> None:
        """Run DuckDB SQL to create datasets (schemas) and tables: `CREATE SCHEMA shop; CREATE TABLE ...`."""
        with self._lock:
            self._duckdb.execute(duckdb_sql)

    def partition(self, table: str, field_name: str) -> None:
        """Give `dataset.table` a DAY timePartitioning on `field_name` (reported by tables.get)."""
        self._partitions[table.lower()] = field_name

    def hang(self, text: str) -> None:
        """Jobs whose SQL contains `text` stay RUNNING until cancelled (a client-side timeout must stop them)."""
        self._hanging.append(text)

    def fail_jobs(self, text: str, reason: str, message: str) -> None:
        """Jobs whose SQL contains `text` end DONE with this errorResult, e.g. ("timeout", "Job timed out ...")."""
        self._job_failures.append((text, {"reason": reason, "message": message}))

    def grant(self, *permissions: str) -> None:
        """Let the caller hold these IAM permissions on every table too (testIamPermissions reports them)."""
        self.permissions.update(permissions)

    def fail_next(self, status: int, reason: str, message: str, *, on: str = "any") -> None:
        """Answer the next call of kind `on` (dry_run, query, results, table, any) with an API error."""
        self._failures.append(_Failure(status, reason, message, on))

    def install(self, mock: responses.RequestsMock) -> None:
        """Register the endpoints on a `responses` mock (the client must use this fake's endpoint)."""
        base = re.escape(self.endpoint) + r"/bigquery/v2/projects/[^/]+"
        routes: list[tuple[str, str, Callable[[PreparedRequest], _Response]]] = [
            ("POST", r"/jobs/[^/?]+/cancel", self._cancel),
            ("POST", r"/jobs", self._insert_job),
            ("GET", r"/jobs/[^/?]+", self._get_job),
            ("POST", r"/queries", self._jobs_query),
            ("GET", r"/queries/[^/?]+", self._get_query_results),
            ("GET", r"/datasets/[^/]+/tables/[^/?]+", self._get_table),
            ("POST", r"/datasets/[^/]+/tables/[^/?:]+:testIamPermissions", self._test_iam_permissions),
        ]
        for method, path, handler in routes:
            mock.add_callback(method, re.compile(base + path + r"(\?.*)?$"), callback=handler)

    @contextmanager
    def serving(self) -> Iterator[responses.RequestsMock]:
        """Answer on this fake's endpoint for the `with` block, then close the fake.

        Yields the fresh `responses` mock it is installed on, so a test can add routes (e.g. a token endpoint)
        or read the calls the client made.
        """
        try:
            with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
                self.install(mock)
                yield mock
        finally:
            self.close()

    def client(self) -> bigquery.Client:
        """A real BigQuery client talking to this fake."""
        return bigquery.Client(
            project=self.project,
            credentials=AnonymousCredentials(),  # type: ignore[no-untyped-call]
            client_options={"api_endpoint": self.endpoint},
            location=self.location,
        )

    def close(self) -> None:
        self._duckdb.close()

    # Handlers ---------------------------------------------------------------------------------------

    def _insert_job(self, request: PreparedRequest) -> _Response:
        body = _json_body(request)
        configuration = body.get("configuration", {})
        sql = str(configuration.get("query", {}).get("query", ""))
        reference = body.get("jobReference", {})
        dry_run = bool(configuration.get("dryRun"))
        failure = self._take_failure("dry_run" if dry_run else "query")
        if failure:
            return _error(failure.status, failure.reason, failure.message)
        if dry_run:
            return self._dry_run(sql, configuration, reference)
        self.job_requests.append(body)
        job_id = reference.get("jobId") or f"job_{uuid.uuid4().hex[:12]}"
        location = reference.get("location") or self.location
        outcome = self._run(sql, configuration, job_id, location)
        if isinstance(outcome, tuple):
            return outcome
        return _ok(self._job_resource(outcome))

    def _dry_run(self, sql: str, configuration: dict[str, Any], reference: dict[str, Any]) -> _Response:
        kind = statement_type(sql)
        if kind is None:
            return _error(400, "invalidQuery", f"Syntax error: cannot parse the query: {sql[:80]}")
        schema: list[dict[str, Any]] = []
        if kind == "SELECT":
            try:
                with self._lock:
                    described = self._duckdb.execute("DESCRIBE " + to_duckdb(sql, configuration)).fetchall()
            except duckdb.Error as exc:
                return _error(400, "invalidQuery", _first_line(exc))
            schema = [
                {"name": row[0], "type": bigquery_type(str(row[1])), "mode": "NULLABLE"} for row in described
            ]
        scanned = self._bytes_for(sql)
        self.dry_runs.append(DryRun(sql, scanned))
        job = {
            "kind": "bigquery#job",
            "jobReference": {
                "projectId": self.project,
                "location": reference.get("location") or self.location,
            },
            "configuration": configuration,
            "status": {"state": "DONE"},
            "statistics": {
                "creationTime": _millis(time.time()),
                "totalBytesProcessed": str(scanned),
                "query": {
                    "totalBytesProcessed": str(scanned),
                    "totalBytesProcessedAccuracy": "PRECISE",
                    "totalBytesBilled": "0",
                    "statementType": kind,
                    "cacheHit": False,
                    "schema": {"fields": schema},
                    "referencedTables": self._referenced_tables(sql, configuration),
                },
            },
        }
        return _ok(job)

    def _run(self, sql: str, configuration: dict[str, Any], job_id: str, location: str) -> _Job | _Response:
        """Execute a query job; an HTTP error for SQL BigQuery would reject at insert time."""
        kind = statement_type(sql)
        if kind is None:
            return _error(400, "invalidQuery", f"Syntax error: cannot parse the query: {sql[:80]}")
        if kind != "SELECT":
            # Our fake warehouse never changes; a real project would, which is what the tests prove we avoid.
            return _error(403, "accessDenied", f"Access Denied: {kind} is not allowed in the fake.")
        self.statements.append(sql)
        job = _Job(job_id, self.project, location, configuration, sql, time.time(), self._bytes_for(sql))
        self._jobs[job_id] = job
        if any(text in sql for text in self._hanging):
            job.state = "RUNNING"
            return job
        for text, error in self._job_failures:
            if text in sql:
                job.error = dict(error)
                return job
        limit = configuration.get("query", {}).get("maximumBytesBilled")
        if limit is not None and job.bytes_billed > int(limit):
            job.error = {
                "reason": "bytesBilledLimitExceeded",
                "message": f"Query exceeded limit for bytes billed: {limit}. {job.bytes_billed} or higher required.",
            }
            return job
        try:
            with self._lock:
                cursor = self._duckdb.execute(to_duckdb(sql, configuration))
                description = cursor.description or []
                job.rows = cursor.fetchall()
        except duckdb.Error as exc:
            job.error = {"reason": "invalidQuery", "message": _first_line(exc), "location": "query"}
            return job
        job.schema = [
            {"name": column[0], "type": bigquery_type(str(column[1])), "mode": "NULLABLE"}
            for column in description
        ]
        self.bytes_processed_total += job.bytes_processed
        return job

    def _get_job(self, request: PreparedRequest) -> _Response:
        job = self._jobs.get(_path_part(request, "jobs"))
        if job is None:
            return _error(404, "notFound", "Not found: Job")
        return _ok(self._job_resource(job))

    def _cancel(self, request: PreparedRequest) -> _Response:
        job = self._jobs.get(_path_part(request, "jobs"))
        if job is None:
            return _error(404, "notFound", "Not found: Job")
        self.cancelled.append(job.job_id)
        if job.state == "RUNNING":
            job.state = "DONE"
            job.error = {
                "reason": "stopped",
                "message": "Job execution was cancelled: User requested cancellation",
            }
        return _ok({"kind": "bigquery#jobCancelResponse", "job": self._job_resource(job)})

    def _get_query_results(self, request: PreparedRequest) -> _Response:
        failure = self._take_failure("results")
        if failure:
            return _error(failure.status, failure.reason, failure.message)
        job = self._jobs.get(_path_part(request, "queries"))
        if job is None:
            return _error(404, "notFound", "Not found: Job")
        if job.state == "RUNNING":
            time.sleep(
                0.02
            )  # The real call waits up to timeoutMs; a short wait keeps the client's loop calm.
            return _ok(
                {
                    "kind": "bigquery#getQueryResultsResponse",
                    "jobReference": _reference(job),
                    "jobComplete": False,
                }
            )
        if job.error:
            return _error(400, job.error["reason"], job.error["message"])
        params = _query_params(request)
        return _ok(self._results_page(job, params, kind="bigquery#getQueryResultsResponse"))

    def _jobs_query(self, request: PreparedRequest) -> _Response:
        body = _json_body(request)
        sql = str(body.get("query", ""))
        if body.get("dryRun"):
            configuration = {"query": {"query": sql, "useLegacySql": False}, "dryRun": True}
            failure = self._take_failure("dry_run")
            if failure:
                return _error(failure.status, failure.reason, failure.message)
            status, headers, text = self._dry_run(sql, configuration, {})
            if status != 200:
                return status, headers, text
            job = json.loads(text)
            query_stats = job["statistics"]["query"]
            return _ok(
                {
                    "kind": "bigquery#queryResponse",
                    "schema": query_stats["schema"],
                    "jobComplete": True,
                    "totalBytesProcessed": query_stats["totalBytesProcessed"],
                }
            )
        failure = self._take_failure("query")
        if failure:
            return _error(failure.status, failure.reason, failure.message)
        self.job_requests.append(body)
        configuration = {
            "query": {
                key: body[key]
                for key in ("query", "useLegacySql", "maximumBytesBilled", "useQueryCache")
                if key in body
            },
            "labels": body.get("labels", {}),
        }
        outcome = self._run(
            sql, configuration, f"job_{uuid.uuid4().hex[:12]}", body.get("location") or self.location
        )
        if isinstance(outcome, tuple):
            return outcome
        if outcome.error:
            return _error(400, outcome.error["reason"], outcome.error["message"])
        if outcome.state == "RUNNING":
            return _ok(
                {"kind": "bigquery#queryResponse", "jobReference": _reference(outcome), "jobComplete": False}
            )
        params = {"maxResults": str(body.get("maxResults", ""))} if body.get("maxResults") else {}
        if body.get("formatOptions", {}).get("useInt64Timestamp"):
            params["formatOptions.useInt64Timestamp"] = "true"
        return _ok(self._results_page(outcome, params, kind="bigquery#queryResponse"))

    def _test_iam_permissions(self, request: PreparedRequest) -> _Response:
        asked = _json_body(request).get("permissions", [])
        return _ok({"permissions": [permission for permission in asked if permission in self.permissions]})

    def _get_table(self, request: PreparedRequest) -> _Response:
        failure = self._take_failure("table")
        if failure:
            return _error(failure.status, failure.reason, failure.message)
        parts = request.path_url.split("?")[0].split("/")
        dataset, table = parts[parts.index("datasets") + 1], parts[parts.index("tables") + 1]
        try:
            with self._lock:
                described = self._duckdb.execute(f'DESCRIBE "{dataset}"."{table}"').fetchall()
                count = self._duckdb.execute(f'SELECT count(*) FROM "{dataset}"."{table}"').fetchone()
        except duckdb.Error:
            return _error(404, "notFound", f"Not found: Table {self.project}:{dataset}.{table}")
        resource: dict[str, Any] = {
            "kind": "bigquery#table",
            "id": f"{self.project}:{dataset}.{table}",
            "tableReference": {"projectId": self.project, "datasetId": dataset, "tableId": table},
            "type": "TABLE",
            "location": self.location,
            "schema": {
                "fields": [
                    {"name": r[0], "type": bigquery_type(str(r[1])), "mode": "NULLABLE"} for r in described
                ]
            },
            "numRows": str(count[0] if count else 0),
            "numBytes": str(self._bytes_for(f"SELECT * FROM `{dataset}.{table}`")),
        }
        partition_field = self._partitions.get(f"{dataset}.{table}".lower())
        if partition_field:
            resource["timePartitioning"] = {"type": "DAY", "field": partition_field}
        return _ok(resource)

    # Helpers ------------------------------------------------------------------------------------------

    def _results_page(self, job: _Job, params: dict[str, str], *, kind: str) -> dict[str, Any]:
        start = int(params.get("pageToken") or params.get("startIndex") or 0)
        size = int(params["maxResults"]) if params.get("maxResults") not in (None, "") else len(job.rows)
        int64_timestamps = str(params.get("formatOptions.useInt64Timestamp", "")).lower() == "true"
        page = job.rows[start : start + size]
        response: dict[str, Any] = {
            "kind": kind,
            "jobReference": _reference(job),
            "schema": {"fields": job.schema},
            "totalRows": str(len(job.rows)),
            "jobComplete": True,
            "totalBytesProcessed": str(job.bytes_processed),
            "cacheHit": False,
        }
        if size > 0:
            response["rows"] = [
                {"f": [{"v": encode(value, int64_timestamps)} for value in row]} for row in page
            ]
        if start + size < len(job.rows) and size > 0:
            response["pageToken"] = str(start + size)
        return response

    def _job_resource(self, job: _Job) -> dict[str, Any]:
        status: dict[str, Any] = {"state": job.state}
        if job.error:
            status["errorResult"] = job.error
            status["errors"] = [job.error]
        finished = job.state == "DONE" and not job.error
        query_stats: dict[str, Any] = {"statementType": "SELECT", "cacheHit": False}
        if finished:
            query_stats.update(
                totalBytesProcessed=str(job.bytes_processed),
                totalBytesBilled=str(job.bytes_billed),
                schema={"fields": job.schema},
            )
        return {
            "kind": "bigquery#job",
            "id": f"{job.project}:{job.location}.{job.job_id}",
            "jobReference": _reference(job),
            "configuration": job.configuration,
            "status": status,
            "statistics": {
                "creationTime": _millis(job.created),
                "startTime": _millis(job.created),
                "query": query_stats,
            },
        }

    def _referenced_tables(self, sql: str, configuration: dict[str, Any]) -> list[dict[str, str]]:
        tree = sqlglot.parse_one(to_duckdb(sql, configuration), read="duckdb")
        ctes = {cte.alias_or_name.lower() for cte in tree.find_all(exp.CTE)}
        references = []
        for table in tree.find_all(exp.Table):
            if table.db and table.name.lower() not in ctes:
                reference = {"projectId": self.project, "datasetId": table.db, "tableId": table.name}
                if reference not in references:
                    references.append(reference)
        return references

    def _take_failure(self, kind: str) -> _Failure | None:
        for position, failure in enumerate(self._failures):
            if failure.on in (kind, "any"):
                return self._failures.pop(position)
        return None

    def _bytes_for(self, sql: str) -> int:
        return self.bytes_processed(sql) if callable(self.bytes_processed) else int(self.bytes_processed)


def _reference(job: _Job) -> dict[str, str]:
    return {"projectId": job.project, "jobId": job.job_id, "location": job.location}


def _millis(seconds: float) -> str:
    return str(int(seconds * 1000))


def _json_body(request: PreparedRequest) -> dict[str, Any]:
    raw = request.body or b"{}"
    parsed = json.loads(raw.decode() if isinstance(raw, bytes) else str(raw))
    return parsed if isinstance(parsed, dict) else {}


def _query_params(request: PreparedRequest) -> dict[str, str]:
    from urllib.parse import parse_qsl, urlsplit

    return dict(parse_qsl(urlsplit(request.url or "").query))


def _path_part(request: PreparedRequest, after: str) -> str:
    parts = (request.path_url or "").split("?")[0].split("/")
    return parts[parts.index(after) + 1]


def _first_line(exc: Exception) -> str:
    return str(exc).strip().splitlines()[0][:300]


def _ok(payload: dict[str, Any]) -> _Response:
    return 200, {"Content-Type": "application/json"}, json.dumps(payload)


def _error(status: int, reason: str, message: str) -> _Response:
    """An error in the API's shape: {"error": {"code", "message", "errors": [{"reason", ...}], "status"}}."""
    names = {400: "INVALID_ARGUMENT", 401: "UNAUTHENTICATED", 403: "PERMISSION_DENIED", 404: "NOT_FOUND"}
    domain = "usageLimits" if reason in {"quotaExceeded", "rateLimitExceeded"} else "global"
    payload = {
        "error": {
            "code": status,
            "message": message,
            "errors": [{"message": message, "domain": domain, "reason": reason}],
            "status": names.get(status, "UNKNOWN"),
        }
    }
    return status, {"Content-Type": "application/json"}, json.dumps(payload)


@pytest.fixture
def fake_bigquery() -> Iterator[FakeBigQuery]:
    """A FakeBigQuery answering on ENDPOINT for the whole test; other `requests` traffic passes through."""
    fake = FakeBigQuery()
    with fake.serving() as mock:
        mock.add_passthru(re.compile(r"^(?!" + re.escape(fake.endpoint) + ")"))
        yield fake
