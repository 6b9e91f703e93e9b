"""Sentences the tools say to a person directly (through `/commands`), in one place."""

from __future__ import annotations

NO_RESULT_TO_CHART = "There is no query result to chart yet: run /sql SELECT ... first."
NO_SERIES_TO_CHECK = (
    "There is no query result to check yet: name a dbt metric (/anomalies metric=revenue) or run "
    "/sql SELECT day, sum(amount) ... GROUP BY 1 first."
)
