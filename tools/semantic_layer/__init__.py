"""The dbt semantic layer compiled locally: MetricFlow turns metric queries into the warehouse's SQL.

No dbt platform and no dbt-core: MetricFlow reads target/semantic_manifest.json and renders SQL; our own
warehouse connection runs it, after the same read-only guard, cost checks and row caps as run_query.
"""
