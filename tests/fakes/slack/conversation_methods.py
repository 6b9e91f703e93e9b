"""conversations.replies, conversations.history, conversations.open, reactions.add and reactions.remove: reading
a thread or a channel, opening a DM with a person, and reacting to messages."""

from __future__ import annotations

from typing import Any

from tests.fakes.slack.argument_checks import SlackApiError, missing_fields, required_channel
from tests.fakes.slack.ids import dm_channel, ts_key
from tests.fakes.slack.messages import SlackMessage
from tests.fakes.slack.web_api import WebApiMethod
from tests.fakes.slack.workspace import Workspace


class ConversationMethods:
    """The methods that read a thread's history and put the app's reactions on messages."""

    def __init__(self, workspace: Workspace) -> None:
        self.workspace = workspace

    def table(self) -> dict[str, WebApiMethod]:
        return {
            "conversations.replies": self.replies,
            "conversations.history": self.channel_history,
            "conversations.open": self.open,
            "reactions.add": self.add_reaction,
            "reactions.remove": self.remove_reaction,
        }

    def replies(self, args: dict[str, Any]) -> dict[str, Any]:
        channel = required_channel(args)
        if not args.get("ts"):
            raise missing_fields("ts")
        thread = [
            message
            for message in self.workspace.history.values()
            if message.channel == channel
            and not message.deleted
            and args["ts"] in (message.ts, message.thread_ts)
        ]
        if not thread:
            raise SlackApiError("thread_not_found")
        thread.sort(key=lambda message: ts_key(message.ts))
        rendered = [self.workspace.render(message) for message in thread]
        replies = [message for message in thread if message.ts != args["ts"]]
        if rendered[0]["ts"] == args["ts"] and replies:
            rendered[0]["reply_count"] = len(replies)
            rendered[0]["reply_users"] = sorted({message.user for message in replies})
            rendered[0]["latest_reply"] = replies[-1].ts
        return {"messages": rendered, "has_more": False}

    def channel_history(self, args: dict[str, Any]) -> dict[str, Any]:
        """A channel's messages, newest first, without thread replies (as Slack, one page of `limit`)."""
        channel = required_channel(args)
        top = [
            message
            for message in self.workspace.history.values()
            if message.channel == channel and not message.deleted and message.thread_ts in (None, message.ts)
        ]
        top.sort(key=lambda message: ts_key(message.ts), reverse=True)
        limit = int(args.get("limit") or 100)
        return {
            "messages": [self.workspace.render(message) for message in top[:limit]],
            "has_more": len(top) > limit,
        }

    def open(self, args: dict[str, Any]) -> dict[str, Any]:
        """A DM with one person (the app's own, always the same id): Slack answers `no_op`/`already_open` once
        it exists; several people would make a group DM, which the app never opens."""
        if args.get("channel"):  # Resuming a DM by its id.
            return {"no_op": True, "already_open": True, "channel": {"id": str(args["channel"])}}
        users = [user for user in str(args.get("users") or "").split(",") if user]
        if not users:
            raise SlackApiError("users_list_not_supplied")
        if len(users) > 1:
            raise SlackApiError("not_implemented", detail="the fake opens one-to-one DMs only")
        if not users[0].startswith(("U", "W")):
            raise SlackApiError("user_not_found")
        channel = dm_channel(users[0])
        opened = channel in self.workspace.opened_dms
        self.workspace.opened_dms.add(channel)
        found: dict[str, Any] = {"id": channel}
        if str(args.get("return_im", "")).lower() in {"1", "true"}:
            found |= {"is_im": True, "user": users[0], "created": 0, "is_user_deleted": False}
        return {"no_op": opened, "already_open": opened, "channel": found}

    def add_reaction(self, args: dict[str, Any]) -> dict[str, Any]:
        message, name = self._reaction_target(args)
        users = message.reactions.setdefault(name, [])
        if self.workspace.app.bot_user_id in users:
            raise SlackApiError("already_reacted")
        users.append(self.workspace.app.bot_user_id)
        return {}

    def remove_reaction(self, args: dict[str, Any]) -> dict[str, Any]:
        message, name = self._reaction_target(args)
        users = message.reactions.get(name, [])
        if self.workspace.app.bot_user_id not in users:
            raise SlackApiError("no_reaction")
        users.remove(self.workspace.app.bot_user_id)
        return {}

    def _reaction_target(self, args: dict[str, Any]) -> tuple[SlackMessage, str]:
        """The message at `timestamp` and the emoji's name."""
        message = self.workspace.find(required_channel(args), args.get("timestamp"))
        return message, str(args.get("name", ""))
