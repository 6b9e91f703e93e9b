"""Scheduled anomaly alerts: definitions, evaluation in the warehouse, and runs recorded exactly once."""
