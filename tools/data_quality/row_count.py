"""Row count against the latest stored profile of the model."""

from __future__ import annotations

from datetime import datetime
from typing import Protocol

from tools.data_quality.outcomes import CheckOutcome, Status


class EarlierProfile(Protocol):
    """What this check needs from a stored profile."""

    @property
    def row_count(self) -> int | None: ...

    @property
    def profiled_at(self) -> datetime: ...


def row_count_outcome(
    current: int, earlier: EarlierProfile | None, max_change_percent: float
) -> CheckOutcome:
    """Failed when the count moved more than `max_change_percent` since the profile; a note when none exists."""
    if earlier is None or earlier.row_count is None:
        return CheckOutcome("row_count", "", "note", detail=f"{current:,} rows; no earlier profile")
    before = earlier.row_count
    when = earlier.profiled_at.strftime("%Y-%m-%d %H:%M")
    if before == 0:
        change = "from 0" if current else "unchanged at 0"
        status: Status = "failed" if current else "passed"
        return CheckOutcome("row_count", "", status, detail=f"{current:,} rows, {change} (profile of {when})")
    percent = (current - before) / before * 100
    changed: Status = "failed" if abs(percent) > max_change_percent else "passed"
    detail = (
        f"{current:,} rows against {before:,} in the profile of {when} ({percent:+.1f}%; "
        f"threshold ±{max_change_percent:g}%)"
    )
    return CheckOutcome("row_count", "", changed, detail=detail)
