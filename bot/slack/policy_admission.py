"""The admission rule that applies the policy at the entry gate: guests, Slack Connect outsiders and channels
the policy does not let ask are refused politely, before any listener runs."""

from __future__ import annotations

import logging

from slack_sdk import WebClient

from agent.runtime import Runtime
from bot.slack import messages
from bot.slack.audit_mirror import mirror_refusal
from bot.slack.gate import MESSAGE_KINDS, AdmissionRule, Refusal, SlackEntry
from bot.slack.identity import IdentityUnknown, SlackIdentity
from bot.slack.questions import SlackQuestion
from tools.policy import Principal

log = logging.getLogger(__name__)

# Entries that carry a question (or start one); the home tab and other events are left to their listeners.
_ASKING_KINDS = MESSAGE_KINDS | {"slash_command", "button", "assistant_thread"}
_OVERHEARD_KINDS = frozenset({"channel_message", "thread_reply"})


def policy_admission(runtime: Runtime, identity: SlackIdentity, client: WebClient) -> AdmissionRule:
    """Refuse entries whose asker the policy does not admit, saying why in a sentence (and in the audit
    channel, when one is set)."""

    def rule(entry: SlackEntry) -> Refusal | None:
        if entry.kind not in _ASKING_KINDS or not entry.user:
            return None
        try:
            principal = identity.principal(
                channel=entry.channel,
                user=entry.user,
                direct_message=entry.kind == "direct_message",
                channel_names=runtime.policy.source is not None,
                groups=names_groups(runtime),
            )
        except IdentityUnknown as exc:
            log.warning("could not read the asker's Slack profile: %s", exc)
            return Refusal("asker unknown", messages.ASKER_UNKNOWN)
        access = runtime.policy.access(principal, runtime.index())
        if access.admitted:
            return None
        reason = access.refusal or "not admitted"
        if entry.kind in _OVERHEARD_KINDS:
            # Any message in a channel the app is in arrives; most are not for us, so refuse without a word.
            return Refusal(reason)
        question = str(entry.event.get("text") or entry.body.get("text") or f"({entry.kind})")
        runtime.governance.record_refusal(principal, question, reason)
        mirror_refusal(
            client,
            runtime.settings.slack_audit_channel,
            user=entry.user,
            channel=entry.channel,
            message_ts=entry.event.get("ts") or entry.thread_ts,
            question=question,
            reason=reason,
        )
        if principal.is_guest:
            return Refusal(reason, messages.GUESTS_NOT_ALLOWED)
        if principal.is_external:
            return Refusal(reason, messages.EXTERNAL_NOT_ALLOWED)
        return Refusal(reason, messages.CHANNEL_NOT_ALLOWED)

    return rule


def slack_asker(identity: SlackIdentity, question: SlackQuestion, runtime: Runtime) -> Principal:
    """The principal a question's turn runs as; an asker Slack cannot describe gets the least Slack access."""
    try:
        return identity.principal(
            channel=question.channel,
            user=question.user,
            direct_message=question.is_direct_message,
            channel_names=runtime.policy.source is not None,
            groups=names_groups(runtime),
        )
    except IdentityUnknown:
        return Principal("slack_channel", channel_id=question.channel)


def names_groups(runtime: Runtime) -> bool:
    """Whether any rule names a user group (only then are the asker's groups looked up)."""
    source = runtime.policy.source
    return source is not None and any(rule.match.groups for rule in source.current().rules)
