"""chat.startStream, chat.appendStream and chat.stopStream: a reply written into one message as it is made."""

from __future__ import annotations

from typing import Any

from tests.fakes.slack.argument_checks import (
    SlackApiError,
    check_blocks,
    missing_fields,
    required_channel,
)
from tests.fakes.slack.blocks import MAX_MARKDOWN_TEXT
from tests.fakes.slack.messages import SlackMessage
from tests.fakes.slack.web_api import WebApiMethod
from tests.fakes.slack.workspace import Workspace


class StreamingMethods:
    """The streaming methods; a streamed message is "in_progress" until stopped, or expired by the test."""

    def __init__(self, workspace: Workspace) -> None:
        self.workspace = workspace

    def table(self) -> dict[str, WebApiMethod]:
        return {
            "chat.startStream": self.start,
            "chat.appendStream": self.append,
            "chat.stopStream": self.stop,
        }

    def expire(self, channel: str, ts: str) -> None:
        """End a streamed message server-side, as Slack does after a few minutes."""
        with self.workspace.lock:
            self.workspace.find(channel, ts).streaming = "expired"

    def start(self, args: dict[str, Any]) -> dict[str, Any]:
        channel = required_channel(args)
        if not args.get("thread_ts"):
            raise missing_fields("thread_ts")
        message = self.workspace.post(channel, "", [], args["thread_ts"])
        message.streaming = "in_progress"
        _append(message, args)
        return {"channel": channel, "ts": message.ts}

    def append(self, args: dict[str, Any]) -> dict[str, Any]:
        message = self._streaming_message(args)
        _append(message, args)
        return {"channel": message.channel, "ts": message.ts}

    def stop(self, args: dict[str, Any]) -> dict[str, Any]:
        message = self._streaming_message(args)
        blocks = args.get("blocks") or []
        if not isinstance(blocks, list):
            raise SlackApiError("invalid_blocks_format")
        check_blocks(blocks)
        _append(message, args)
        message.blocks = message.blocks + blocks
        message.metadata = args.get("metadata") or message.metadata
        message.streaming = "completed"
        return {"channel": message.channel, "ts": message.ts, "message": self.workspace.render(message)}

    def _streaming_message(self, args: dict[str, Any]) -> SlackMessage:
        message = self.workspace.find(required_channel(args), args.get("ts"))
        if message.streaming != "in_progress":
            raise SlackApiError("message_not_in_streaming_state")
        return message


def _append(message: SlackMessage, args: dict[str, Any]) -> None:
    """Add a call's markdown_text and markdown chunks to the text; keep its task and plan chunks."""
    pieces = [args["markdown_text"]] if args.get("markdown_text") else []
    for chunk in args.get("chunks") or []:
        if chunk.get("type") == "markdown_text":
            pieces.append(chunk.get("text", ""))
        else:
            message.chunks.append(chunk)
    if any(len(piece) > MAX_MARKDOWN_TEXT for piece in pieces):
        raise SlackApiError("msg_too_long")
    message.text += "".join(pieces)
