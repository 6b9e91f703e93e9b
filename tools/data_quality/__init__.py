"""Data quality checks of one dbt model, from the tests and freshness its project declares."""
