"""Who is asking in Slack: the asker's profile (users.info) and the channel's name (conversations.info), cached,
as the policy's Principal.

Guests are `is_restricted` or `is_ultra_restricted`; a person whose `team_id` is not the app's workspace is
from another company, in a Slack Connect channel. Profiles are cached for a few minutes so that a busy channel
costs one users.info per person, not per message.
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass
from typing import Any

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from tools.policy import Principal

log = logging.getLogger(__name__)

_PROFILE_SECONDS = 600.0


@dataclass(frozen=True)
class SlackProfile:
    """What users.info says about a person that the policy uses."""

    user_id: str
    team_id: str | None
    email: str | None
    is_guest: bool


class IdentityUnknown(Exception):
    """Slack would not say who the asker is; the question is refused rather than answered as someone else."""


class SlackIdentity:
    """Profiles and channel names by id, each cached for ten minutes; one per Slack client."""

    def __init__(self, client: WebClient, *, ttl_seconds: float = _PROFILE_SECONDS) -> None:
        self._client = client
        self._ttl = ttl_seconds
        self._lock = threading.Lock()
        self._cache: dict[tuple[str, str], tuple[float, Any]] = {}
        self._home_team: str | None = None

    def principal(
        self,
        *,
        channel: str | None,
        user: str,
        direct_message: bool,
        channel_names: bool = True,
        groups: bool = False,
    ) -> Principal:
        """The asker and place of one question; IdentityUnknown when Slack does not answer.

        `channel_names` False skips conversations.info where no rule can name a channel (no policy file).
        """
        profile = self.profile(user)
        home = self.home_team()
        is_dm = direct_message or (channel or "").startswith("D")
        return Principal(
            "direct_message" if is_dm else "slack_channel",
            user_id=user,
            email=profile.email,
            channel_id=channel,
            channel_name=None
            if is_dm or channel is None or not channel_names
            else self.channel_name(channel),
            team_id=profile.team_id,
            groups=self.groups_of(user) if groups else frozenset(),
            is_guest=profile.is_guest,
            is_external=profile.team_id is not None and home is not None and profile.team_id != home,
        )

    def profile(self, user: str) -> SlackProfile:
        found = self._cached("user", user, lambda: self._client.users_info(user=user)["user"])
        return SlackProfile(
            user_id=user,
            team_id=found.get("team_id"),
            email=(found.get("profile") or {}).get("email"),
            is_guest=bool(found.get("is_restricted") or found.get("is_ultra_restricted")),
        )

    def channel_name(self, channel: str) -> str | None:
        found = self._cached(
            "channel", channel, lambda: self._client.conversations_info(channel=channel)["channel"]
        )
        name = found.get("name")
        return str(name) if name else None

    def groups_of(self, user: str) -> frozenset[str]:
        """Ids and @handles of the user groups `user` belongs to; none when Slack will not say (a missing scope)."""
        try:
            listing = self._cached(
                "usergroups", "", lambda: self._client.usergroups_list(include_users=True).data
            )
        except IdentityUnknown as exc:
            log.warning("user groups unknown, group rules will not match: %s", exc)
            return frozenset()
        found: set[str] = set()
        for group in listing.get("usergroups") or []:
            if user in (group.get("users") or []):
                found |= {str(group.get("id")), "@" + str(group.get("handle") or "")}
        return frozenset(found)

    def home_team(self) -> str | None:
        """The workspace the app is installed in (auth.test), asked once."""
        if self._home_team is None:
            try:
                self._home_team = str(self._client.auth_test()["team_id"])
            except SlackApiError as exc:
                raise IdentityUnknown(str(exc.response.get("error"))) from None
        return self._home_team

    def _cached(self, kind: str, key: str, fetch: Any) -> dict[str, Any]:
        now = time.monotonic()
        with self._lock:
            hit = self._cache.get((kind, key))
            if hit is not None and now - hit[0] < self._ttl:
                return dict(hit[1])
        try:
            value = dict(fetch())
        except SlackApiError as exc:
            raise IdentityUnknown(str(exc.response.get("error"))) from None
        with self._lock:
            self._cache[(kind, key)] = (now, value)
        return value
