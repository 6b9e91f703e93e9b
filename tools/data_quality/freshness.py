"""Freshness: which column tells when data last arrived, and whether that is too long ago."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

from tools.data_quality.declared import DeclaredChecks
from tools.data_quality.outcomes import CheckOutcome, Status
from tools.dbt.nodes import DbtNode

# Column names that say when a row was loaded, ahead of event times such as order_date.
_LOAD_HINTS = ("loaded", "ingested", "synced", "extracted", "inserted", "updated", "created")


def time_column(node: DbtNode, declared: DeclaredChecks) -> str | None:
    """The source's `loaded_at_field`, else the column that looks most like a load or event time."""
    if declared.freshness is not None and declared.freshness.loaded_at_field:
        return declared.freshness.loaded_at_field
    candidates = node.time_columns()
    if not candidates:
        return None

    def rank(name: str) -> int:
        lowered = name.lower()
        found = node.column(name)
        kind = (found.data_type or "").lower() if found is not None else ""
        if any(hint in lowered for hint in _LOAD_HINTS):
            return 0
        if "time" in kind or lowered.endswith(("_at", "_ts")):
            return 1
        return 2

    return min(candidates, key=lambda name: (rank(name), candidates.index(name)))


def threshold(declared: DeclaredChecks, default_hours: float) -> tuple[float, str]:
    """Hours of age allowed, and where that number comes from: dbt's warn_after, else our setting."""
    if declared.freshness is not None and declared.freshness.warn_after_hours:
        return declared.freshness.warn_after_hours, "dbt freshness warn_after"
    return default_hours, "BLUEPRINTDATA_QUALITY_FRESHNESS_HOURS"


def freshness_outcome(
    column: str, latest: Any, threshold_hours: float, source_of_threshold: str, now: datetime
) -> CheckOutcome:
    """Passed when the latest value is at most `threshold_hours` old; a date counts as the end of its day."""
    threshold = f"threshold {_duration(timedelta(hours=threshold_hours))} ({source_of_threshold})"
    if latest is None:
        return CheckOutcome("freshness", column, "failed", detail=f"no rows with a {column}; {threshold}")
    arrived = _as_utc(latest)
    if arrived is None:
        return CheckOutcome(
            "freshness", column, "error", detail=f"latest {column} {latest!r} is not a date or timestamp"
        )
    age = now - arrived
    status: Status = "failed" if age > timedelta(hours=threshold_hours) else "passed"
    shown = latest.isoformat() if isinstance(latest, date) else str(latest)
    old = f"{_duration(age)} old" if age >= timedelta(0) else "in the future"
    return CheckOutcome("freshness", column, status, detail=f"{old}; {threshold}", examples=(shown,))


def _as_utc(value: Any) -> datetime | None:
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value)
        except ValueError:
            return None
    if isinstance(value, datetime):
        # A timestamp without a zone is read as UTC, as dbt's source freshness reads it.
        return value if value.tzinfo is not None else value.replace(tzinfo=UTC)
    if isinstance(value, date):
        return datetime(value.year, value.month, value.day, tzinfo=UTC) + timedelta(days=1)
    return None


def _duration(span: timedelta) -> str:
    hours = span.total_seconds() / 3600
    if hours < 1:
        return f"{span.total_seconds() / 60:.0f} min"
    if hours < 48:
        return f"{hours:.0f} h" if hours >= 10 or hours == int(hours) else f"{hours:.1f} h"
    return f"{hours / 24:,.0f} days"
