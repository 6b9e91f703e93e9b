"""A tool call the model asked for, and the result the agent sends back for it."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class ToolCall:
    """One `tool_use` block of a model reply."""

    id: str
    name: str
    input: dict[str, Any]

    @classmethod
    def from_block(cls, block: dict[str, Any]) -> ToolCall:
        """From the block as the Messages API returns it (its input is a copy: tools may not change history)."""
        return cls(id=str(block["id"]), name=str(block["name"]), input=dict(block.get("input") or {}))


@dataclass(frozen=True)
class ToolResult:
    """The `tool_result` block answering a ToolCall; `is_error` lets the model correct itself."""

    tool_use_id: str
    content: str
    is_error: bool = False

    def to_block(self) -> dict[str, Any]:
        block: dict[str, Any] = {
            "type": "tool_result",
            "tool_use_id": self.tool_use_id,
            "content": self.content,
        }
        if self.is_error:
            block["is_error"] = True
        return block
