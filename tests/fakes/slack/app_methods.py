"""The methods about the app itself: auth.test, the assistant thread status and prompts, the App Home view."""

from __future__ import annotations

import secrets
from typing import Any

from tests.fakes.slack.argument_checks import SlackApiError, missing_fields
from tests.fakes.slack.ids import slack_id
from tests.fakes.slack.web_api import WebApiMethod
from tests.fakes.slack.workspace import Workspace


class AppMethods:
    """auth.test, assistant.threads.setStatus, assistant.threads.setSuggestedPrompts and views.publish."""

    def __init__(self, workspace: Workspace) -> None:
        self.workspace = workspace

    def table(self) -> dict[str, WebApiMethod]:
        return {
            "auth.test": self.auth_test,
            "assistant.threads.setStatus": self.set_status,
            "assistant.threads.setSuggestedPrompts": self.set_suggested_prompts,
            "views.publish": self.publish_view,
        }

    def auth_test(self, _: dict[str, Any]) -> dict[str, Any]:
        app = self.workspace.app
        return {
            "url": f"https://{app.team_domain}.slack.com/",
            "team": "Fake Workspace",
            "user": "blueprintdata",
            "team_id": app.team_id,
            "user_id": app.bot_user_id,
            "bot_id": app.bot_id,
            "is_enterprise_install": False,
        }

    def set_status(self, args: dict[str, Any]) -> dict[str, Any]:
        missing = [name for name in ("channel_id", "thread_ts") if not args.get(name)]
        if missing or "status" not in args:
            raise missing_fields(*(missing or ["status"]))
        thread = (args["channel_id"], args["thread_ts"])
        self.workspace.statuses.setdefault(thread, []).append(str(args["status"]))
        return {}

    def set_suggested_prompts(self, args: dict[str, Any]) -> dict[str, Any]:
        if not args.get("channel_id") or not isinstance(args.get("prompts"), list):
            raise missing_fields("channel_id" if not args.get("channel_id") else "prompts")
        self.workspace.prompts[(args["channel_id"], args.get("thread_ts") or None)] = list(args["prompts"])
        return {}

    def publish_view(self, args: dict[str, Any]) -> dict[str, Any]:
        view = args.get("view")
        if not args.get("user_id") or not isinstance(view, dict):
            raise missing_fields("user_id" if not args.get("user_id") else "view")
        if view.get("type") != "home":
            raise SlackApiError(
                "invalid_arguments", response_metadata={"messages": ["[ERROR] view type must be home"]}
            )
        app, view_id = self.workspace.app, slack_id("V")
        published = {
            "id": view_id,
            "team_id": app.team_id,
            "type": "home",
            "blocks": view.get("blocks", []),
            "private_metadata": view.get("private_metadata", ""),
            "callback_id": view.get("callback_id", ""),
            "state": {"values": {}},
            "hash": secrets.token_hex(8),
            "title": view.get("title", {"type": "plain_text", "text": "View Title"}),
            "root_view_id": view_id,
            "app_id": app.app_id,
            "external_id": view.get("external_id", ""),
            "bot_id": app.bot_id,
        }
        self.workspace.home_views[args["user_id"]] = published
        return {"view": published}
