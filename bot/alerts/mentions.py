"""Owners as Slack mentions: ids and user groups as they are, emails looked up (users.lookupByEmail), cached.

An @handle cannot be looked up without reading the whole member list, so it is shown as written; an email that
Slack does not know is shown as written too (and logged), so nobody is silently dropped.
"""

from __future__ import annotations

import logging
import re
import threading

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

log = logging.getLogger(__name__)

_USER_ID = re.compile(r"^[UW][A-Z0-9]{2,}$")
_MENTION = re.compile(r"^<[@!][^>]+>$")  # <@U123>, <!subteam^S123>, <!here>
_SUBTEAM_ID = re.compile(r"^S[A-Z0-9]{2,}$")


class SlackMentions:
    """Turns owner strings into mentions; safe to share between threads."""

    def __init__(self, client: WebClient) -> None:
        self._client = client
        self._by_email: dict[str, str | None] = {}
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
        return text

    def _user_for(self, email: str) -> str | None:
        with self._lock:
            if email in self._by_email:
                return self._by_email[email]
        try:
            found = self._client.users_lookupByEmail(email=email)
            user: str | None = str((found.get("user") or {}).get("id") or "") or None
        except SlackApiError as exc:
            log.warning("no Slack user for alert owner %s (%s)", email, exc.response.get("error"))
            user = None
        with self._lock:
            self._by_email[email] = user
        return user
