"""Our own faults and outages. The model's mistakes are tool results, not these."""

from __future__ import annotations


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


class StoreError(BlueprintError):
    """The conversation database cannot be reached or migrated."""


class LLMError(BlueprintError):
    """The model API failed after its retries, or refused our credentials."""


class MissingApiKeyError(LLMError):
    """A plain-language question arrived while no Anthropic API key is configured."""


class TurnCancelled(BlueprintError):
    """The user cancelled the turn in progress."""
