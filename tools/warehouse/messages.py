"""What warehouse connectors say when a query cannot run, in one place so that every connector says it alike."""

from __future__ import annotations


def query_timed_out(timeout_seconds: float, hint: str = "filter on a date range") -> str:
    """The query ran past its time limit and was stopped; the advice names what to narrow."""
    return (
        f"The query took longer than {timeout_seconds:g} s and was stopped. Narrow it: {hint}, aggregate in SQL, "
        "or select fewer columns."
    )
