"""Budgets: what a user or a channel may still spend today and this month, checked before each model call and
each query; a spent budget stops the turn with a message that names it and when it resets."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from agent.governance.audit import AuditLog, Spent
from tools.byte_sizes import human_bytes
from tools.errors import BlueprintError
from tools.policy.access import Access
from tools.policy.rules import BudgetLimits


class BudgetExceeded(BlueprintError):
    """A budget is spent; the message says which and when it resets."""


@dataclass(frozen=True)
class TurnSpending:
    """What the current turn has spent so far, on top of what the log holds."""

    cost_usd: float = 0.0
    bytes_scanned: int = 0


def period_starts(now: datetime) -> tuple[datetime, datetime]:
    """The start of the UTC day and of the UTC month containing `now`."""
    day = now.astimezone(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    return day, day.replace(day=1)


def check_budgets(
    log: AuditLog, access: Access, turn: TurnSpending, *, now: datetime, counting_this_question: bool
) -> None:
    """Raise BudgetExceeded when the asker's or the channel's budget is spent.

    `counting_this_question` is True at the start of a turn: the question about to be asked must fit too.
    """
    principal = access.principal
    for scope, limits, key in (
        ("your", access.user_budget, {"user_id": principal.user_id}),
        ("this channel's", access.channel_budget, {"channel_id": principal.channel_id}),
    ):
        if limits is None or not next(iter(key.values())):
            continue
        day, month = period_starts(now)
        for period, since in (("daily", day), ("monthly", month)):
            spent = log.spent(since=since, **key)
            problem = _over(limits, period, spent, turn, counting_this_question)
            if problem:
                raise BudgetExceeded(f"{scope.capitalize()} {period} {problem} {_resets(period, now)}.")


def _over(
    limits: BudgetLimits, period: str, spent: Spent, turn: TurnSpending, new_question: bool
) -> str | None:
    usd = limits.daily_usd if period == "daily" else limits.monthly_usd
    scanned = limits.daily_bytes if period == "daily" else limits.monthly_bytes
    questions = limits.daily_questions if period == "daily" else limits.monthly_questions
    if usd is not None and spent.cost_usd + turn.cost_usd >= usd:
        return (
            f"model budget of ${usd:,.2f} is spent (${spent.cost_usd + turn.cost_usd:,.2f} used); it resets"
        )
    if scanned is not None and spent.bytes_scanned + turn.bytes_scanned >= scanned:
        used = human_bytes(spent.bytes_scanned + turn.bytes_scanned)
        return f"warehouse budget of {human_bytes(scanned)} scanned is spent ({used} used); it resets"
    if questions is not None and new_question and spent.questions >= questions:
        return f"limit of {questions} questions is reached; it resets"
    return None


def _resets(period: str, now: datetime) -> str:
    day, month = period_starts(now)
    if period == "daily":
        next_day = day + timedelta(days=1)
        hours = max(1, round((next_day - now).total_seconds() / 3600))
        return f"at 00:00 UTC (in about {hours} h)"
    next_month = (month + timedelta(days=32)).replace(day=1)
    return f"on {next_month:%-d %B} 00:00 UTC"
