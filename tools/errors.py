"""The errors tools raise: the model's mistakes (ToolInputError) and our own faults and outages (BlueprintError).

The model's mistakes are returned to it as `is_error` results so it can correct itself; the rest are rendered by a
front door as one clear line.
"""

from __future__ import annotations


class ToolInputError(Exception):
    """Bad tool input (unknown model, refused SQL, SQL error): the model can correct it and retry."""

    def __init__(self, message: str, *, sql: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.sql = sql


class BlueprintError(Exception):
    """Base of every error a front door renders as one clear line (no traceback)."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    def __str__(self) -> str:
        return self.message


class ConfigError(BlueprintError):
    """A setting is missing or has a value we cannot use."""


class DbtArtifactError(BlueprintError):
    """A dbt artifact is missing or unreadable; the message names the dbt command that produces it."""


class WarehouseError(BlueprintError):
    """The warehouse cannot be reached or configured."""
