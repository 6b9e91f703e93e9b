"""Governance around each turn: budgets checked before every model call and query, and one audit row per turn
with its tools, SQL, bytes, rows, tokens, cost, outcome and the policy's decisions."""

from __future__ import annotations

import logging
from collections.abc import Callable
from contextvars import ContextVar
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

from agent.clock import utc_now
from agent.events import AgentEvent, EventSink, ToolFinished, TurnFailed, TurnFinished, TurnStarted
from agent.governance.audit import AuditEntry, AuditLog, Outcome
from agent.governance.budgets import BudgetExceeded, TurnSpending, check_budgets
from agent.governance.usage_report import usage_text
from agent.usage import Usage
from tools.errors import BlueprintError
from tools.policy import Access, Principal, ToolPolicy

if TYPE_CHECKING:
    from agent.loop import TurnOutcome

log = logging.getLogger(__name__)


@dataclass
class _Turn:
    principal: Principal
    access: Access | None
    usage: Usage = field(default_factory=Usage)
    bytes_scanned: int = 0
    asked: bool = False
    policies: list[ToolPolicy] = field(default_factory=list)
    events: list[AgentEvent] = field(default_factory=list)


_current: ContextVar[_Turn | None] = ContextVar("blueprintdata_turn", default=None)


class TurnGovernance:
    """Runs each turn under its asker's budgets and writes its audit row."""

    def __init__(
        self,
        audit: AuditLog,
        *,
        asker: Callable[[str | None], Principal],
        access: Callable[[Principal], Access | None],
    ) -> None:
        self.audit = audit
        self._asker = asker
        self._access = access

    def run_turn(
        self,
        session_id: str,
        text: str,
        sink: EventSink,
        handle: Callable[[EventSink], TurnOutcome],
        *,
        fail: Callable[[BlueprintError], TurnOutcome],
    ) -> TurnOutcome:
        """Run `handle` as one governed turn; its audit row is written whatever outcome `handle` returns.

        Who asks, their access and /usage's figures are read from the store before `handle` runs: when it is
        away, the turn ends with `fail` (the caller's own failure ending), as it does for a BlueprintError that
        escapes `handle` (a drill-down whose lease was lost)."""
        try:
            principal = self._asker(session_id)
            turn = _Turn(principal, self._access(principal))
            if text.strip().lower() == "/usage":
                return self._usage(session_id, text, sink, turn)
            outcome = self._governed(turn, sink, handle)
        except BlueprintError as exc:
            return fail(exc)
        self._record(session_id, text, turn)
        refusals = _refusals(turn)
        return replace(outcome, refusals=refusals) if refusals else outcome

    def _governed(
        self, turn: _Turn, sink: EventSink, handle: Callable[[EventSink], TurnOutcome]
    ) -> TurnOutcome:
        """`handle` with `turn` current (its budgets checked, its policies tied) and its events observed."""

        def observe(event: AgentEvent) -> None:
            turn.events.append(event)
            if isinstance(event, ToolFinished):
                # Every query of the turn counts towards the next check: the model's tools and a drill-down's.
                turn.bytes_scanned += event.bytes_scanned or 0
            sink(event)

        token = _current.set(turn)
        try:
            return handle(observe)
        finally:
            _current.reset(token)

    def _usage(self, session_id: str, text: str, sink: EventSink, turn: _Turn) -> TurnOutcome:
        from agent.loop import TurnOutcome  # The loop imports this module.

        answer = usage_text(self.audit, turn.principal, turn.access, utc_now())
        sink(TurnStarted(session_id=session_id, text=text))
        sink(TurnFinished(session_id=session_id, text=answer))
        return TurnOutcome(session_id, True, answer, Usage())

    def turn_principal(self) -> Principal | None:
        """Who asks the turn running in this context (resolved once when it began); None outside a turn."""
        turn = _current.get()
        return turn.principal if turn is not None else None

    def attach(self, policy: ToolPolicy) -> None:
        """Tie a turn's ToolPolicy to it: its decisions are audited, its queries checked against budgets."""
        turn = _current.get()
        if turn is not None:
            turn.policies.append(policy)
            policy.before_query = self.before_query

    def before_model_call(self, usage_so_far: Usage) -> None:
        """Raise BudgetExceeded before a model call the asker's or channel's budget cannot pay for."""
        turn = _current.get()
        if turn is None:
            return
        turn.usage = usage_so_far
        self._check(turn)

    def before_query(self, estimate_bytes: Callable[[], int | None]) -> None:
        """Raise BudgetExceeded before a query a budget cannot pay for (its bytes estimated only if one counts them)."""
        turn = _current.get()
        if turn is None or turn.access is None:
            return
        budgets = [b for b in (turn.access.user_budget, turn.access.channel_budget) if b is not None]
        counts_bytes = any(b.daily_bytes is not None or b.monthly_bytes is not None for b in budgets)
        self._check(turn, extra_bytes=(estimate_bytes() or 0) if counts_bytes else 0)

    def record_refusal(self, principal: Principal, question: str, reason: str) -> None:
        """A question refused before any turn (at Slack's door): recorded like a turn."""
        self.audit.record(AuditEntry(principal, question, "refused", detail=reason))

    def _check(self, turn: _Turn, *, extra_bytes: int = 0) -> None:
        access = turn.access
        if access is None or (access.user_budget is None and access.channel_budget is None):
            return
        spending = TurnSpending(turn.usage.cost_usd, turn.bytes_scanned + extra_bytes)
        check_budgets(self.audit, access, spending, now=utc_now(), counting_this_question=not turn.asked)
        turn.asked = True

    def _record(self, session_id: str, text: str, turn: _Turn) -> None:
        tools: list[dict[str, Any]] = []
        for event in turn.events:
            if isinstance(event, ToolFinished):
                tools.append(
                    {"tool": event.tool, "sql": event.sql, "rows": event.rows, "bytes": event.bytes_scanned,
                     "is_error": event.is_error, "summary": event.summary[:500]}
                )  # fmt: skip
        finished = next((e for e in turn.events if isinstance(e, TurnFinished)), None)
        failed = next((e for e in turn.events if isinstance(e, TurnFailed)), None)
        usage = finished.usage if finished is not None else turn.usage
        outcome: Outcome = "answered" if finished is not None else "failed"
        if failed is not None and failed.error_kind == BudgetExceeded.__name__:
            outcome = "refused"
        decisions = [
            {"outcome": d.outcome, "subject": d.subject, "detail": d.detail}
            for policy in turn.policies
            for d in policy.decisions
        ]
        entry = AuditEntry(
            turn.principal,
            text,
            outcome,
            session_id=session_id,
            detail=failed.message if failed is not None else None,
            input_tokens=usage.input_tokens,
            output_tokens=usage.output_tokens,
            cost_usd=usage.cost_usd,
            bytes_scanned=sum(tool["bytes"] or 0 for tool in tools),
            rows_returned=sum(tool["rows"] or 0 for tool in tools),
            tools=tools,
            decisions=decisions,
        )
        try:
            self.audit.record(entry)
        except (
            Exception
        ):  # The answer was given; a failed audit write is logged, never shown as a failed turn.
            log.exception("could not write the audit row of session %s", session_id)


def _refusals(turn: _Turn) -> tuple[str, ...]:
    """What was refused during the turn and why: a spent budget, and each refusal of the policy."""
    failed = next((e for e in turn.events if isinstance(e, TurnFailed)), None)
    reasons = [failed.message] if failed is not None and failed.error_kind == BudgetExceeded.__name__ else []
    reasons += [d.detail or d.subject for p in turn.policies for d in p.decisions if d.outcome == "refused"]
    return tuple(dict.fromkeys(reasons))
