"""Owners as Slack mentions: ids and user groups as they are, emails looked up (users.lookupByEmail) and @handles
found in the member list (users.list), both cached.

A handle matches a member whose `name`, `profile.display_name` or `profile.real_name` it equals, ignoring case
and deactivated members and bots. A handle that matches nobody, or more than one person, and an email Slack does
not know are shown as written (and logged once each), so nobody is silently dropped or wrongly tagged.
"""

from __future__ import annotations

import logging
import re
import threading
import time
from collections.abc import Iterator
from typing import Any

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

log = logging.getLogger(__name__)

_USER_ID = re.compile(r"^[UW][A-Z0-9]{2,}$")
_MENTION = re.compile(r"^<[@!][^>]+>$")  # <@U123>, <!subteam^S123>, <!here>
_SUBTEAM_ID = re.compile(r"^S[A-Z0-9]{2,}$")
# Slack's advice for users.list: pages of at most 200 members.
_PAGE = 200
# The member list is read again after this long, so that a new colleague's handle resolves within the hour.
_DIRECTORY_SECONDS = 3600.0


class SlackMentions:
    """Turns owner strings into mentions; safe to share between threads."""

    def __init__(self, client: WebClient, *, clock: Any = time.monotonic) -> None:
        self._client = client
        self._clock = clock
        self._by_email: dict[str, str | None] = {}
        self._by_handle: dict[str, set[str]] | None = None
        self._read_at = 0.0
        self._told: set[str] = set()  # Owners already logged as unresolved.
        self._lock = threading.Lock()

    def mentions(self, owners: list[str]) -> list[str]:
        return list(dict.fromkeys(self.mention(owner) for owner in owners if owner.strip()))

    def mention(self, owner: str) -> str:
        text = owner.strip()
        if _MENTION.match(text):
            return text
        if _USER_ID.match(text):
            return f"<@{text}>"
        if _SUBTEAM_ID.match(text):
            return f"<!subteam^{text}>"
        if "@" in text and not text.startswith("@"):
            user = self._user_for(text.lower())
            return f"<@{user}>" if user else text
        if text.startswith("@") and len(text) > 1:
            user = self._user_for_handle(text)
            return f"<@{user}>" if user else text
        return text

    def _user_for(self, email: str) -> str | None:
        with self._lock:
            if email in self._by_email:
                return self._by_email[email]
        try:
            found = self._client.users_lookupByEmail(email=email)
            user: str | None = str((found.get("user") or {}).get("id") or "") or None
        except SlackApiError as exc:
            self._tell(email, f"no Slack user for alert owner {email} ({exc.response.get('error')})")
            user = None
        with self._lock:
            self._by_email[email] = user
        return user

    def _user_for_handle(self, handle: str) -> str | None:
        key = handle.removeprefix("@").strip().lower()
        with self._lock:  # Held while the list is read: one thread reads it, the others wait for it.
            if self._by_handle is None or self._clock() - self._read_at > _DIRECTORY_SECONDS:
                self._by_handle = self._read_directory()
                self._read_at = self._clock()
            users = self._by_handle.get(key, set())
        if len(users) == 1:
            return next(iter(users))
        problem = "matches nobody" if not users else f"matches {len(users)} people"
        self._tell(handle, f"alert owner {handle} {problem} in Slack; shown as written")
        return None

    def _read_directory(self) -> dict[str, set[str]]:
        """Every active person's names (lower-cased) to their user ids; empty when Slack refuses the list."""
        by_handle: dict[str, set[str]] = {}
        try:
            for member in self._members():
                if member.get("deleted") or member.get("is_bot"):
                    continue
                profile = member.get("profile") or {}
                names = (member.get("name"), profile.get("display_name"), profile.get("real_name"))
                for name in {str(name).strip().lower() for name in names if name}:
                    by_handle.setdefault(name, set()).add(str(member["id"]))
        except SlackApiError as exc:
            self._tell("users.list", f"cannot read Slack's member list ({exc.response.get('error')})")
        return by_handle

    def _members(self) -> Iterator[dict[str, Any]]:
        cursor = ""
        while True:
            page = self._client.users_list(limit=_PAGE, cursor=cursor or None)
            yield from page.get("members") or []
            cursor = str((page.get("response_metadata") or {}).get("next_cursor") or "")
            if not cursor:
                return

    def _tell(self, owner: str, message: str) -> None:
        """Log a problem with an owner once per process, not on every post and edit."""
        if owner in self._told:
            return
        self._told.add(owner)
        log.warning("%s", message)
