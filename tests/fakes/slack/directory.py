"""users.info and conversations.info: the people and channels of the fake workspace, as Slack describes them.

Anyone who can send an event exists in Slack, so an id no test registered is answered as a full member of the
app's workspace; tests register guests (is_restricted, is_ultra_restricted), people of another workspace (a
different team_id, as in a Slack Connect channel) and channel names.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import Any

from tests.fakes.slack.argument_checks import SlackApiError, missing_fields
from tests.fakes.slack.web_api import WebApiMethod


@dataclass(frozen=True)
class FakeUser:
    """A member as users.info shows them."""

    id: str
    team_id: str
    email: str
    is_restricted: bool = False
    is_ultra_restricted: bool = False
    is_bot: bool = False


class Directory:
    """The workspace's people and channel names; methods answer like Slack's."""

    def __init__(self, team_id: str) -> None:
        self.team_id = team_id
        self._lock = threading.Lock()
        self._users: dict[str, FakeUser] = {}
        self._channels: dict[str, tuple[str, bool]] = {}
        self._groups: dict[str, tuple[str, list[str]]] = {}

    def add_user(self, user: FakeUser) -> None:
        with self._lock:
            self._users[user.id] = user

    def add_channel(self, channel_id: str, name: str, *, shared_externally: bool = False) -> None:
        with self._lock:
            self._channels[channel_id] = (name, shared_externally)

    def add_group(self, group_id: str, handle: str, users: list[str]) -> None:
        with self._lock:
            self._groups[group_id] = (handle, list(users))

    def table(self) -> dict[str, WebApiMethod]:
        return {
            "users.info": self.users_info,
            "conversations.info": self.conversations_info,
            "usergroups.list": self.usergroups_list,
        }

    def usergroups_list(self, args: dict[str, Any]) -> dict[str, Any]:
        with_users = str(args.get("include_users", "")).lower() in {"1", "true"}
        with self._lock:
            groups = [
                {"id": group_id, "team_id": self.team_id, "handle": handle, "name": handle, "is_usergroup": True,
                 **({"users": users} if with_users else {})}
                for group_id, (handle, users) in self._groups.items()
            ]  # fmt: skip
        return {"usergroups": groups}

    def users_info(self, args: dict[str, Any]) -> dict[str, Any]:
        user_id = str(args.get("user") or "")
        if not user_id:
            raise missing_fields("user")
        if not user_id.startswith(("U", "W")):
            raise SlackApiError("user_not_found")
        with self._lock:
            user = self._users.get(user_id) or FakeUser(
                user_id, self.team_id, f"{user_id.lower()}@example.com"
            )
        return {
            "user": {
                "id": user.id,
                "team_id": user.team_id,
                "name": user.email.split("@")[0],
                "deleted": False,
                "is_bot": user.is_bot,
                "is_restricted": user.is_restricted,
                "is_ultra_restricted": user.is_ultra_restricted,
                "profile": {"email": user.email, "team": user.team_id},
            }
        }

    def conversations_info(self, args: dict[str, Any]) -> dict[str, Any]:
        channel = str(args.get("channel") or "")
        if not channel:
            raise missing_fields("channel")
        with self._lock:
            name, shared = self._channels.get(channel, (channel.lower(), False))
        is_im = channel.startswith("D")
        return {
            "channel": {
                "id": channel,
                "name": None if is_im else name,
                "is_im": is_im,
                "is_channel": channel.startswith("C"),
                "is_private": channel.startswith("G"),
                "is_ext_shared": shared,
                "is_shared": shared,
            }
        }
