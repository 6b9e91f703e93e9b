"""How a tool runs as a direct `/command` (no model involved, so it works without an API key)."""

from __future__ import annotations

import shlex
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from tools.errors import ToolInputError

if TYPE_CHECKING:
    from tools.registry import ToolContext


@dataclass(frozen=True)
class DirectCommand:
    """`/name argument`: its usage line, a one-line summary, and how the argument becomes the tool's input.

    `parse` raises ToolInputError (or ValueError) with a message for the person who typed the command.
    """

    name: str
    usage: str
    summary: str
    parse: Callable[[ToolContext, str], dict[str, Any]]


def required(argument: str, example: str) -> str:
    """The argument, or a refusal showing an example when there is none."""
    if not argument:
        raise ToolInputError(f"This command needs an argument, for example: {example}")
    return argument


def whole_argument(field: str, example: str) -> Callable[[ToolContext, str], dict[str, Any]]:
    """A parser for commands whose whole argument is one input field (`/sql SELECT ...`)."""
    return lambda _, argument: {field: required(argument, example)}


def options(argument: str) -> tuple[list[str], dict[str, str]]:
    """Shell-like words of an argument: the bare ones, and the `key=value` ones as a dict."""
    try:
        words = shlex.split(argument)
    except ValueError as exc:  # an unclosed quote
        raise ToolInputError(f"Could not read the command's options: {exc}.") from None
    named = dict(word.split("=", 1) for word in words if "=" in word)
    return [word for word in words if "=" not in word], named
