"""users.lookupByEmail: the workspace's members, found by email (users_not_found otherwise), as Slack answers."""

from __future__ import annotations

import threading
from typing import Any

from tests.fakes.slack.argument_checks import SlackApiError, missing_fields
from tests.fakes.slack.ids import slack_id
from tests.fakes.slack.web_api import WebApiMethod
from tests.fakes.slack.workspace import Workspace


class UserMethods:
    """The members a test adds, and users.lookupByEmail over them."""

    def __init__(self, workspace: Workspace) -> None:
        self.workspace = workspace
        self._lock = threading.Lock()
        self._by_email: dict[str, dict[str, Any]] = {}

    def table(self) -> dict[str, WebApiMethod]:
        return {"users.lookupByEmail": self.lookup_by_email}

    def add_user(self, email: str, name: str) -> str:
        """A member with this email; returns the new user id."""
        user_id = slack_id("U")
        user = {
            "id": user_id,
            "team_id": self.workspace.app.team_id,
            "name": name,
            "deleted": False,
            "real_name": name,
            "is_bot": False,
            "profile": {"email": email, "real_name": name, "display_name": name},
        }
        with self._lock:
            self._by_email[email.lower()] = user
        return user_id

    def lookup_by_email(self, args: dict[str, Any]) -> dict[str, Any]:
        email = str(args.get("email") or "")
        if not email:
            raise missing_fields("email")
        with self._lock:
            user = self._by_email.get(email.lower())
        if user is None:
            raise SlackApiError("users_not_found")
        return {"user": dict(user)}
