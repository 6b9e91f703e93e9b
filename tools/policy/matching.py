"""Which rules of a policy apply to a principal, and how specific each match is."""

from __future__ import annotations

from dataclasses import dataclass

from tools.policy.principal import Principal
from tools.policy.rules import Rule

# Specificity of a match: who asks (a user beats a user group) and where (a channel, a DM, the terminal, an
# alert); `everyone` rules are the base both narrow.
USER, GROUP, PLACE, EVERYONE = 3, 2, 1, 0


@dataclass(frozen=True)
class MatchedRule:
    """A rule that applies, with how it matched: by who asks (`USER`, `GROUP`), `PLACE` or `EVERYONE`."""

    rule: Rule
    level: int


def matching_rules(rules: list[Rule], principal: Principal) -> list[MatchedRule]:
    """Every rule that applies to `principal`, once each, at its most specific match."""
    matched = []
    for rule in rules:
        level = _level(rule, principal)
        if level is not None:
            matched.append(MatchedRule(rule, level))
    return matched


def _level(rule: Rule, principal: Principal) -> int | None:
    match = rule.match
    if principal.user_id or principal.email:
        wanted = {name.lower() for name in match.users}
        if (principal.user_id or "").lower() in wanted or (principal.email or "").lower() in wanted:
            return USER
    groups = {group.lower() for group in principal.groups}
    if any(name.lower().lstrip("@") in groups or name.lower() in groups for name in match.groups):
        return GROUP
    if _place_matches(rule, principal):
        return PLACE
    return EVERYONE if match.everyone else None


def _place_matches(rule: Rule, principal: Principal) -> bool:
    match = rule.match
    if principal.kind == "slack_channel":
        channel_id = (principal.channel_id or "").lower()
        channel_name = "#" + (principal.channel_name or "").lower().lstrip("#")
        return any(name.lower() in {channel_id, channel_name} for name in match.channels)
    if principal.kind == "direct_message":
        return match.direct_messages
    if principal.kind == "terminal":
        return match.terminal
    return principal.kind == "alert" and match.alerts


def names_slack_place(rules: list[Rule], principal: Principal) -> bool:
    """True when some rule names where a Slack question comes from (its channel, or DMs), or everyone."""
    return any(_place_matches(rule, principal) or rule.match.everyone for rule in rules)
