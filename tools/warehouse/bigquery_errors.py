"""BigQuery's failures, sorted: SQL the model can fix (ToolInputError) from our faults and outages (WarehouseError)."""

from __future__ import annotations

import concurrent.futures
from collections.abc import Iterator
from contextlib import contextmanager

import requests
from google.api_core import exceptions as api_exceptions
from google.auth import exceptions as auth_exceptions

from tools.errors import ToolInputError, WarehouseError
from tools.warehouse.messages import query_timed_out

_QUOTA_REASONS = frozenset({"quotaExceeded", "rateLimitExceeded"})
_TIMEOUT_REASONS = frozenset({"timeout", "stopped"})
_AUTH_REASONS = frozenset({"authError", "unauthorized"})


@contextmanager
def bigquery_errors(*, sql: str, timeout_seconds: float, source: str) -> Iterator[None]:
    """Turn what the BigQuery client raises into our two kinds of error, each naming what to do."""
    try:
        yield
    except (concurrent.futures.TimeoutError, requests.exceptions.Timeout):
        raise ToolInputError(query_timed_out(timeout_seconds, _PARTITION_HINT), sql=sql) from None
    except api_exceptions.RetryError as exc:
        # Retries ran out: judge by the last error they saw.
        cause = exc.cause
        if isinstance(cause, api_exceptions.GoogleAPICallError):
            raise translate(cause, sql=sql, timeout_seconds=timeout_seconds, source=source) from None
        raise WarehouseError(
            f"BigQuery did not answer in time ({_detail(exc)}); try again shortly."
        ) from None
    except api_exceptions.GoogleAPICallError as exc:
        raise translate(exc, sql=sql, timeout_seconds=timeout_seconds, source=source) from None
    except auth_exceptions.GoogleAuthError as exc:
        raise WarehouseError(
            f"BigQuery credentials could not be used: {_detail(exc)}. Check the auth method and keyfile in "
            f"{source}, or run `gcloud auth application-default login`."
        ) from None
    except requests.exceptions.RequestException as exc:
        raise WarehouseError(
            f"Cannot reach BigQuery: {_detail(exc)}. Check the network, and the API endpoint if {source} or "
            "BLUEPRINTDATA_BIGQUERY_API_ENDPOINT sets one."
        ) from None


_PARTITION_HINT = "filter on the partition column (often a date)"


def translate(
    exc: api_exceptions.GoogleAPICallError, *, sql: str, timeout_seconds: float, source: str
) -> Exception:
    """The error to raise for one API failure."""
    reason = _reason(exc)
    detail = _detail(exc)
    code = exc.code or 0
    if code == 401 or reason in _AUTH_REASONS:
        return WarehouseError(
            f"BigQuery refused the credentials: {detail}. Check the auth method and keyfile in {source}, or run "
            "`gcloud auth application-default login`."
        )
    if reason in _QUOTA_REASONS:
        return WarehouseError(
            f"BigQuery quota exceeded ({reason}): {detail}. Wait a minute and ask again; if it keeps happening, "
            "raise the project's BigQuery quotas in the Google Cloud console (IAM & Admin, Quotas)."
        )
    if reason in _TIMEOUT_REASONS or "timed out" in detail.lower():
        return ToolInputError(query_timed_out(timeout_seconds, _PARTITION_HINT), sql=sql)
    if reason == "bytesBilledLimitExceeded":
        return ToolInputError(
            f"Not run: {detail}. Scan less: {_PARTITION_HINT} and select only the columns you need.", sql=sql
        )
    if code == 403:
        return WarehouseError(
            f"BigQuery denied access: {detail}. The account in {source} needs the BigQuery Job User role on the "
            "project and BigQuery Data Viewer on the datasets it reads."
        )
    if code in (400, 404):
        return ToolInputError(f"BigQuery rejected the query: {detail}", sql=sql)
    return WarehouseError(f"BigQuery failed ({code or 'no status'}): {detail}. Try again shortly.")


def _reason(exc: api_exceptions.GoogleAPICallError) -> str:
    errors = exc.errors or []
    first = errors[0] if errors else None
    return str(first.get("reason", "")) if isinstance(first, dict) else ""


def _detail(exc: BaseException) -> str:
    errors = getattr(exc, "errors", None) or []
    first = errors[0] if errors else None
    if isinstance(first, dict) and first.get("message"):
        text = str(first["message"])
    else:
        text = str(getattr(exc, "message", None) or exc)
    # The client appends "Location: ... Job ID: ..." on later lines; the first line is the message.
    lines = text.strip().splitlines()
    return " ".join(lines[0].split())[:400].rstrip(".") if lines else type(exc).__name__
