"""Profiling dbt models in the warehouse: one aggregate query per model, stored for prompts and tools."""
