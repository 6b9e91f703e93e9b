"""A read-only BigQuery warehouse on google-cloud-bigquery's own client: dry run first, capped cost, paged rows."""

from __future__ import annotations

import concurrent.futures
import hashlib
import logging
import threading
import time
from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager

from google.api_core import exceptions as api_exceptions
from google.api_core import retry as retries
from google.cloud import bigquery

from tools.byte_sizes import human_bytes
from tools.errors import ToolInputError
from tools.results import Column, QueryResult
from tools.warehouse.bigquery_errors import bigquery_errors
from tools.warehouse.bigquery_target import BigQueryTarget, bigquery_client
from tools.warehouse.dialects.bigquery import BIGQUERY, BigQueryDialect
from tools.warehouse.result_budget import ResultBudget, ResultLimits
from tools.warehouse.row_cap import capped_sql

log = logging.getLogger(__name__)

_LIMIT_SETTING = "BLUEPRINTDATA_MAX_BYTES_SCANNED"
_ESTIMATE_TIMEOUT_SECONDS = 30.0
_LOOKUP_TIMEOUT_SECONDS = 10.0  # Table metadata and cancelling: small calls.
_LOOKUP_RETRY = bigquery.DEFAULT_RETRY.with_deadline(_LOOKUP_TIMEOUT_SECONDS)


class BigQueryWarehouse:
    """Runs checked SELECTs as BigQuery jobs: each one dry-run, refused above the byte cap, billed at most the cap."""

    def __init__(
        self,
        target: BigQueryTarget,
        *,
        max_bytes_scanned: int,
        page_size: int = 1000,
        client_factory: Callable[[BigQueryTarget], bigquery.Client] = bigquery_client,
        result_limits: ResultLimits | None = None,
    ) -> None:
        self._target = target
        self._result_limits = result_limits or ResultLimits()
        self._max_bytes = max_bytes_scanned
        self._page_size = page_size
        self._client_factory = client_factory
        self._client: bigquery.Client | None = None
        self._lock = threading.Lock()

    @property
    def dialect(self) -> BigQueryDialect:
        return BIGQUERY

    def estimate_bytes(self, sql: str) -> int | None:
        """Bytes the query would scan, from a dry run (free: BigQuery bills nothing for it)."""
        with self._errors(sql, _ESTIMATE_TIMEOUT_SECONDS):
            scanned = self._dry_run(sql, _ESTIMATE_TIMEOUT_SECONDS).total_bytes_processed
        return int(scanned) if scanned is not None else None

    def execute_readonly(
        self, sql: str, *, max_rows: int, timeout_seconds: float, session_id: str | None = None
    ) -> QueryResult:
        started = time.perf_counter()
        statement = capped_sql(sql, BIGQUERY.sqlglot_name, max_rows + 1)
        with self._errors(sql, timeout_seconds):
            plan = self._dry_run(statement, timeout_seconds)
        self._check_plan(plan, sql)
        config = bigquery.QueryJobConfig(
            maximum_bytes_billed=self._byte_cap(),  # BigQuery's own stop, should the estimate be wrong.
            labels=job_labels(session_id),
            use_query_cache=True,
            job_timeout_ms=max(1, int(timeout_seconds * 1000)),
            default_dataset=self._target.default_dataset,
            use_legacy_sql=False,
        )
        retry = bigquery.DEFAULT_RETRY.with_deadline(timeout_seconds)
        with self._errors(sql, timeout_seconds):
            job = self._get_client().query(
                statement, job_config=config, retry=retry, timeout=timeout_seconds, job_retry=None
            )
            try:
                budget, columns = self._read(job, max_rows, timeout_seconds, retry)
            except concurrent.futures.TimeoutError:
                self._cancel(job)
                raise
        return QueryResult(
            columns=columns,
            rows=budget.kept_rows(),
            truncated=budget.truncated,
            truncation_note=budget.note(),
            elapsed_ms=round((time.perf_counter() - started) * 1000, 2),
            bytes_scanned=job.total_bytes_processed,
            bytes_billed=job.total_bytes_billed,
        )

    @property
    def project(self) -> str:
        """The project tables belong to when a relation names none."""
        return self._target.project

    def held_permissions(self, table: str, permissions: Sequence[str]) -> list[str]:
        """Which of `permissions` these credentials hold on `project.dataset.table` (tables.testIamPermissions)."""
        answer = self._get_client().test_iam_permissions(
            table, list(permissions), retry=_LOOKUP_RETRY, timeout=_LOOKUP_TIMEOUT_SECONDS
        )
        return [str(permission) for permission in answer.get("permissions", [])]

    def close(self) -> None:
        with self._lock:
            if self._client is not None:
                self._client.close()  # type: ignore[no-untyped-call]
                self._client = None

    def _get_client(self) -> bigquery.Client:
        with self._lock:
            if self._client is None:
                self._client = self._client_factory(self._target)
            return self._client

    def _errors(self, sql: str, timeout_seconds: float) -> AbstractContextManager[None]:
        return bigquery_errors(sql=sql, timeout_seconds=timeout_seconds, source=self._target.source)

    def _dry_run(self, sql: str, timeout_seconds: float) -> bigquery.QueryJob:
        config = bigquery.QueryJobConfig(
            dry_run=True,
            use_query_cache=False,  # The estimate of a full run: a cached answer would say 0 bytes.
            default_dataset=self._target.default_dataset,
            use_legacy_sql=False,
        )
        retry = bigquery.DEFAULT_RETRY.with_deadline(timeout_seconds)
        return self._get_client().query(
            sql, job_config=config, retry=retry, timeout=timeout_seconds, job_retry=None
        )

    def _check_plan(self, plan: bigquery.QueryJob, sql: str) -> None:
        """Refuse what is not a SELECT (a second guard, BigQuery's own reading) or would scan over the cap."""
        if plan.statement_type != "SELECT":
            raise ToolInputError(
                f"Refused: BigQuery reads this as a {plan.statement_type or 'non-query'} statement; only one SELECT "
                "may run.",
                sql=sql,
            )
        scanned = plan.total_bytes_processed or 0
        cap = self._byte_cap()
        if scanned > cap:
            raise ToolInputError(
                f"Not run: this would scan {human_bytes(scanned)}; the limit is {human_bytes(cap)} "
                f"({self._cap_source()}). {self._narrowing_advice(plan)}",
                sql=sql,
            )

    def _byte_cap(self) -> int:
        profile_cap = self._target.maximum_bytes_billed
        return min(self._max_bytes, profile_cap) if profile_cap else self._max_bytes

    def _cap_source(self) -> str:
        profile_cap = self._target.maximum_bytes_billed
        if profile_cap and profile_cap < self._max_bytes:
            return f"maximum_bytes_billed in {self._target.source}"
        return _LIMIT_SETTING

    def _narrowing_advice(self, plan: bigquery.QueryJob) -> str:
        partitions = self._partition_columns(plan)
        if partitions:
            named = "; ".join(f"{column} of {table}" for table, column in partitions)
            return f"Filter on the partition column {named}, and select only the columns you need."
        return (
            "Filter on a date range and select only the columns you need (BigQuery bills the columns read)."
        )

    def _partition_columns(self, plan: bigquery.QueryJob) -> list[tuple[str, str]]:
        """(table, partition column) for the tables the dry run says the query reads, as tables.get knows them."""
        found = []
        for reference in list(plan.referenced_tables)[:5]:
            try:
                table = self._get_client().get_table(
                    reference, timeout=_LOOKUP_TIMEOUT_SECONDS, retry=_LOOKUP_RETRY
                )
            except api_exceptions.GoogleAPIError:
                continue  # Only advice: a table we cannot look up is simply not named.
            column = None
            if table.time_partitioning is not None:
                # Ingestion-time partitioning has no column; its pseudo-column filters the same way.
                column = table.time_partitioning.field or "_PARTITIONTIME"
            elif table.range_partitioning is not None:
                column = table.range_partitioning.field
            if column:
                found.append((table.table_id, column))
        return found

    def _read(
        self, job: bigquery.QueryJob, max_rows: int, timeout_seconds: float, retry: retries.Retry
    ) -> tuple[ResultBudget, list[Column]]:
        """Rows page by page, stopping at max_rows + 1 (enough to know there are more) or at the byte cap."""
        iterator = job.result(
            page_size=min(self._page_size, max_rows + 1),
            max_results=max_rows + 1,
            timeout=timeout_seconds,
            retry=retry,
        )
        budget = ResultBudget(self._result_limits, max_rows)
        for page in iterator.pages:
            for row in page:
                budget.add(row.values())
                if budget.full:
                    break
            if budget.full:
                break
        columns = [Column(name=field.name, type=field.field_type or "") for field in iterator.schema]
        return budget, columns

    def _cancel(self, job: bigquery.QueryJob) -> None:
        """Stop a job that ran past the time limit, so that it costs nothing more."""
        try:
            job.cancel(timeout=_LOOKUP_TIMEOUT_SECONDS, retry=_LOOKUP_RETRY)
        except api_exceptions.GoogleAPIError as exc:
            log.warning("could not cancel BigQuery job %s: %s", job.job_id, exc)


def job_labels(session_id: str | None) -> dict[str, str]:
    """Labels for cost attribution in BigQuery's billing export; the session id is hashed, never shown."""
    labels = {"app": "blueprintdata"}
    if session_id:
        labels["session"] = hashlib.sha256(session_id.encode()).hexdigest()[:16]
    return labels
