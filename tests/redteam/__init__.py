"""Hostile and benign SQL for the guard's red-team tests and its benchmark."""
