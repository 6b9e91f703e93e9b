"""users.lookupByEmail and users.list: the workspace's members as Slack answers (users_not_found for an unknown
email; the member list in pages, with `response_metadata.next_cursor` empty on the last page)."""

from __future__ import annotations

import base64
import binascii
import threading
from typing import Any

from tests.fakes.slack.argument_checks import SlackApiError, missing_fields
from tests.fakes.slack.ids import slack_id
from tests.fakes.slack.web_api import WebApiMethod
from tests.fakes.slack.workspace import Workspace

# Slack answers at most this many members a page, whatever `limit` asks for.
MAX_PAGE = 1000


class UserMethods:
    """The members a test adds, and users.lookupByEmail and users.list over them."""

    def __init__(self, workspace: Workspace) -> None:
        self.workspace = workspace
        self._lock = threading.Lock()
        self._by_email: dict[str, dict[str, Any]] = {}
        self._members: list[dict[str, Any]] = []

    def table(self) -> dict[str, WebApiMethod]:
        return {"users.lookupByEmail": self.lookup_by_email, "users.list": self.users_list}

    def add_user(
        self,
        email: str,
        name: str,
        *,
        display_name: str | None = None,
        real_name: str | None = None,
        deleted: bool = False,
    ) -> str:
        """A member with this email (and the names Slack shows); returns the new user id."""
        user_id = slack_id("U")
        user = {
            "id": user_id,
            "team_id": self.workspace.app.team_id,
            "name": name,
            "deleted": deleted,
            "real_name": real_name if real_name is not None else name,
            "is_bot": False,
            "profile": {
                "email": email,
                "real_name": real_name if real_name is not None else name,
                "display_name": display_name if display_name is not None else name,
            },
        }
        with self._lock:
            self._by_email[email.lower()] = user
            self._members.append(user)
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

    def users_list(self, args: dict[str, Any]) -> dict[str, Any]:
        """One page of members from `cursor` (opaque, as Slack's: base64 of "user:<id>"), at most `limit`."""
        try:
            limit = int(args.get("limit") or MAX_PAGE)
        except ValueError:
            raise SlackApiError("invalid_limit") from None
        limit = min(max(limit, 1), MAX_PAGE)
        with self._lock:
            members = [dict(member) for member in self._members]
        start = 0
        cursor = str(args.get("cursor") or "")
        if cursor:
            ids = [member["id"] for member in members]
            try:
                start = ids.index(base64.b64decode(cursor).decode().removeprefix("user:"))
            except (ValueError, binascii.Error):  # UnicodeDecodeError is a ValueError.
                raise SlackApiError("invalid_cursor") from None
        page = members[start : start + limit]
        rest = members[start + limit :]
        next_cursor = base64.b64encode(f"user:{rest[0]['id']}".encode()).decode() if rest else ""
        return {"members": page, "cache_ts": 0, "response_metadata": {"next_cursor": next_cursor}}
