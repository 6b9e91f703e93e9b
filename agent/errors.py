"""The agent's own faults and outages; those the tools raise too live in tools.errors."""

from __future__ import annotations

from tools.errors import BlueprintError


class StoreError(BlueprintError):
    """The conversation database cannot be reached or migrated."""


class LLMError(BlueprintError):
    """The model API failed after its retries, or refused our credentials."""


class MissingApiKeyError(LLMError):
    """A plain-language question arrived while no Anthropic API key is configured."""


class MessageTooLong(BlueprintError):
    """A message longer than BLUEPRINTDATA_MAX_MESSAGE_CHARS: refused before anything stores or echoes it."""


class TurnCancelled(BlueprintError):
    """The user cancelled the turn in progress."""
