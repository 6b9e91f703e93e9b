"""What warehouse connectors say when a query cannot run, in one place so that every connector says it alike."""

from __future__ import annotations


def query_timed_out(timeout_seconds: float, hint: str = "filter on a date range") -> str:
    """The query ran past its time limit and was stopped; the advice names what to narrow."""
    return (
        f"The query took longer than {timeout_seconds:g} s and was stopped. Narrow it: {hint}, aggregate in SQL, "
        "or select fewer columns."
    )


def query_out_of_memory(limit_bytes: int) -> str:
    """An in-process engine stopped the query at its memory limit; names the setting that raises it."""
    return (
        f"The query needed more than the {limit_bytes // 2**20:,} MiB of memory the warehouse may use "
        "(BLUEPRINTDATA_DUCKDB_MEMORY_LIMIT) and was stopped. Narrow it: filter, aggregate in SQL, or select "
        "fewer columns."
    )
