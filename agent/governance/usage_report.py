"""`/usage`: what the asker and their channel spent today and this month, against their budgets."""

from __future__ import annotations

from datetime import datetime

from agent.governance.audit import AuditLog, Spent
from agent.governance.budgets import period_starts
from tools.byte_sizes import human_bytes
from tools.policy import Access, Principal
from tools.policy.rules import BudgetLimits


def usage_text(log: AuditLog, principal: Principal, access: Access | None, now: datetime) -> str:
    """A few lines: questions, model cost and bytes, today and this month, for the asker and the channel."""
    day, month = period_starts(now)
    lines = []
    scopes = [("You", {"user_id": principal.user_id}, access.user_budget if access else None)]
    if principal.channel_id and principal.kind == "slack_channel":
        scopes.append(
            ("This channel", {"channel_id": principal.channel_id}, access.channel_budget if access else None)
        )
    for label, key, limits in scopes:
        if not next(iter(key.values())):
            continue
        today = log.spent(since=day, **key)
        this_month = log.spent(since=month, **key)
        lines.append(
            f"{label}: today {_spent(today, limits, 'daily')}; this month {_spent(this_month, limits, 'monthly')}."
        )
    return (
        "\n".join(lines) or "No usage is recorded for the terminal; `blueprintdata usage` shows everyone's."
    )


def _spent(spent: Spent, limits: BudgetLimits | None, period: str) -> str:
    def limit(name: str) -> str:
        value = getattr(limits, f"{period}_{name}") if limits is not None else None
        if value is None:
            return ""
        return (
            f" of {human_bytes(value)}"
            if name == "bytes"
            else f" of {value:,}"
            if name == "questions"
            else f" of ${value:,.2f}"
        )

    return (
        f"{spent.questions} questions{limit('questions')}, ${spent.cost_usd:,.4f}{limit('usd')}, "
        f"{human_bytes(spent.bytes_scanned)} scanned{limit('bytes')}"
    )
