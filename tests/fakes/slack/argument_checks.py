"""The argument checks Web API methods share, failing with Slack's error answers."""

from __future__ import annotations

from typing import Any

from tests.fakes.slack.blocks import block_errors

MAX_MESSAGE_TEXT = 40_000


class SlackApiError(Exception):
    """A Web API error answered as HTTP 200 {"ok": false, "error": ...}."""

    def __init__(self, error: str, **extra: Any) -> None:
        super().__init__(error)
        self.error = error
        self.extra = extra


def missing_fields(*names: str) -> SlackApiError:
    """Slack's answer to a call without required arguments."""
    messages = [f"[ERROR] missing required field: {name}" for name in names]
    return SlackApiError("invalid_arguments", response_metadata={"messages": messages})


def required_channel(args: dict[str, Any]) -> str:
    """The `channel` (or `channel_id`) argument; channel_not_found without one."""
    channel = args.get("channel") or args.get("channel_id")
    if not channel or not isinstance(channel, str):
        raise SlackApiError("channel_not_found")
    return channel


def validated_content(args: dict[str, Any]) -> tuple[str, list[dict[str, Any]]]:
    """A message's text and blocks, refused as Slack refuses an empty, too long or invalid message."""
    text = str(args.get("text") or args.get("markdown_text") or "")
    blocks = args.get("blocks")
    if blocks in (None, ""):
        blocks = []
    if not isinstance(blocks, list):
        raise SlackApiError("invalid_blocks_format")
    if not text and not blocks and not args.get("attachments"):
        raise SlackApiError("no_text")
    if len(text) > MAX_MESSAGE_TEXT:
        raise SlackApiError("msg_too_long")
    check_blocks(blocks)
    return text, blocks


def check_blocks(blocks: list[Any]) -> None:
    """Refuse blocks Slack would reject, with its invalid_blocks answer."""
    errors = block_errors(blocks)
    if errors:
        messages = [f"[ERROR] {error}" for error in errors]
        raise SlackApiError("invalid_blocks", errors=errors, response_metadata={"messages": messages})
