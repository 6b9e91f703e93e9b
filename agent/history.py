"""Turning stored messages into a valid, bounded conversation for the Messages API."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any, Protocol

# Old tool results are the bulk of a long conversation; beyond the latest turns only their gist matters.
_OLD_TOOL_RESULT_CHARS = 1_500
_RECENT_MESSAGES_KEPT_WHOLE = 6
_TRIMMED_NOTE = "[Earlier messages of this conversation were left out to stay within the context budget.]"


class MessageLike(Protocol):
    """A stored message: what the store returns."""

    @property
    def role(self) -> str: ...

    @property
    def content(self) -> list[dict[str, Any]]: ...


def estimate_tokens(value: object) -> int:
    """A cheap, conservative token estimate (about four characters a token)."""
    return len(json.dumps(value, ensure_ascii=False, default=str)) // 4 + 1


def conversation_for_model(stored: Sequence[MessageLike], token_budget: int) -> list[dict[str, Any]]:
    """The stored history as API messages: well-formed, old tool output shortened, oldest turns dropped."""
    messages = _well_formed([{"role": m.role, "content": list(m.content)} for m in stored])
    recent_from = max(0, len(messages) - _RECENT_MESSAGES_KEPT_WHOLE)
    messages = [
        _shorten_tool_results(message) if position < recent_from else message
        for position, message in enumerate(messages)
    ]
    return _within_budget(messages, token_budget)


def _well_formed(messages: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Repair what an interrupted turn leaves: unanswered tool calls, orphan results, same-role runs."""
    repaired: list[dict[str, Any]] = []
    for index, message in enumerate(messages):
        content = list(message["content"])
        if message["role"] == "assistant":
            following = messages[index + 1] if index + 1 < len(messages) else None
            answered = _tool_result_ids(following) if following and following["role"] == "user" else set()
            content = [
                block for block in content if block.get("type") != "tool_use" or block.get("id") in answered
            ]
        else:
            previous = repaired[-1] if repaired and repaired[-1]["role"] == "assistant" else None
            asked = (
                {b.get("id") for b in previous["content"] if b.get("type") == "tool_use"}
                if previous
                else set()
            )
            content = [
                block
                for block in content
                if block.get("type") != "tool_result" or block.get("tool_use_id") in asked
            ]
        if not content:
            continue
        if repaired and repaired[-1]["role"] == message["role"]:
            repaired[-1]["content"] = [*repaired[-1]["content"], *content]
        else:
            repaired.append({"role": message["role"], "content": content})
    while repaired and repaired[0]["role"] != "user":
        repaired.pop(0)
    return repaired


def _tool_result_ids(message: dict[str, Any]) -> set[str]:
    return {b.get("tool_use_id", "") for b in message["content"] if b.get("type") == "tool_result"}


def _shorten_tool_results(message: dict[str, Any]) -> dict[str, Any]:
    content = []
    for block in message["content"]:
        if block.get("type") == "tool_result":
            text = _tool_result_text(block)
            if len(text) > _OLD_TOOL_RESULT_CHARS:
                block = {**block, "content": text[:_OLD_TOOL_RESULT_CHARS] + "\n[...shortened]"}
        content.append(block)
    return {"role": message["role"], "content": content}


def _tool_result_text(block: dict[str, Any]) -> str:
    content = block.get("content", "")
    if isinstance(content, str):
        return content
    return "\n".join(part.get("text", "") for part in content if isinstance(part, dict))


def _within_budget(messages: list[dict[str, Any]], token_budget: int) -> list[dict[str, Any]]:
    """Drop whole exchanges from the front until the rest fits; always keep the newest user message."""
    sizes = [estimate_tokens(message) for message in messages]
    total = sum(sizes)
    start = 0
    while total > token_budget and start < len(messages) - 1:
        total -= sizes[start]
        start += 1
        # A conversation must restart on a user message that is a question, not on tool results.
        while start < len(messages) - 1 and not _starts_exchange(messages[start]):
            total -= sizes[start]
            start += 1
    kept = messages[start:]
    if start > 0 and kept:
        note = {"type": "text", "text": _TRIMMED_NOTE}
        kept = [{"role": "user", "content": [note, *kept[0]["content"]]}, *kept[1:]]
    return kept


def _starts_exchange(message: dict[str, Any]) -> bool:
    return message["role"] == "user" and not any(b.get("type") == "tool_result" for b in message["content"])
