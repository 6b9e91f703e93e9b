"""The admission rule that applies the policy at the entry gate: guests, Slack Connect outsiders and channels
the policy does not let ask are refused politely, before any listener runs."""

from __future__ import annotations

import logging

from slack_sdk import WebClient

from agent.errors import StoreError
from agent.runtime import Runtime
from agent.sessions import SessionKey
from bot.slack import messages
from bot.slack.audit_mirror import mirror_refusal
from bot.slack.gate import MESSAGE_KINDS, AdmissionRule, Refusal, SlackEntry
from bot.slack.identity import IdentityUnknown, SlackIdentity
from bot.slack.private_origin import asked_in
from bot.slack.questions import SlackQuestion
from tools.policy import Principal

log = logging.getLogger(__name__)

# Entries that carry a question (or start one); the home tab and other events are left to their listeners.
_ASKING_KINDS = MESSAGE_KINDS | {"slash_command", "button", "shortcut", "assistant_thread"}
_OVERHEARD_KINDS = frozenset({"channel_message", "thread_reply"})


def policy_admission(runtime: Runtime, identity: SlackIdentity, client: WebClient) -> AdmissionRule:
    """Refuse entries whose asker the policy does not admit, saying why in a sentence (and in the audit
    channel, when one is set)."""

    def rule(entry: SlackEntry) -> Refusal | None:
        if entry.kind not in _ASKING_KINDS or not entry.user:
            return None
        try:
            principal = asker_principal(
                identity,
                runtime,
                team_id=entry.team_id,
                channel=entry.channel,
                thread_ts=entry.thread_ts,
                user=entry.user,
                direct_message=entry.kind == "direct_message",
            )
        except IdentityUnknown as exc:
            log.warning("could not read the asker's Slack profile: %s", exc)
            return Refusal("asker unknown", messages.ASKER_UNKNOWN)
        except (
            StoreError
        ) as exc:  # Whether a DM thread keeps a channel's policy is unknown: refuse, saying why.
            return Refusal("store away", exc.message)
        access = runtime.policy.access(principal, runtime.index())
        if access.admitted:
            return None
        reason = access.refusal or "not admitted"
        if entry.kind in _OVERHEARD_KINDS:
            # Any message in a channel the app is in arrives; most are not for us, so refuse without a word.
            return Refusal(reason)
        shortcut_message = entry.body.get("message") or {}
        question = str(
            entry.event.get("text")
            or entry.body.get("text")
            or shortcut_message.get("text")
            or f"({entry.kind})"
        )
        runtime.governance.record_refusal(principal, question, reason)
        mirror_refusal(
            client,
            runtime.settings.slack_audit_channel,
            user=entry.user,
            channel=entry.channel,
            message_ts=entry.event.get("ts") or entry.thread_ts,
            question=question,
            reason=reason,
            # A DM judged by a channel's rule is a private answer's thread: named by where it was asked.
            asked_privately_from=principal.channel_id
            if entry.kind == "direct_message" and principal.kind == "slack_channel"
            else None,
        )
        if principal.is_guest:
            return Refusal(reason, messages.GUESTS_NOT_ALLOWED)
        if principal.is_external:
            return Refusal(reason, messages.EXTERNAL_NOT_ALLOWED)
        return Refusal(reason, messages.CHANNEL_NOT_ALLOWED)

    return rule


def slack_asker(identity: SlackIdentity, question: SlackQuestion, runtime: Runtime) -> Principal:
    """The principal a question's turn runs as; an asker Slack (or the store) cannot describe gets the least
    Slack access."""
    try:
        return asker_principal(
            identity,
            runtime,
            team_id=question.team_id,
            channel=question.channel,
            thread_ts=question.thread_ts,
            user=question.user,
            direct_message=question.is_direct_message,
        )
    except (IdentityUnknown, StoreError):
        return Principal("slack_channel", channel_id=question.channel)


def asker_principal(
    identity: SlackIdentity,
    runtime: Runtime,
    *,
    team_id: str,
    channel: str | None,
    thread_ts: str | None,
    user: str,
    direct_message: bool,
) -> Principal:
    """Who asks and where, for the policy: in a DM thread that answers a question asked privately in a
    channel, that channel (its rule decides what the answer may use, as the question was asked there)."""
    if direct_message and channel and thread_ts:
        origin = asked_in(runtime.sessions, SessionKey.slack_thread(team_id, channel, thread_ts), user)
        if origin is not None:
            channel, direct_message = origin, False
    return identity.principal(
        channel=channel,
        user=user,
        direct_message=direct_message,
        channel_names=runtime.policy.source is not None,
        groups=names_groups(runtime),
    )


def names_groups(runtime: Runtime) -> bool:
    """Whether any rule names a user group (only then are the asker's groups looked up)."""
    source = runtime.policy.source
    return source is not None and any(rule.match.groups for rule in source.current().rules)
