"""The chat.* methods that post, edit, delete and link to messages."""

from __future__ import annotations

from typing import Any

from tests.fakes.slack.argument_checks import (
    SlackApiError,
    missing_fields,
    required_channel,
    validated_content,
)
from tests.fakes.slack.web_api import WebApiMethod
from tests.fakes.slack.workspace import Workspace


class ChatMethods:
    """chat.postMessage, chat.update, chat.delete, chat.postEphemeral and chat.getPermalink."""

    def __init__(self, workspace: Workspace) -> None:
        self.workspace = workspace

    def table(self) -> dict[str, WebApiMethod]:
        return {
            "chat.postMessage": self.post_message,
            "chat.update": self.update,
            "chat.delete": self.delete,
            "chat.postEphemeral": self.post_ephemeral,
            "chat.getPermalink": self.get_permalink,
        }

    def post_message(self, args: dict[str, Any]) -> dict[str, Any]:
        channel = required_channel(args)
        text, blocks = validated_content(args)
        message = self.workspace.post(channel, text, blocks, args.get("thread_ts") or None)
        message.metadata = args.get("metadata") or None
        return {"channel": channel, "ts": message.ts, "message": self.workspace.render(message)}

    def update(self, args: dict[str, Any]) -> dict[str, Any]:
        message = self.workspace.find_own(required_channel(args), args.get("ts"), "cant_update_message")
        if not args.get("text") and "blocks" not in args and not args.get("markdown_text"):
            raise SlackApiError("no_text")
        # Slack keeps the text or the blocks that an update leaves out.
        merged = {"text": message.text, "blocks": message.blocks, **args}
        if args.get("markdown_text"):
            merged["text"] = args["markdown_text"]
        text, blocks = validated_content(merged)
        message.replace_content(text, blocks, self.workspace.clock.next_ts())
        return {
            "channel": message.channel,
            "ts": message.ts,
            "text": text,
            "message": self.workspace.render(message),
        }

    def delete(self, args: dict[str, Any]) -> dict[str, Any]:
        message = self.workspace.find_own(required_channel(args), args.get("ts"), "cant_delete_message")
        message.deleted = True
        return {"channel": message.channel, "ts": message.ts}

    def post_ephemeral(self, args: dict[str, Any]) -> dict[str, Any]:
        channel = required_channel(args)
        if not args.get("user"):
            raise missing_fields("user")
        text, blocks = validated_content(args)
        thread_ts = args.get("thread_ts") or None
        message = self.workspace.post_ephemeral(channel, args["user"], text, blocks, thread_ts)
        return {"message_ts": message.ts}

    def get_permalink(self, args: dict[str, Any]) -> dict[str, Any]:
        channel = required_channel(args)
        message = self.workspace.find(channel, args.get("message_ts"))
        domain = self.workspace.app.team_domain
        link = f"https://{domain}.slack.com/archives/{channel}/p{message.ts.replace('.', '')}"
        if message.thread_ts and message.thread_ts != message.ts:
            link += f"?thread_ts={message.thread_ts}&cid={channel}"
        return {"channel": channel, "permalink": link}
