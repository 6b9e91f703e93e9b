"""A fixture shaped like dbt's jaffle-shop semantic layer: generated data and its semantic manifest."""
