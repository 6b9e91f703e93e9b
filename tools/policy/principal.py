"""Who is asking, and from where: what a policy rule matches on and what a row filter may quote."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

# Where a question comes from; a later front door adds its own kind here.
PrincipalKind = Literal["slack_channel", "direct_message", "terminal", "alert"]


@dataclass(frozen=True)
class Principal:
    """The asker and the place the answer is shown; Slack fields are None elsewhere."""

    kind: PrincipalKind
    user_id: str | None = None
    email: str | None = None
    groups: frozenset[str] = field(default_factory=frozenset)
    channel_id: str | None = None
    channel_name: str | None = None
    team_id: str | None = None
    # A guest account (Slack's is_restricted or is_ultra_restricted).
    is_guest: bool = False
    # A member of another workspace, asking in a Slack Connect channel.
    is_external: bool = False

    @classmethod
    def terminal(cls) -> Principal:
        return cls("terminal")

    @classmethod
    def alert(cls, name: str | None = None) -> Principal:
        return cls("alert", user_id=name)

    @property
    def is_slack(self) -> bool:
        return self.kind in {"slack_channel", "direct_message"}

    def attributes(self) -> dict[str, str]:
        """The values a row filter may quote as {name}; an absent one is the empty string, which matches nothing."""
        return {
            "email": self.email or "",
            "slack_user_id": self.user_id or "",
            "user_id": self.user_id or "",
            "channel_id": self.channel_id or "",
            "channel_name": self.channel_name or "",
            "team_id": self.team_id or "",
        }

    def describe(self) -> str:
        """One line for audit records and refusals: `U123 (ann@x.com) in #finance`."""
        who = self.user_id or self.kind
        if self.email:
            who += f" ({self.email})"
        where = {"direct_message": " in a DM", "terminal": " at the terminal", "alert": " (scheduled alert)"}
        if self.kind == "slack_channel":
            return f"{who} in #{self.channel_name or self.channel_id}"
        return who + where.get(self.kind, "")
